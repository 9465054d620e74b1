import type { AlarmSpec, Watched } from './catalogue';

/** RDS Proxy: logins, waiting for a pooled connection, the pool's fill, the target's availability. */
export function proxyAlarms({ proxy }: Watched): AlarmSpec[] {
  return [
    {
      id: 'proxy-auth-failures',
      description: 'RDS Proxy refused client logins every minute for 3 minutes: the IAM token, the rds-db:connect grant or the database user is wrong. Check the proxy log group and the function\'s "database refused the credentials" lines.',
      // Reasoning: the function retries a refused login once with a fresh token, so a stray failure is normal; one every minute is not.
      metrics: { failed: proxy.metricClientConnectionsSetupFailedAuth() },
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'proxy-borrow-latency',
      description: `Clients waited on average more than half the proxy's ${proxy.connectionBorrowTimeoutSeconds} s borrow timeout for a database connection, 3 of 5 minutes; at the timeout they get 503. Check database connections against the pool's maximum.`,
      // Reasoning: the metric is in microseconds; at half the borrow timeout the pool is the bottleneck.
      metrics: { borrow: proxy.metricDatabaseConnectionsBorrowLatency() },
      comparison: 'GreaterThanThreshold',
      threshold: 0.5 * proxy.connectionBorrowTimeoutSeconds * 1_000_000,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'proxy-pool-usage',
      description: 'The proxy holds more than 90% of the database connections it may open, 3 of 5 minutes; borrowing will start to wait. Check for pinned sessions in the proxy log and for a traffic spike on the API row.',
      // Both Sum: RDS publishes proxy metrics per proxy node, and the proxy's total is the sum over its nodes
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html). A Sum over a
      // Maximum read about N times too high with N nodes.
      metrics: { connections: proxy.metricDatabaseConnections(), allowed: proxy.metricMaxDatabaseConnectionsAllowed() },
      // Reasoning: above 90% a burst exhausts the pool and clients queue until the borrow timeout.
      expression: 'IF(allowed > 0, 100 * connections / allowed, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'proxy-availability',
      description: 'The proxy\'s read/write target was not fully available for 3 consecutive minutes (a failover lasts 1-2). Check the RDS events on the topic and the database row.',
      // Reasoning: a Multi-AZ failover takes one to two minutes; three means it is not recovering on its own.
      metrics: { availability: proxy.metricAvailability() },
      comparison: 'LessThanThreshold',
      threshold: 100,
      evaluationPeriods: 3,
      // RDS publishes it only after the proxy's first connection: a gap neither pages nor clears.
      treatMissingData: 'ignore',
    },
  ];
}
