import type { Metric } from '../../modules/metric';
import type { AlarmSpec, Watched } from './catalogue';

/** Memcached, per node: one expression over every node. None without a cache. */
export function cacheAlarms({ cache, concurrencyCeiling }: Watched): AlarmSpec[] {
  if (!cache) return [];
  const ids = Array.from({ length: cache.numCacheNodes }, (_, i) => `node${i + 1}`);
  const perNode = (metrics: Metric[]) => Object.fromEntries(metrics.map((m, i) => [ids[i], m]));
  const connectionCeiling = (concurrencyCeiling ?? 1000) + 50;
  return [
    {
      id: 'cache-cpu',
      description: 'A memcached node above 90% CPU for 15 minutes. Check CurrConnections and GetHits per node; consider a larger node type.',
      // 90%: AWS's Recommended alarms (ElastiCache CPUUtilization for memcached).
      metrics: perNode(cache.metricPerNode('CPUUtilization', 'Average', { periodSeconds: 300 })),
      expression: `MAX([${ids.join(', ')}])`,
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      evaluationPeriods: 3,
      treatMissingData: 'ignore',
    },
    {
      id: 'cache-evictions',
      description: 'Memcached evicted more than 100 unexpired items in 5 minutes, twice in 15: memory is full. The hits listing is one small key, so something else is filling the cache.',
      // Reasoning: the function stores one listing of at most 100 rows; evictions at all mean another writer.
      metrics: perNode(cache.metricPerNode('Evictions', 'Sum', { periodSeconds: 300 })),
      expression: `SUM([${ids.map((id) => `FILL(${id}, 0)`).join(', ')}])`,
      comparison: 'GreaterThanThreshold',
      threshold: 100,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'cache-connections',
      description: `A memcached node holds more than ${connectionCeiling} connections for 3 of 5 minutes: more than one per function environment, so connections leak. Check the function's "cache call failed" lines.`,
      // Reasoning: each execution environment opens one connection per node; the ceiling is the function's concurrency (1000 when unknown) plus 50 for restarts.
      metrics: perNode(cache.metricPerNode('CurrConnections', 'Maximum')),
      expression: `MAX([${ids.join(', ')}])`,
      comparison: 'GreaterThanThreshold',
      threshold: connectionCeiling,
      datapointsToAlarm: 3,
      treatMissingData: 'ignore',
    },
  ];
}
