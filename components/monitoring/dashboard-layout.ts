import type { DashboardRow } from '../../modules/dashboard';
import { PRUNE_PERIOD_SECONDS } from '../prune-job';
import { API_LATENCY_ALARM_MS } from './api-alarms';
import type { ComparedArm, Watched } from './catalogue';
import { METRIC, TENANTS_ROUTE_METRIC } from '../../contracts';
import type { Metric } from '../../modules/metric';
import type { MysqlDatabase } from '../../modules/mysql-database';
import type { NodeFunction } from '../../modules/node-function';

/**
 * The dashboard, top to bottom the way a request travels: API, Lambda, the function's own metrics (the hits
 * function's, then the tenants function's when there are tenants), proxy, database, cache, prune.
 */
export function dashboardRows(watched: Watched): DashboardRow[] {
  return [...requestPathRows(watched), ...(watched.arms ? abComparisonRows(watched.arms, watched) : [])];
}

/**
 * The A/B section, last so the rows above keep their places: per arm the API's 5xx and latency percentiles
 * (HTTP API metrics `5xx`, `Latency` by `ApiId`:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html), per function Lambda's
 * `ConcurrentExecutions` and `Throttles`; then each arm's database (one line per instance: the arms' own, or
 * the one they share) with its connections and CPU, and the proxy's client and database connections (only the
 * proxy arm goes through it: with the direct arm busy on a shared instance, the database's connections grow
 * past the proxy's pool); last, appended so the rows before keep their widgets' places, the IAM logins each
 * instance took and refused (`IamDbAuthConnectionRequests`, `IamDbAuthConnectionFailure`:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Troubleshooting.html). Behind
 * end-to-end IAM the proxy logs in with tokens too, so both arms' instances count them.
 */
export function abComparisonRows(arms: readonly ComparedArm[], { proxy }: Pick<Watched, 'proxy'>): DashboardRow[] {
  const databases = armDatabases(arms);
  const shared = databases.length === 1;
  const each = (metric: (db: MysqlDatabase, label: string) => Metric, what: string) => databases.map(({ database, label }) => metric(database, `${label}${what}`));
  return [
    {
      title: `A/B: ${arms.map((a) => a.label).join(' vs ')} (API and Lambda)`,
      graphs: [
        { title: '5xx per arm', metrics: arms.map((a) => a.api.metricServerErrors({ label: `${a.label} 5xx` })) },
        {
          title: 'Latency per arm (ms): p50, p90, p99',
          metrics: arms.flatMap((a) => (['p50', 'p90', 'p99'] as const).map((statistic) => a.api.metricLatency({ statistic, label: `${a.label} ${statistic}` }))),
          annotations: [{ label: 'alarm', value: API_LATENCY_ALARM_MS }],
        },
        { title: 'Concurrent executions per function', metrics: arms.flatMap((a) => a.functions.map((f) => f.function.metricConcurrentExecutions({ label: `${a.label} ${f.label}` }))) },
        { title: 'Throttles per function', metrics: arms.flatMap((a) => a.functions.map((f) => f.function.metricThrottles({ label: `${a.label} ${f.label}` }))) },
      ],
    },
    {
      title: shared ? 'A/B: what the arms share (database) and the proxy' : "A/B: each arm's database, and the proxy",
      graphs: [
        { title: 'Database connections', metrics: each((db, label) => db.metricDatabaseConnections({ label }), 'database connections') },
        { title: 'Database CPU (%)', metrics: each((db, label) => db.metricCpuUtilization({ label }), 'database CPU') },
        { title: 'Proxy: client vs database connections', metrics: [proxy.metricClientConnections({ label: 'proxy client connections' }), proxy.metricDatabaseConnections({ label: 'proxy database connections' })] },
      ],
    },
    {
      title: shared ? 'A/B: IAM logins at the database' : "A/B: IAM logins at each arm's database",
      graphs: [
        { title: 'New IAM connections per database', metrics: each((db, label) => db.metricIamAuthRequests({ label }), 'IAM connection requests') },
        { title: 'IAM logins refused per database', metrics: each((db, label) => db.metricIamAuthFailures({ label }), 'IAM logins refused') },
      ],
    },
  ];
}

/**
 * The distinct instances of `arms`, in arm order, each with the legend prefix that says whose it is: none when
 * every arm shares one, otherwise the labels of the arms on it (`proxy `, `direct `).
 */
