import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { AlarmTopic } from '../modules/alarm-topic';
import { Dashboard, type DashboardRow } from '../modules/dashboard';
import { LambdaSchedule } from '../modules/lambda-schedule';
import type { Metric } from '../modules/metric';
import { MetricAlarm, type MetricAlarmProps } from '../modules/metric-alarm';
import { defaultMaxConnections, INSTANCE_MEMORY_GIB } from '../modules/mysql-database';
import { NodeFunction } from '../modules/node-function';
import { PRUNE_RESERVED_CONCURRENCY } from '../config/validate';
import { ApiStack, APP_METRICS_NAMESPACE } from './api-stack';
import { BaseStack, projectPath, stackId } from './base-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';

/** The prune function's entry: deletes hits older than the profile's retention. */
export const PRUNE_ENTRY = projectPath('functions/prune/handler.ts');
/** Every 15 minutes: at the API's full throttle a run removes ~450,000 rows, well within one run's budget. */
export const PRUNE_SCHEDULE = 'rate(15 minutes)';
const PRUNE_TIMEOUT_SECONDS = 60;
/** What RDS sends to the topic: the events that need a person (the issue's list). */
export const DB_EVENT_CATEGORIES = ['failover', 'failure', 'low storage', 'maintenance'] as const;

const GIB = 2 ** 30;

/**
 * Operating one environment: an encrypted alarm topic (optionally mailed), RDS events to it, alarms along
 * the request path, one dashboard, and the scheduled prune that bounds the hits table. It depends on the
 * data and api stacks; nothing depends on it, so it deploys last and can be destroyed first.
 */
export class OpsStack extends BaseStack {
  readonly topic: AlarmTopic;
  readonly alarms: MetricAlarm[] = [];
  readonly dashboard: Dashboard;
  readonly prune: NodeFunction;

