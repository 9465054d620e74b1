import type { DashboardRow } from '../../modules/dashboard';
import { PRUNE_PERIOD_SECONDS } from '../prune-job';
import { API_LATENCY_ALARM_MS } from './api-alarms';
import type { Watched } from './catalogue';

/** The dashboard, top to bottom the way a request travels: API, Lambda, the function's own metrics, proxy, database, cache, prune. */
export function dashboardRows({ api, hits, proxy, database, cache, prune, concurrencyCeiling }: Watched): DashboardRow[] {
  const pruneFn = prune.function;
  const period = { periodSeconds: PRUNE_PERIOD_SECONDS };
  return [
    {
      title: 'API (HTTP API)',
      graphs: [
        { title: 'Requests and errors', metrics: [api.metricCount(), api.metricClientErrors(), api.metricServerErrors()] },
        { title: 'Latency (ms)', metrics: [api.metricLatency({ statistic: 'p50', label: 'p50' }), api.metricLatency({ label: 'p99' }), api.metricIntegrationLatency({ label: 'integration p99' })], annotations: [{ label: 'alarm', value: API_LATENCY_ALARM_MS }] },
      ],
    },
    {
      title: 'Lambda: hits function',
      graphs: [
        { title: 'Invocations, errors, throttles', metrics: [hits.metricInvocations(), hits.metricErrors(), hits.metricThrottles()] },
        { title: 'Duration (ms)', metrics: [hits.metricDuration({ statistic: 'p50', label: 'p50' }), hits.metricDuration({ label: 'p99' })], annotations: [{ label: 'timeout', value: hits.timeoutSeconds * 1000 }] },
        { title: 'Concurrent executions', metrics: [hits.metricConcurrentExecutions()], annotations: concurrencyCeiling === undefined ? [] : [{ label: 'ceiling', value: concurrencyCeiling }] },
      ],
    },
    {
      title: 'Function metrics (EMF)',
      graphs: [
        { title: 'Requests; database unavailable by reason', metrics: [hits.metricApp('Requests', 'Sum'), hits.metricApp('DbUnavailableSaturated', 'Sum'), hits.metricApp('DbUnavailableUnreachable', 'Sum'), hits.metricApp('DbUnavailableDeadline', 'Sum')] },
        { title: 'Latency and database time (ms)', metrics: [hits.metricApp('Latency', 'p99', { label: 'latency p99' }), hits.metricApp('DbTime', 'p99', { label: 'database p99' }), hits.metricApp('DbTime', 'p50', { label: 'database p50' })] },
        ...(cache ? [{ title: 'Cache: hit, miss, bypass', metrics: [hits.metricApp('CacheHit', 'Sum'), hits.metricApp('CacheMiss', 'Sum'), hits.metricApp('CacheBypass', 'Sum')] }] : []),
      ],
    },
    {
      title: 'RDS Proxy',
      graphs: [
        { title: 'Client vs database connections', metrics: [proxy.metricClientConnections(), proxy.metricDatabaseConnections(), proxy.metricMaxDatabaseConnectionsAllowed()] },
        { title: 'Borrow and query latency (µs)', metrics: [proxy.metricDatabaseConnectionsBorrowLatency(), proxy.metricQueryDatabaseResponseLatency()] },
        { title: 'Failed logins; availability (%)', metrics: [proxy.metricClientConnectionsSetupFailedAuth(), proxy.metricAvailability()] },
      ],
    },
    {
      title: 'RDS for MySQL',
      graphs: [
        { title: 'CPU (%)', metrics: [database.metricCpuUtilization()], annotations: [{ label: 'alarm', value: 90 }] },
        { title: 'Freeable memory (bytes)', metrics: [database.metricFreeableMemory()] },
        { title: 'Free storage (bytes)', metrics: [database.metricFreeStorageSpace()] },
        { title: 'Connections', metrics: [database.metricDatabaseConnections()] },
      ],
    },
    ...(cache
      ? [
          {
            title: 'ElastiCache memcached',
            graphs: [
              { title: 'CPU per node (%)', metrics: cache.metricPerNode('CPUUtilization', 'Average') },
              { title: 'Evictions per node', metrics: cache.metricPerNode('Evictions', 'Sum') },
              { title: 'Connections per node', metrics: cache.metricPerNode('CurrConnections', 'Maximum') },
            ],
          },
        ]
      : []),
    {
      title: `Prune (retention ${prune.retentionDays} days)`,
      graphs: [
        { title: 'Rows pruned, batches', metrics: [pruneFn.metricApp('PrunedRows', 'Sum', period), pruneFn.metricApp('PruneBatches', 'Sum', period)] },
        { title: 'Runs and errors', metrics: [pruneFn.metricInvocations(period), pruneFn.metricErrors(period)] },
      ],
    },
  ];
}
