import { INSTANCE_MEMORY_GIB } from '../../modules/mysql-database';
import { GIB, type AlarmSpec, type Watched } from './catalogue';

/** RDS for MySQL's default `max_connections` is {DBInstanceClassMemory/12582880} (RDS User Guide, "Maximum MySQL connections"). */
export const MYSQL_BYTES_PER_CONNECTION = 12582880;
/**
 * The least share of a class's nominal memory that `DBInstanceClassMemory` leaves: RDS subtracts what the
 * OS and its own processes keep, so a db.t4g.micro (1 GiB, 85 connections by nominal memory) allows
 * about 60-66, i.e. 0.71-0.78 of nominal. Larger classes keep a smaller share back, so 0.7 stays below.
 * Used only while the proxy publishes no `MaxDatabaseConnectionsAllowed` (before its first connection).
 */
export const CONSERVATIVE_CLASS_MEMORY_SHARE = 0.7;
/** The database connections alarm fires above this share of max_connections. */
export const DB_CONNECTIONS_ALARM_PERCENT = 80;

/**
 * A conservative `MaxDatabaseConnectionsAllowed` for `instanceClass` behind a proxy allowed `maxConnectionsPercent`:
 * what the alarm assumes while the proxy publishes nothing. Undefined for a class whose memory is not listed.
 */
export function conservativeAllowedConnections(instanceClass: string, maxConnectionsPercent: number): number | undefined {
  const gib = INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined) return undefined;
  const maxConnections = Math.floor((CONSERVATIVE_CLASS_MEMORY_SHARE * gib * GIB) / MYSQL_BYTES_PER_CONNECTION);
  return Math.max(1, Math.floor((maxConnections * maxConnectionsPercent) / 100));
}

/** RDS for MySQL. Gauges RDS publishes every minute: a reporting gap keeps the alarm's state (ignore). */
export function databaseAlarms({ database, proxy, proxyMaxConnectionsPercent: pct }: Watched): AlarmSpec[] {
  const alarms: AlarmSpec[] = [
    {
      id: 'db-cpu',
      description: 'Database CPU above 90% for 15 minutes. Check slow queries (/aws/rds/instance/<id>/slowquery) and Performance Insights where enabled.',
      // 90% over 15 minutes: AWS's Recommended alarms (RDS CPUUtilization).
      metrics: { cpu: database.metricCpuUtilization({ periodSeconds: 300 }) },
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      evaluationPeriods: 3,
      treatMissingData: 'ignore',
    },
    {
      id: 'db-free-storage',
      description: `Free database storage below 10% of the allocated ${database.allocatedStorageGb} GiB. Check that the prune runs (PrunedRows on the dashboard), then storage autoscaling's ceiling.`,
      // Reasoning: storage autoscaling itself starts at 10% free; still being there 5 minutes later means the ceiling is reached or growth outruns it.
      metrics: { free: database.metricFreeStorageSpace({ periodSeconds: 300 }) },
      comparison: 'LessThanThreshold',
      threshold: 0.1 * database.allocatedStorageGb * GIB,
      evaluationPeriods: 1,
      treatMissingData: 'ignore',
    },
  ];
  const memoryGib = INSTANCE_MEMORY_GIB[database.instanceClass];
  if (memoryGib !== undefined) {
    alarms.push({
      id: 'db-freeable-memory',
      description: `Freeable database memory below 10% of the ${database.instanceClass}'s ${memoryGib} GiB for 15 minutes: the instance is about to swap. Check connections and the buffer pool size.`,
      // Reasoning: RDS gives InnoDB's buffer pool ~3/4 of memory; under 10% left, connections and sorts push it into swap.
      metrics: { freeable: database.metricFreeableMemory({ periodSeconds: 300 }) },
      comparison: 'LessThanThreshold',
      threshold: 0.1 * memoryGib * GIB,
      evaluationPeriods: 3,
      treatMissingData: 'ignore',
    });
  }
  // max_connections is not a metric, and the class's nominal memory overstates it (see
  // CONSERVATIVE_CLASS_MEMORY_SHARE). The proxy publishes MaxDatabaseConnectionsAllowed = max_connections x
  // pct / 100, so connections / max_connections = connections x pct / allowed, whatever the real memory is.
  const fallback = conservativeAllowedConnections(database.instanceClass, pct);
  const allowed = fallback === undefined ? 'allowed' : `FILL(allowed, ${fallback})`;
  alarms.push({
    id: 'db-connections',
    description: `Database connections above ${DB_CONNECTIONS_ALARM_PERCENT}% of max_connections (read from the proxy's MaxDatabaseConnectionsAllowed, which is ${pct}% of it) for 3 of 5 minutes. Behind the proxy they are its pool: check for connections that bypass the proxy.`,
    metrics: {
      // Sum, as the proxy's metric must be (published per proxy node). RDS publishes the instance's gauge
      // once a minute, so its Sum over 60 s is that one reading.
      connections: database.metricDatabaseConnections({ statistic: 'Sum' }),
      allowed: proxy.metricMaxDatabaseConnectionsAllowed(),
    },
    // Reasoning: the proxy may use pct% of max_connections; at 80% of it little is left for anything else.
    expression: `IF(${allowed} > 0, ${pct} * connections / ${allowed}, 0)`,
    comparison: 'GreaterThanThreshold',
    threshold: DB_CONNECTIONS_ALARM_PERCENT,
    datapointsToAlarm: 3,
    treatMissingData: 'ignore',
  });
  return alarms;
}