  constructor(scope: Construct, profile: Profile, network: NetworkStack, data: DataStack, api: ApiStack) {
    super(scope, stackId('ops', profile), profile);
    const { database, proxy, cache } = data;
    const { api: httpApi, function: hits } = api;
    const prefix = this.resourcePrefix;

    this.topic = new AlarmTopic(this, 'alarm-topic', { name: `${prefix}-alarms`, email: profile.alarms.email });
    database.subscribeEvents(this, 'db-events', { name: `${prefix}-db-events`, snsTopicArn: this.topic.topicArn, categories: DB_EVENT_CATEGORIES });

    // --- the prune: same database contract as the hits function, its own small bundle ---------------
    this.prune = new NodeFunction(this, 'prune', {
      functionName: `${prefix}-prune`,
      entry: PRUNE_ENTRY,
      subnetIds: network.vpc.privateSubnetIds,
      securityGroupIds: [network.vpc.appSecurityGroupId],
      environment: { ...api.databaseEnvironment, HITS_RETENTION_DAYS: String(profile.hits.retentionDays) },
      memoryMb: 256,
      timeoutSeconds: PRUNE_TIMEOUT_SECONDS,
      // One run at a time where the environment reserves concurrency (config/validate.ts counts it in the quota).
      reservedConcurrency: profile.function.reservedConcurrency === undefined ? undefined : PRUNE_RESERVED_CONCURRENCY,
      logRetentionDays: profile.logRetentionDays,
      metricsNamespace: APP_METRICS_NAMESPACE,
    });
    // The prune runs as the application user, whose grants (migration 3) include DELETE on hits for it.
    this.prune.addDependency(proxy.grantConnect(this.prune.role, data.appUsername));
    new LambdaSchedule(this, 'prune-schedule', {
      name: `${prefix}-prune`,
      functionArn: this.prune.functionArn,
      scheduleExpression: PRUNE_SCHEDULE,
      description: `Deletes hits older than ${profile.hits.retentionDays} days`,
    });

    // --- alarms ------------------------------------------------------------------------------------
    const alarm = (id: string, props: Omit<MetricAlarmProps, 'name' | 'actionArns' | 'actionsEnabled'>) =>
      this.alarms.push(new MetricAlarm(this, id, { ...props, name: `${prefix}-${id}`, actionArns: [this.topic.topicArn], actionsEnabled: profile.alarms.enabled }));
    const timeoutMs = hits.timeoutSeconds * 1000;

    // API. Rates use metric math; a minute with no request is no error (notBreaching).
    alarm('api-5xx-rate', {
      description: 'More than 5% of API requests answered 5xx for 3 of 5 minutes. First check the function log group for "level":"error" lines (dbUnavailable, errorCode).',
      metrics: { errors: httpApi.metricServerErrors(), requests: httpApi.metricCount() },
      // 5%: AWS's Recommended alarms (API Gateway 5XXError, Average > 0.05); HTTP APIs name the metric 5xx.
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 5,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('api-latency-p99', {
      description: 'API p99 latency above 2.5 s for 3 of 5 minutes. First check the dashboard\'s Lambda duration and proxy borrow latency rows.',
      // AWS's Recommended alarms watch API Gateway Latency at p90 > 2500 ms; we hold p99 to the same bound, since a healthy request here takes tens of ms.
      metrics: { latency: httpApi.metricLatency() },
      comparison: 'GreaterThanThreshold',
      threshold: 2500,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });

    // Lambda.
    alarm('lambda-error-rate', {
      description: 'More than 1% of invocations of the hits function failed (crash, timeout, out of memory) for 3 of 5 minutes. The handler answers 500 itself for ordinary errors, so check the log group for "Task timed out" or "Runtime exited".',
      metrics: { errors: hits.metricErrors(), invocations: hits.metricInvocations() },
      // Reasoning: the handler catches every error it can and answers it, so a Lambda error is a crash; 1% sustained is systemic.
      expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('lambda-throttles', {
      description: 'More than 1% of invocations of the hits function were throttled for 3 of 5 minutes: concurrency is exhausted. Check ConcurrentExecutions against the reservation and the account quota (aws lambda get-account-settings).',
      metrics: { throttles: hits.metricThrottles(), invocations: hits.metricInvocations() },
      // Reasoning: a throttled request never reaches the function; 1% means the reservation is the bottleneck, not a blip.
      expression: 'IF(invocations + throttles > 0, 100 * throttles / (invocations + throttles), 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('lambda-duration-p99', {
      description: `Hits function p99 duration above 80% of its ${hits.timeoutSeconds} s timeout for 3 of 5 minutes: requests are about to time out. Check DbTime on the dashboard and the proxy's borrow latency.`,
      // Reasoning: the function answers 503 one second before its timeout (DEADLINE_MARGIN_MS); 80% leaves time to act before that.
      metrics: { duration: hits.metricDuration() },
      comparison: 'GreaterThanThreshold',
      threshold: 0.8 * timeoutMs,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    const concurrencyCeiling = hits.reservedConcurrency ?? (profile.function.accountConcurrencyLimit === undefined ? undefined : profile.function.accountConcurrencyLimit - 100);
    if (concurrencyCeiling !== undefined) {
      alarm('lambda-concurrency', {
        description: `Hits function concurrency above 80% of its ceiling (${concurrencyCeiling}) for 3 of 5 minutes; at 100% requests are throttled. Check traffic on the API row before raising the reservation: each environment holds one proxy connection.`,
        // Reasoning: 80% leaves the headroom of a burst; the ceiling is the reservation, or the unreserved pool (quota - 100).
        metrics: { concurrency: hits.metricConcurrentExecutions() },
        comparison: 'GreaterThanThreshold',
        threshold: Math.floor(0.8 * concurrencyCeiling),
        datapointsToAlarm: 3,
        // A gauge Lambda reports only while something runs: no data is no concurrency.
        treatMissingData: 'notBreaching',
      });
    }

    // RDS Proxy.
    alarm('proxy-auth-failures', {
      description: 'RDS Proxy refused client logins every minute for 3 minutes: the IAM token, the rds-db:connect grant or the database user is wrong. Check the proxy log group and the function\'s "database refused the credentials" lines.',
      // Reasoning: the function retries a refused login once with a fresh token, so a stray failure is normal; one every minute is not.
      metrics: { failed: proxy.metricClientConnectionsSetupFailedAuth() },
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('proxy-borrow-latency', {
      description: `Clients waited on average more than half the proxy's ${proxy.connectionBorrowTimeoutSeconds} s borrow timeout for a database connection, 3 of 5 minutes; at the timeout they get 503. Check database connections against the pool's maximum.`,
      // Reasoning: the metric is in microseconds; at half the borrow timeout the pool is the bottleneck.
      metrics: { borrow: proxy.metricDatabaseConnectionsBorrowLatency() },
      comparison: 'GreaterThanThreshold',
      threshold: 0.5 * proxy.connectionBorrowTimeoutSeconds * 1_000_000,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('proxy-pool-usage', {
      description: 'The proxy holds more than 90% of the database connections it may open, 3 of 5 minutes; borrowing will start to wait. Check for pinned sessions in the proxy log and for a traffic spike on the API row.',
      metrics: { connections: proxy.metricDatabaseConnections(), allowed: proxy.metricMaxDatabaseConnectionsAllowed() },
      // Reasoning: above 90% a burst exhausts the pool and clients queue until the borrow timeout.
      expression: 'IF(allowed > 0, 100 * connections / allowed, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    alarm('proxy-availability', {
      description: 'The proxy\'s read/write target was not fully available for 3 consecutive minutes (a failover lasts 1-2). Check the RDS events on the topic and the database row.',
      // Reasoning: a Multi-AZ failover takes one to two minutes; three means it is not recovering on its own.
      metrics: { availability: proxy.metricAvailability() },
      comparison: 'LessThanThreshold',
      threshold: 100,
      evaluationPeriods: 3,
      // RDS publishes it only after the proxy's first connection: a gap neither pages nor clears.
      treatMissingData: 'ignore',
    });

    // RDS for MySQL. Gauges RDS publishes every minute: a reporting gap keeps the alarm's state (ignore).
    alarm('db-cpu', {
      description: 'Database CPU above 90% for 15 minutes. Check slow queries (/aws/rds/instance/<id>/slowquery) and Performance Insights where enabled.',
      // 90% over 15 minutes: AWS's Recommended alarms (RDS CPUUtilization).
      metrics: { cpu: database.metricCpuUtilization({ periodSeconds: 300 }) },
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      evaluationPeriods: 3,
      treatMissingData: 'ignore',
    });
    alarm('db-free-storage', {
      description: `Free database storage below 10% of the allocated ${database.allocatedStorageGb} GiB. Check that the prune runs (PrunedRows on the dashboard), then storage autoscaling's ceiling.`,
      // Reasoning: storage autoscaling itself starts at 10% free; still being there 5 minutes later means the ceiling is reached or growth outruns it.
      metrics: { free: database.metricFreeStorageSpace({ periodSeconds: 300 }) },
      comparison: 'LessThanThreshold',
      threshold: 0.1 * database.allocatedStorageGb * GIB,
      evaluationPeriods: 1,
      treatMissingData: 'ignore',
    });
    const memoryGib = INSTANCE_MEMORY_GIB[database.instanceClass];
    if (memoryGib !== undefined) {
      alarm('db-freeable-memory', {
        description: `Freeable database memory below 10% of the ${database.instanceClass}'s ${memoryGib} GiB for 15 minutes: the instance is about to swap. Check connections and the buffer pool size.`,
        // Reasoning: RDS gives InnoDB's buffer pool ~3/4 of memory; under 10% left, connections and sorts push it into swap.
        metrics: { freeable: database.metricFreeableMemory({ periodSeconds: 300 }) },
        comparison: 'LessThanThreshold',
        threshold: 0.1 * memoryGib * GIB,
        evaluationPeriods: 3,
        treatMissingData: 'ignore',
      });
    }
    const maxConnections = defaultMaxConnections(database.instanceClass);
    if (maxConnections !== undefined) {
      alarm('db-connections', {
        description: `Database connections above 80% of the ${database.instanceClass}'s default max_connections (~${maxConnections}) for 3 of 5 minutes. Behind the proxy they are its pool: check for connections that bypass the proxy.`,
        // Reasoning: max_connections defaults to memory / 12582880; the proxy may use 90% of it, so 80% is near its cap.
        metrics: { connections: database.metricDatabaseConnections() },
        comparison: 'GreaterThanThreshold',
        threshold: Math.floor(0.8 * maxConnections),
        datapointsToAlarm: 3,
        treatMissingData: 'ignore',
      });
    }

    // Memcached (per node: one expression over every node).
    if (cache) {
      const perNode = (metrics: Metric[]) => Object.fromEntries(metrics.map((m, i) => [`node${i + 1}`, m]));
      const ids = Array.from({ length: cache.numCacheNodes }, (_, i) => `node${i + 1}`);
      alarm('cache-cpu', {
        description: 'A memcached node above 90% CPU for 15 minutes. Check CurrConnections and GetHits per node; consider a larger node type.',
        // 90%: AWS's Recommended alarms (ElastiCache CPUUtilization for memcached).
        metrics: perNode(cache.metricPerNode('CPUUtilization', 'Average', { periodSeconds: 300 })),
        expression: `MAX([${ids.join(', ')}])`,
        comparison: 'GreaterThanThreshold',
        threshold: 90,
        evaluationPeriods: 3,
        treatMissingData: 'ignore',
      });
      alarm('cache-evictions', {
        description: 'Memcached evicted more than 100 unexpired items in 5 minutes, twice in 15: memory is full. The hits listing is one small key, so something else is filling the cache.',
        // Reasoning: the function stores one listing of at most 100 rows; evictions at all mean another writer.
        metrics: perNode(cache.metricPerNode('Evictions', 'Sum', { periodSeconds: 300 })),
        expression: `SUM([${ids.map((id) => `FILL(${id}, 0)`).join(', ')}])`,
        comparison: 'GreaterThanThreshold',
        threshold: 100,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: 'notBreaching',
      });
      const connectionCeiling = (concurrencyCeiling ?? 1000) + 50;
      alarm('cache-connections', {
        description: `A memcached node holds more than ${connectionCeiling} connections for 3 of 5 minutes: more than one per function environment, so connections leak. Check the function's "cache call failed" lines.`,
        // Reasoning: each execution environment opens one connection per node; the ceiling is the function's concurrency (1000 when unknown) plus 50 for restarts.
        metrics: perNode(cache.metricPerNode('CurrConnections', 'Maximum')),
        expression: `MAX([${ids.join(', ')}])`,
        comparison: 'GreaterThanThreshold',
        threshold: connectionCeiling,
        datapointsToAlarm: 3,
        treatMissingData: 'ignore',
      });
    }

    // The function's own metrics (EMF).
    alarm('fn-db-unavailable', {
      description: 'More than 1% of requests answered 503 because the database was unavailable (saturated, unreachable or out of time) for 3 of 5 minutes. The reason is in the metric name and the log line\'s dbUnavailable field.',
      metrics: {
        saturated: hits.metricApp('DbUnavailableSaturated', 'Sum'),
        unreachable: hits.metricApp('DbUnavailableUnreachable', 'Sum'),
        deadline: hits.metricApp('DbUnavailableDeadline', 'Sum'),
        requests: hits.metricApp('Requests', 'Sum'),
      },
      // Reasoning: each one is a user's request refused; 1% sustained is an outage of the data tier, not a blip.
      expression: 'IF(requests > 0, 100 * (FILL(saturated, 0) + FILL(unreachable, 0) + FILL(deadline, 0)) / requests, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    if (cache) {
      const list = { route: 'list', statusClass: '2xx' };
      alarm('fn-cache-bypass', {
        description: 'More than half of the cache-aside listings bypassed memcached for 10 minutes: the cache is failing and the database serves every read. Check the "cache call failed" lines and the cache row.',
        metrics: {
          hit: hits.metricApp('CacheHit', 'Sum', {}, list),
          miss: hits.metricApp('CacheMiss', 'Sum', {}, list),
          bypass: hits.metricApp('CacheBypass', 'Sum', {}, list),
        },
        // Reasoning: a healthy cache serves most listings within its TTL; bypass means a failed call, never normal operation.
        expression: 'IF(FILL(hit, 0) + FILL(miss, 0) + FILL(bypass, 0) > 0, 100 * FILL(bypass, 0) / (FILL(hit, 0) + FILL(miss, 0) + FILL(bypass, 0)), 0)',
        comparison: 'GreaterThanThreshold',
        threshold: 50,
        evaluationPeriods: 10,
        treatMissingData: 'notBreaching',
      });
    }

    // The prune.
    alarm('prune-errors', {
      description: 'The prune failed in two consecutive 15-minute runs: expired hits accumulate. Check the prune log group ("prune failed").',
      metrics: { errors: this.prune.metricErrors({ periodSeconds: 900 }) },
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: 'notBreaching',
    });
    alarm('prune-not-running', {
      description: 'The prune was not invoked for an hour: the schedule or its role is broken and expired hits accumulate. Check the EventBridge Scheduler schedule and its role.',
      metrics: { invocations: this.prune.metricInvocations({ periodSeconds: 3600 }) },
      comparison: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      // Deliberately breaching: Lambda publishes Invocations only when there are some, so silence is the failure.
      treatMissingData: 'breaching',
    });

    // --- the dashboard: top to bottom, the way a request travels ------------------------------------
    const rows: DashboardRow[] = [
      {
        title: 'API (HTTP API)',
        graphs: [
          { title: 'Requests and errors', metrics: [httpApi.metricCount(), httpApi.metricClientErrors(), httpApi.metricServerErrors()] },
          { title: 'Latency (ms)', metrics: [httpApi.metricLatency({ statistic: 'p50', label: 'p50' }), httpApi.metricLatency({ label: 'p99' }), httpApi.metricIntegrationLatency({ label: 'integration p99' })], annotations: [{ label: 'alarm', value: 2500 }] },
        ],
      },
      {
        title: 'Lambda: hits function',
        graphs: [
          { title: 'Invocations, errors, throttles', metrics: [hits.metricInvocations(), hits.metricErrors(), hits.metricThrottles()] },
          { title: 'Duration (ms)', metrics: [hits.metricDuration({ statistic: 'p50', label: 'p50' }), hits.metricDuration({ label: 'p99' })], annotations: [{ label: 'timeout', value: timeoutMs }] },
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
        title: `Prune (retention ${profile.hits.retentionDays} days)`,
        graphs: [
          { title: 'Rows pruned, batches', metrics: [this.prune.metricApp('PrunedRows', 'Sum', { periodSeconds: 900 }), this.prune.metricApp('PruneBatches', 'Sum', { periodSeconds: 900 })] },
          { title: 'Runs and errors', metrics: [this.prune.metricInvocations({ periodSeconds: 900 }), this.prune.metricErrors({ periodSeconds: 900 })] },
        ],
      },
    ];
    this.dashboard = new Dashboard(this, 'dashboard', { name: prefix, region: profile.region, rows });

    new TerraformOutput(this, 'alarm_topic_arn', { value: this.topic.topicArn, description: 'SNS topic of the alarms and RDS events (subscribe more endpoints here)' });
    new TerraformOutput(this, 'dashboard_name', { value: this.dashboard.dashboardName, description: 'CloudWatch dashboard of this environment' });
  }
}