function armDatabases(arms: readonly ComparedArm[]): Array<{ database: MysqlDatabase; label: string }> {
  const byDatabase = new Map<MysqlDatabase, string[]>();
  for (const arm of arms) byDatabase.set(arm.database, [...(byDatabase.get(arm.database) ?? []), arm.label]);
  const one = byDatabase.size === 1;
  return [...byDatabase].map(([database, labels]) => ({ database, label: one ? '' : `${labels.join(' and ')} ` }));
}

/** Lambda's view of one function: invocations, errors and throttles; duration against its timeout; concurrency (against `ceiling`). */
function lambdaRow(title: string, fn: NodeFunction, ceiling?: number): DashboardRow {
  return {
    title,
    graphs: [
      { title: 'Invocations, errors, throttles', metrics: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()] },
      { title: 'Duration (ms)', metrics: [fn.metricDuration({ statistic: 'p50', label: 'p50' }), fn.metricDuration({ label: 'p99' })], annotations: [{ label: 'timeout', value: fn.timeoutSeconds * 1000 }] },
      { title: 'Concurrent executions', metrics: [fn.metricConcurrentExecutions()], annotations: ceiling === undefined ? [] : [{ label: 'ceiling', value: ceiling }] },
    ],
  };
}

/**
 * The proxy arm's tenants function, beside the hits rows and in their shape: Lambda's view, then its own
 * metrics (EMF): requests and failures, latency, STS, pools and logins.
 */
export function tenantsRows(tenants: NodeFunction): DashboardRow[] {
  const items = { route: TENANTS_ROUTE_METRIC };
  return [
    lambdaRow('Lambda: tenants function', tenants),
    {
      title: 'Tenants function metrics (EMF)',
      graphs: [
        {
          title: 'Requests, 5xx; database unavailable by reason',
          metrics: [
            tenants.metricApp(METRIC.requests, 'Sum'),
            tenants.metricApp(METRIC.requests, 'Sum', { label: '5xx' }, { ...items, statusClass: '5xx' }),
            ...Object.values(METRIC.dbUnavailable).map((name) => tenants.metricApp(name, 'Sum')),
          ],
        },
        { title: 'Latency (ms)', metrics: [tenants.metricApp(METRIC.latency, 'p50', { label: 'latency p50' }), tenants.metricApp(METRIC.latency, 'p99', { label: 'latency p99' })] },
        { title: 'STS: AssumeRole calls and errors', metrics: [METRIC.stsCalls, ...Object.values(METRIC.stsErrors)].map((name) => tenants.metricApp(name, 'Sum')) },
        { title: 'Pools opened, evicted, refused; refused logins', metrics: [METRIC.poolsOpened, METRIC.poolsEvicted, METRIC.poolsRefused, METRIC.loginFailures].map((name) => tenants.metricApp(name, 'Sum')) },
      ],
    },
  ];
}

/** The request path of the proxy arm, top to bottom. */
function requestPathRows({ api, hits, tenants, proxy, database, cache, prune, concurrencyCeiling }: Watched): DashboardRow[] {
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
    lambdaRow('Lambda: hits function', hits, concurrencyCeiling),
    {
      title: 'Function metrics (EMF)',
      graphs: [
        { title: 'Requests; database unavailable by reason', metrics: [hits.metricApp(METRIC.requests, 'Sum'), hits.metricApp(METRIC.dbUnavailable.saturated, 'Sum'), hits.metricApp(METRIC.dbUnavailable.unreachable, 'Sum'), hits.metricApp(METRIC.dbUnavailable.deadline, 'Sum')] },
        { title: 'Latency and database time (ms)', metrics: [hits.metricApp(METRIC.latency, 'p99', { label: 'latency p99' }), hits.metricApp(METRIC.dbTime, 'p99', { label: 'database p99' }), hits.metricApp(METRIC.dbTime, 'p50', { label: 'database p50' })] },
        ...(cache ? [{ title: 'Cache: hit, miss, bypass', metrics: [hits.metricApp(METRIC.cacheHit, 'Sum'), hits.metricApp(METRIC.cacheMiss, 'Sum'), hits.metricApp(METRIC.cacheBypass, 'Sum')] }] : []),
      ],
    },
    ...(tenants ? tenantsRows(tenants) : []),
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
        { title: 'Rows pruned, batches', metrics: [pruneFn.metricApp(METRIC.pruned, 'Sum', period), pruneFn.metricApp(METRIC.pruneBatches, 'Sum', period)] },
        { title: 'Runs and errors', metrics: [pruneFn.metricInvocations(period), pruneFn.metricErrors(period)] },
      ],
    },
  ];
}
