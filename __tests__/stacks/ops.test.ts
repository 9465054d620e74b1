/**
 * The ops stack of every profile (and a cache-off and an e-mail variant): every metric in every alarm and
 * on the dashboard is a metric its namespace publishes, with a dimension set it publishes, and every
 * dimension value names a resource that exists; the alarms fire where they should, judged by evaluating
 * the synthesized alarm (metric-math.ts) on metric values derived from the profile, not by restating the
 * formulas that built them; the topic, the RDS events, the prune and its schedule are wired as docs/operating.md
 * says.
 */
import { directArmDatabase, directArmEnabled, PROFILES, type Profile } from '../../config';
import { APP_METRICS_NAMESPACE, METRIC, TENANTS_ROUTE_METRIC } from '../../contracts';
import { SERVER_ERROR_SHARE_PERCENT } from '../../components/monitoring/api-alarms';
import { INSTANCE_MEMORY_GIB } from '../../modules/mysql-database';
import { environmentsUnderTest, resources, single, synthEnvironments, titleOf, type EnvironmentUnderTest, type StackJson, type SynthesizedEnvironment } from '../support/synth';
import { breaches, inAlarmAfter } from './metric-math';
import { directInstance, proxyInstance } from '../policy/rules';

type StackKind = 'network' | 'data' | 'api' | 'ops';

/**
 * Valid metric names per namespace with the dimension sets CloudWatch publishes them under, from AWS's
 * documentation: "Amazon API Gateway metrics" (HTTP APIs: ApiId, ApiId+Stage, ApiId+Stage+Route), "Monitoring
 * functions: Lambda metrics" (FunctionName), "Amazon CloudWatch metrics for Amazon RDS" (DBInstanceIdentifier; the
 * IAM authentication ones from "Troubleshooting for IAM DB authentication", IAM DB authentication CloudWatch metrics),
 * "Monitoring RDS Proxy metrics with Amazon CloudWatch" (dimension sets 1-4), "Host-level / Metrics for
 * Memcached" (CacheClusterId+CacheNodeId); and for `hits`, what functions/lib/metrics.ts emits.
 */
const PROXY_SET_1 = ['ProxyName'];
const PROXY_SET_2 = ['ProxyName', 'EndpointName'];
const PROXY_SET_3 = ['ProxyName', 'TargetGroup', 'Target'];
const PROXY_SET_4 = ['ProxyName', 'TargetGroup', 'TargetRole'];
const HTTP_API = [['ApiId'], ['ApiId', 'Stage'], ['ApiId', 'Stage', 'Route']];
const MEMCACHED_NODE = [['CacheClusterId', 'CacheNodeId']];
const APP = [['service'], ['service', 'route', 'statusClass']];
const VALID: Record<string, Record<string, string[][]>> = {
  'AWS/ApiGateway': { Count: HTTP_API, '4xx': HTTP_API, '5xx': HTTP_API, Latency: HTTP_API, IntegrationLatency: HTTP_API, DataProcessed: HTTP_API },
  'AWS/Lambda': { Invocations: [['FunctionName']], Errors: [['FunctionName']], Throttles: [['FunctionName']], Duration: [['FunctionName']], ConcurrentExecutions: [['FunctionName']] },
  'AWS/RDS': {
    CPUUtilization: [['DBInstanceIdentifier']],
    FreeStorageSpace: [['DBInstanceIdentifier']],
    FreeableMemory: [['DBInstanceIdentifier']],
    IamDbAuthConnectionRequests: [['DBInstanceIdentifier']],
    IamDbAuthConnectionFailure: [['DBInstanceIdentifier']],
    DatabaseConnections: [['DBInstanceIdentifier'], PROXY_SET_1, PROXY_SET_3, PROXY_SET_4],
    ClientConnections: [PROXY_SET_1, PROXY_SET_2],
    ClientConnectionsSetupFailedAuth: [PROXY_SET_1, PROXY_SET_2],
    DatabaseConnectionsBorrowLatency: [PROXY_SET_1, PROXY_SET_2],
    MaxDatabaseConnectionsAllowed: [PROXY_SET_1, PROXY_SET_3, PROXY_SET_4],
    QueryDatabaseResponseLatency: [PROXY_SET_1, PROXY_SET_2, PROXY_SET_3, PROXY_SET_4],
    AvailabilityPercentage: [PROXY_SET_4],
  },
  'AWS/ElastiCache': { CPUUtilization: MEMCACHED_NODE, Evictions: MEMCACHED_NODE, CurrConnections: MEMCACHED_NODE, GetHits: MEMCACHED_NODE, GetMisses: MEMCACHED_NODE },
  [APP_METRICS_NAMESPACE]: {
    ...Object.fromEntries([METRIC.requests, METRIC.latency, METRIC.dbTime, METRIC.cacheHit, METRIC.cacheMiss, METRIC.cacheBypass, ...Object.values(METRIC.dbUnavailable)].map((n) => [n, APP])),
    // The tenants function's own, in the same request line (so under the same two dimension sets).
    ...Object.fromEntries([METRIC.stsCalls, ...Object.values(METRIC.stsErrors), METRIC.poolsOpened, METRIC.poolsEvicted, METRIC.poolsRefused, METRIC.loginFailures].map((n) => [n, APP])),
    [METRIC.pruned]: [['service']],
    [METRIC.pruneBatches]: [['service']],
  },
};

/** What a dimension value must name: a resource attribute (type, attribute), or one of a few literals. */
const DIMENSION_TARGET: Record<string, { type: string; attr: RegExp } | { literal: RegExp }> = {
  ApiId: { type: 'aws_apigatewayv2_api', attr: /^id$/ },
  FunctionName: { type: 'aws_lambda_function', attr: /^function_name$/ },
  service: { type: 'aws_lambda_function', attr: /^function_name$/ },
  DBInstanceIdentifier: { type: 'aws_db_instance', attr: /^identifier$/ },
  ProxyName: { type: 'aws_db_proxy', attr: /^name$/ },
  TargetGroup: { type: 'aws_db_proxy_default_target_group', attr: /^name$/ },
  TargetRole: { literal: /^(READ_WRITE|READ_ONLY)$/ },
  CacheClusterId: { type: 'aws_elasticache_cluster', attr: /^cluster_id$/ },
  CacheNodeId: { type: 'aws_elasticache_cluster', attr: /^cache_nodes\[(\d+)\]\.id$/ },
  route: { literal: new RegExp(`^(health|list|record|invalid|${TENANTS_ROUTE_METRIC})$`) },
  statusClass: { literal: /^[1-5]xx$/ },
};

interface FoundMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

const REMOTE = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([^.}]+)\.outputs\.([^}]+)\}$/;

function stackJson(env: SynthesizedEnvironment, id: string): StackJson | undefined {
  const kind = (['network', 'data', 'api', 'ops'] as StackKind[]).find((k) => env.stacks[k].node.id === id);
  return kind ? env[kind] : undefined;
}

/** The problems of one dimension value: it must resolve (through remote state when needed) to an existing resource's attribute. */
function dimensionProblems(env: SynthesizedEnvironment, m: FoundMetric, key: string, value: string): string[] {
  const target = DIMENSION_TARGET[key];
  if (!target) return [`${m.where}: no rule for dimension ${key}`];
  if ('literal' in target) return target.literal.test(value) ? [] : [`${m.where}: ${key}=${value} is not an allowed value`];
  let json = env.ops;
  let expression = value;
  const remote = REMOTE.exec(value);
  if (remote) {
    const producer = stackJson(env, remote[1]);
    const out = producer?.output?.[remote[2]]?.value;
    if (!producer || typeof out !== 'string') return [`${m.where}: ${key} reads a missing output ${remote[1]}.${remote[2]}`];
    json = producer;
    expression = out;
  }
  const ref = /^\$\{([a-z0-9_]+)\.([^.}]+)\.(.+)\}$/.exec(expression);
  if (!ref) return [`${m.where}: ${key}=${value} is not a resource reference`];
  const [, type, name, attr] = ref;
  const attrMatch = target.attr.exec(attr);
  if (type !== target.type || !attrMatch) return [`${m.where}: ${key} is ${type}.${attr}, expected ${target.type} ${target.attr}`];
  const resource = json.resource?.[type]?.[name];
  if (!resource) return [`${m.where}: ${key} names ${type}.${name}, which does not exist`];
  if (key === 'CacheNodeId' && Number(attrMatch[1]) >= resource.num_cache_nodes) return [`${m.where}: node ${attrMatch[1]} of a ${resource.num_cache_nodes}-node cluster`];
  return [];
}

function metricProblems(env: SynthesizedEnvironment, m: FoundMetric): string[] {
  const sets = VALID[m.namespace]?.[m.name];
  if (!sets) return [`${m.where}: ${m.namespace} has no metric ${m.name}`];
  const keys = Object.keys(m.dimensions).sort();
  if (!sets.some((s) => JSON.stringify([...s].sort()) === JSON.stringify(keys))) return [`${m.where}: ${m.namespace}/${m.name} is not published with dimensions [${keys.join(', ')}]`];
  return Object.entries(m.dimensions).flatMap(([k, v]) => dimensionProblems(env, m, k, v));
}

function alarmMetrics(ops: StackJson): FoundMetric[] {
  return resources(ops, 'aws_cloudwatch_metric_alarm').flatMap(([, a]) =>
    (a.metric_query ?? [])
      .filter((q: any) => q.metric)
      .map((q: any) => ({ where: `alarm ${a.alarm_name}/${q.id}`, namespace: q.metric.namespace, name: q.metric.metric_name, dimensions: q.metric.dimensions ?? {} })),
  );
}

function dashboardMetrics(ops: StackJson): FoundMetric[] {
  const body = JSON.parse(single(ops, 'aws_cloudwatch_dashboard').dashboard_body);
  return body.widgets
    .filter((w: any) => w.type === 'metric')
    .flatMap((w: any) =>
      w.properties.metrics.map((line: unknown[]) => {
        const [namespace, name, ...rest] = line;
        const pairs = rest.filter((x) => typeof x === 'string') as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
        return { where: `dashboard "${w.properties.title}"`, namespace: namespace as string, name: name as string, dimensions };
      }),
    );
}

// --- evaluating alarms on what CloudWatch would see ------------------------------------------------------

/** Equal shares of `total` over `publishers` (e.g. RDS Proxy nodes, which each publish their part). */
const split = (total: number, publishers: number): number[] => Array.from({ length: publishers }, () => total / publishers);

/** One period's value per metric id, aggregated over its publishers with the statistic the alarm's query asks for; undefined publishes nothing. */
function publishedBy(alarm: any, published: Record<string, number[] | undefined>): Record<string, number | undefined> {
  const values: Record<string, number | undefined> = {};
  for (const q of alarm.metric_query.filter((m: any) => m.metric)) {
    const points = published[q.id];
    if (!points?.length) values[q.id] = undefined;
    else if (q.metric.stat === 'Sum') values[q.id] = points.reduce((a, b) => a + b, 0);
    else if (q.metric.stat === 'Maximum') values[q.id] = Math.max(...points);
    else if (q.metric.stat === 'Minimum') values[q.id] = Math.min(...points);
    else if (q.metric.stat === 'Average') values[q.id] = points.reduce((a, b) => a + b, 0) / points.length;
    else throw new Error(`statistic ${q.metric.stat} not modelled`);
  }
  return values;
}

/** Smallest integer in [lo, hi] where `holds` turns true (it must be monotone there); undefined when it never does. */
function crossing(holds: (x: number) => boolean, lo: number, hi: number): number | undefined {
  if (!holds(hi)) return undefined;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (holds(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Shares of a class's nominal memory that DBInstanceClassMemory may leave: from 0.6, below any class RDS
 * offers (the smallest, a db.t4g.micro, keeps about 0.71: 60-66 connections of a nominal 85), to 1.
 */
const MEMORY_SHARES = [0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1];

/**
 * Where a database-connections alarm fails its purpose for `profile`'s class and proxy: for each real
 * max_connections the class may have ({DBInstanceClassMemory/12582880}), with the proxy publishing its
 * MaxDatabaseConnectionsAllowed over one or two nodes (or, before its first connection, nothing), the
 * alarm must start firing below that limit, and not at half of it.
 */
function connectionLimitProblems(alarm: any, profile: Profile): string[] {
  const gib = INSTANCE_MEMORY_GIB[profile.database.instanceClass];
  const pct = profile.proxy.maxConnectionsPercent;
  const limits = gib === undefined ? [20, 100, 1000, 5000] : MEMORY_SHARES.map((share) => Math.floor((share * gib * 2 ** 30) / 12582880));
  const problems: string[] = [];
  for (const limit of limits) {
    const allowed = Math.floor((limit * pct) / 100);
    const cases: Array<[string, number[] | undefined]> = [['one proxy node', split(allowed, 1)], ['two proxy nodes', split(allowed, 2)]];
    // Without the proxy's metric only a class of known memory can be judged.
    if (gib !== undefined) cases.push(['the proxy publishing nothing yet', undefined]);
    for (const [label, allowedPoints] of cases) {
      const fires = (connections: number) => breaches(alarm, publishedBy(alarm, { connections: [connections], allowed: allowedPoints })) === true;
      const first = crossing(fires, 0, limit);
      const where = `${profile.database.instanceClass}, max_connections ${limit}, ${label}`;
      if (first === undefined || first >= limit) problems.push(`${where}: fires at ${first ?? 'no connection count up to the limit'}`);
      else if (first <= Math.floor(limit / 2)) problems.push(`${where}: fires already at ${first}`);
    }
  }
  return problems;
}

// Every shipped profile and generated variant (cache off, one NAT, …), and one with an e-mail subscription.
const base = PROFILES[0];
const withEmail: Profile = { ...base, name: 'mailed', alarms: { enabled: true, email: 'oncall@example.com' } };
const environments: EnvironmentUnderTest[] = [...environmentsUnderTest(), ...synthEnvironments([withEmail], 'ops-email')];
const label = (env: EnvironmentUnderTest) => `${env.stacks.ops.node.id}: ${titleOf(env)}`;

describe.each(environments.map((env) => [label(env), env] as const))('%s', (_label, env) => {
  const { ops, profile } = env;
  const alarms = resources(ops, 'aws_cloudwatch_metric_alarm').map(([, a]) => a);
  const alarmNamed = (suffix: string) => alarms.find((a) => a.alarm_name === `${profile.project}-${profile.name}-${suffix}`);

  test('every metric of every alarm and of the dashboard exists in its namespace, with published dimensions naming real resources', () => {
    const found = [...alarmMetrics(ops), ...dashboardMetrics(ops)];
    expect(found.length).toBeGreaterThan(40);
    expect(found.flatMap((m) => metricProblems(env, m))).toEqual([]);
  });

  test('the metric table check fails on a wrong name, a wrong dimension set and a dangling reference', () => {
    const [first] = alarmMetrics(ops).filter((m) => m.namespace === 'AWS/ApiGateway');
    expect(metricProblems(env, { ...first, name: '5XXError' })).toEqual([expect.stringContaining('has no metric 5XXError')]);
    expect(metricProblems(env, { ...first, dimensions: { ApiName: 'x' } })).toEqual([expect.stringContaining('not published with dimensions [ApiName]')]);
    const dangling = { ...first, dimensions: { ApiId: first.dimensions.ApiId.replace(/outputs\.[^}]+/, 'outputs.no-such-output') } };
    expect(metricProblems(env, dangling)).toEqual([expect.stringContaining('missing output')]);
  });

  test('every alarm: actions to the stack topic on ALARM and OK, enabled exactly as the profile says, missing data chosen', () => {
    const topic = resources(ops, 'aws_sns_topic');
    expect(topic).toHaveLength(1);
    const topicArn = `\${aws_sns_topic.${topic[0][0]}.arn}`;
    for (const a of alarms) {
      expect({ alarm: a.alarm_name, actions: a.alarm_actions, ok: a.ok_actions, enabled: a.actions_enabled }).toEqual({ alarm: a.alarm_name, actions: [topicArn], ok: [topicArn], enabled: profile.alarms.enabled });
      expect(['breaching', 'notBreaching', 'ignore', 'missing']).toContain(a.treat_missing_data);
      expect(a.alarm_description.length).toBeGreaterThan(40);
    }
  });

  test('the duration alarm fires before requests time out, not on healthy ones', () => {
    const alarm = alarmNamed('lambda-duration-p99');
    const timeoutMs = profile.function.timeoutSeconds * 1000;
    // The function answers 503 one second before its timeout; by then the alarm must be breaching.
    expect(breaches(alarm, { duration: timeoutMs - 1000 })).toBe(true);
    expect(breaches(alarm, { duration: 200 })).toBe(false);
  });

  test('the borrow-latency alarm fires before clients hit the borrow timeout, not on a short wait', () => {
    const alarm = alarmNamed('proxy-borrow-latency');
    const timeoutUs = profile.proxy.connectionBorrowTimeoutSeconds * 1_000_000;
    expect(breaches(alarm, { borrow: 0.9 * timeoutUs })).toBe(true);
    expect(breaches(alarm, { borrow: 10_000 })).toBe(false);
  });

  test('the free-storage alarm fires before the allocated storage runs out, not while half of it is free', () => {
    const alarm = alarmNamed('db-free-storage');
    const allocated = profile.database.allocatedStorageGb * 2 ** 30;
    expect(breaches(alarm, { free: 0.05 * allocated })).toBe(true);
    expect(breaches(alarm, { free: 0.5 * allocated })).toBe(false);
  });

  test('the concurrency alarm fires before the function is throttled, and exists only when the ceiling is known', () => {
    const alarm = alarmNamed('lambda-concurrency');
    const ceiling = profile.function.reservedConcurrency ?? (profile.function.accountConcurrencyLimit === undefined ? undefined : profile.function.accountConcurrencyLimit - 100);
    if (ceiling === undefined) return expect(alarm).toBeUndefined();
    expect(breaches(alarm, { concurrency: ceiling - 1 })).toBe(true);
    expect(breaches(alarm, { concurrency: Math.floor(ceiling / 2) })).toBe(false);
  });

  test('proxy-pool-usage reads the pool as the proxy publishes it (per node): no page at half the pool, a page near its end', () => {
    const alarm = alarmNamed('proxy-pool-usage');
    for (const nodes of [1, 2, 3]) {
      const allowed = 90 * nodes;
      expect(breaches(alarm, publishedBy(alarm, { connections: split(allowed / 2, nodes), allowed: split(allowed, nodes) }))).toBe(false);
      expect(breaches(alarm, publishedBy(alarm, { connections: split(0.95 * allowed, nodes), allowed: split(allowed, nodes) }))).toBe(true);
    }
  });

  test('db-connections fires before the real max_connections of the profile\'s class, whatever DBInstanceClassMemory leaves of its memory', () => {
    const alarm = alarmNamed('db-connections');
    expect(connectionLimitProblems(alarm, profile)).toEqual([]);
  });

  test('the request path is covered end to end: API, Lambda, proxy, database, function metrics, and the cache only when enabled', () => {
    const namespaces = new Set(alarmMetrics(ops).map((m) => `${m.namespace}/${m.name}`));
    for (const required of [
      'AWS/ApiGateway/5xx',
      'AWS/ApiGateway/Latency',
      'AWS/Lambda/Errors',
      'AWS/Lambda/Throttles',
      'AWS/Lambda/Duration',
      'AWS/RDS/ClientConnectionsSetupFailedAuth',
      'AWS/RDS/DatabaseConnectionsBorrowLatency',
      'AWS/RDS/MaxDatabaseConnectionsAllowed',
      'AWS/RDS/AvailabilityPercentage',
      'AWS/RDS/CPUUtilization',
      'AWS/RDS/FreeStorageSpace',
      `${APP_METRICS_NAMESPACE}/${METRIC.dbUnavailable.saturated}`,
    ]) {
      expect(namespaces).toContain(required);
    }
    // With tenants, the tenants function's own failures too: refused logins and every STS error.
    const tenantMetrics = [...namespaces].filter((n) => [METRIC.loginFailures, ...Object.values(METRIC.stsErrors)].some((m) => n === `${APP_METRICS_NAMESPACE}/${m}`));
    expect(tenantMetrics).toHaveLength(profile.tenants.count > 0 ? 1 + Object.keys(METRIC.stsErrors).length : 0);
    const cacheMetrics = [...namespaces].filter((n) => n.startsWith('AWS/ElastiCache/') || n === `${APP_METRICS_NAMESPACE}/${METRIC.cacheBypass}`);
    if (profile.cache.enabled) expect(cacheMetrics.sort()).toEqual(['AWS/ElastiCache/CPUUtilization', 'AWS/ElastiCache/CurrConnections', 'AWS/ElastiCache/Evictions', `${APP_METRICS_NAMESPACE}/${METRIC.cacheBypass}`]);
    else expect(cacheMetrics).toEqual([]);
  });

  test('the dashboard follows a request: API, Lambda, function, proxy, database, (cache), prune', () => {
    const body = JSON.parse(single(ops, 'aws_cloudwatch_dashboard').dashboard_body);
    const headings = body.widgets.filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown);
    const expected = [
      'API',
      'Lambda: hits',
      'Function metrics',
      // The tenants function's rows beside the hits function's, in their shape.
      ...(profile.tenants.count > 0 ? ['Lambda: tenants', 'Tenants function metrics'] : []),
      'RDS Proxy',
      'RDS for MySQL',
      ...(profile.cache.enabled ? ['ElastiCache'] : []),
      'Prune',
      ...(directArmEnabled(profile) ? ['A/B', 'A/B', 'A/B'] : []),
    ];
    expect(headings.map((h: string) => expected.find((e) => h.startsWith(`## ${e}`)))).toStrictEqual(expected);
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      if (w.type === 'metric') expect(w.properties.region).toBe(profile.region);
    }
  });

  test(`the dashboard's A/B section ${directArmEnabled(profile) ? `compares the arms: 5xx and latency p50/p90/p99 per API, concurrency and throttles per function, ${directArmDatabase(profile) === 'own' ? "each arm's database" : 'the shared database'}: connections, CPU, IAM logins and refusals; proxy connections` : 'is absent: no direct arm'}`, () => {
    const body = JSON.parse(single(ops, 'aws_cloudwatch_dashboard').dashboard_body);
    const start = body.widgets.find((w: any) => w.type === 'text' && w.properties.markdown.startsWith('## A/B'))?.y;
    if (!directArmEnabled(profile)) {
      expect(start).toBeUndefined();
      return;
    }
    // Every A/B graph, by title: its lines as [metric, statistic, the resource the dimension value names].
    const producers = { [env.stacks.api.node.id]: env.api, [env.stacks.data.node.id]: env.data } as Record<string, StackJson>;
    const named = (value: string) => {
      const m = REMOTE.exec(value);
      return m ? producers[m[1]]?.output?.[m[2]]?.value : value;
    };
    const graphs = Object.fromEntries(
      body.widgets
        .filter((w: any) => w.type === 'metric' && w.y > start)
        .map((w: any) => [w.properties.title, w.properties.metrics.map((line: any[]) => [`${line[0]}/${line[1]}`, line[line.length - 1].stat, named(line[3])])]),
    );
    const ref = (type: string, attr: string) => resources(env[type.startsWith('aws_db') ? 'data' : 'api'], type).map(([n]) => `\${${type}.${n}.${attr}}`).sort();
    const apis = ref('aws_apigatewayv2_api', 'id');
    const functions = ref('aws_lambda_function', 'function_name');
    expect(apis).toHaveLength(2);
    expect(functions).toHaveLength(profile.tenants.count > 0 ? 4 : 2);
    const sorted = (lines: any[][]) => lines.map((l) => JSON.stringify(l)).sort();
    const each = (targets: string[], metric: string, stats: string[]) => sorted(targets.flatMap((t) => stats.map((st) => [metric, st, t])));
    expect(sorted(graphs['5xx per arm'])).toEqual(each(apis, 'AWS/ApiGateway/5xx', ['Sum']));
    expect(sorted(graphs['Latency per arm (ms): p50, p90, p99'])).toEqual(each(apis, 'AWS/ApiGateway/Latency', ['p50', 'p90', 'p99']));
    expect(sorted(graphs['Concurrent executions per function'])).toEqual(each(functions, 'AWS/Lambda/ConcurrentExecutions', ['Maximum']));
    expect(sorted(graphs['Throttles per function'])).toEqual(each(functions, 'AWS/Lambda/Throttles', ['Sum']));
    // Each arm's database once: the proxy's target, and the direct arm's own instance or the same one.
    const byArm = { proxy: proxyInstance(env.data)!, direct: directInstance(env)! };
    const databases = [...new Set(Object.values(byArm).map(([n]) => `\${aws_db_instance.${n}.identifier}`))];
    expect(databases).toHaveLength(directArmDatabase(profile) === 'own' ? 2 : 1);
    for (const [title, metric, stat] of [
      ['Database connections', 'DatabaseConnections', 'Maximum'],
      ['Database CPU (%)', 'CPUUtilization', 'Average'],
      ['New IAM connections per database', 'IamDbAuthConnectionRequests', 'Sum'],
      ['IAM logins refused per database', 'IamDbAuthConnectionFailure', 'Sum'],
    ]) {
      expect([title, sorted(graphs[title])]).toEqual([title, each(databases, `AWS/RDS/${metric}`, [stat])]);
    }
    // Two instances: each line says whose it is; one: no arm is named.
    const labels = (title: string) => body.widgets.find((w: any) => w.properties.title === title).properties.metrics.map((line: any[]) => [named(line[3]), line[line.length - 1].label]);
    expect(labels('IAM logins refused per database')).toEqual(
      databases.length === 1
        ? [[databases[0], 'IAM logins refused']]
        : Object.entries(byArm).map(([arm, [n]]) => [`\${aws_db_instance.${n}.identifier}`, `${arm} IAM logins refused`]),
    );
    expect(sorted(graphs['Proxy: client vs database connections'])).toEqual(sorted([...each(ref('aws_db_proxy', 'name'), 'AWS/RDS/ClientConnections', ['Sum']).map((l) => JSON.parse(l)), ...each(ref('aws_db_proxy', 'name'), 'AWS/RDS/DatabaseConnections', ['Sum']).map((l) => JSON.parse(l))]));
    // No alarm watches the direct arm: a temporary experiment, read here and in the load report.
    const directNames = resources(env.api, 'aws_lambda_function').filter(([n]) => n.startsWith('direct-arm_')).map(([n]) => n);
    expect(JSON.stringify(alarms)).not.toMatch(new RegExp(directNames.join('|')));
  });

  // --- the tenants function (proxy arm) ---------------------------------------------------------------
  const tenantsAlarms = alarms.filter((a) => a.alarm_name.startsWith(`${profile.project}-${profile.name}-tenants-`));
  /** The api stack's function a dimension value (FunctionName, service) names, through the api stack's outputs. */
  const functionNamed = (value: string) => {
    const m = REMOTE.exec(value);
    const ref = m && m[1] === env.stacks.api.node.id ? env.api.output?.[m[2]]?.value : undefined;
    const name = /^\$\{aws_lambda_function\.([^.]+)\.function_name\}$/.exec(ref ?? '')?.[1];
    return name === undefined ? undefined : ([name, env.api.resource!.aws_lambda_function[name]] as [string, any]);
  };
  const isProxyTenants = (fn: [string, any] | undefined) => !!fn && !fn[0].startsWith('direct-arm_') && fn[1].environment.variables.TENANT_ACCESS_ROLE_ARN !== undefined;

  test(`tenants alarms: ${profile.tenants.count > 0 ? "5xx share, throttles, refused logins, STS errors, on the proxy arm's tenants function only" : 'none, no tenants'}`, () => {
    expect(tenantsAlarms.map((a) => a.alarm_name.slice(`${profile.project}-${profile.name}-`.length)).sort()).toEqual(
      profile.tenants.count > 0 ? ['tenants-5xx-rate', 'tenants-login-failures', 'tenants-sts-errors', 'tenants-throttles'] : [],
    );
    for (const a of tenantsAlarms) {
      for (const q of a.metric_query.filter((q: any) => q.metric)) {
        const value = q.metric.dimensions.FunctionName ?? q.metric.dimensions.service;
        expect([a.alarm_name, q.id, isProxyTenants(functionNamed(value))]).toEqual([a.alarm_name, q.id, true]);
      }
    }
  });

  const periods = <T,>(values: T, times: number): T[] => Array.from({ length: times }, () => values);
  const tenantsAlarm = (suffix: string) => tenantsAlarms.find((a) => a.alarm_name.endsWith(`-tenants-${suffix}`));

  test('tenants-5xx-rate: fires on the share of failed tenant requests, crashes included, sustained, not on a blip', () => {
    const alarm = tenantsAlarm('5xx-rate');
    if (profile.tenants.count === 0) return expect(alarm).toBeUndefined();
    const share = (failed: number) => ({ requests: 1000, failed: (failed / 100) * 1000, crashed: undefined });
    expect(breaches(alarm, share(SERVER_ERROR_SHARE_PERCENT / 2))).toBe(false);
    expect(breaches(alarm, share(SERVER_ERROR_SHARE_PERCENT * 2))).toBe(true);
    // Every invocation crashed or timed out: no request line, so no request metric at all; the API answered 5xx.
    expect(breaches(alarm, { requests: undefined, failed: undefined, crashed: 20 })).toBe(true);
    expect(breaches(alarm, { requests: 1000, failed: undefined, crashed: (SERVER_ERROR_SHARE_PERCENT * 2 * 1000) / 100 })).toBe(true);
    expect(breaches(alarm, { requests: undefined, failed: undefined, crashed: undefined })).not.toBe(true);
    const [bad, good] = [share(SERVER_ERROR_SHARE_PERCENT * 2), share(0)];
    expect(inAlarmAfter(alarm, [bad, good, bad, good, good])).toBe(false);
    expect(inAlarmAfter(alarm, [bad, good, bad, good, bad])).toBe(true);
  });

  test.each(['lambda-throttles', 'tenants-throttles'])('%s: fires when invocations are throttled, even when every one was (no Invocations at all)', (suffix) => {
    const alarm = alarmNamed(suffix);
    if (suffix.startsWith('tenants-') && profile.tenants.count === 0) return expect(alarm).toBeUndefined();
    expect(breaches(alarm, { invocations: 1000, throttles: undefined })).toBe(false);
    expect(breaches(alarm, { invocations: 1000, throttles: 1 })).toBe(false);
    expect(breaches(alarm, { invocations: 1000, throttles: 100 })).toBe(true);
    expect(breaches(alarm, { invocations: undefined, throttles: 50 })).toBe(true);
    expect(breaches(alarm, { invocations: undefined, throttles: undefined })).not.toBe(true);
  });

  test('tenants-login-failures: fires when the database keeps refusing tenant logins, not on a stray refusal the retry absorbs', () => {
    const alarm = tenantsAlarm('login-failures');
    if (profile.tenants.count === 0) return expect(alarm).toBeUndefined();
    expect(breaches(alarm, { requests: 1000, refused: undefined })).toBe(false);
    expect(breaches(alarm, { requests: 1000, refused: 2 })).toBe(false);
    expect(breaches(alarm, { requests: 1000, refused: 100 })).toBe(true);
    expect(inAlarmAfter(alarm, [...periods({ requests: 1000, refused: 100 }, 2), ...periods({ requests: 1000, refused: undefined }, 3)])).toBe(false);
    expect(inAlarmAfter(alarm, [...periods({ requests: 1000, refused: undefined }, 2), ...periods({ requests: 1000, refused: 100 }, 3)])).toBe(true);
  });

  test('tenants-sts-errors: every STS error counts, throttled, denied or unavailable; errors in 3 of 5 minutes fire, one minute does not', () => {
    const alarm = tenantsAlarm('sts-errors');
    if (profile.tenants.count === 0) return expect(alarm).toBeUndefined();
    const queries = alarm.metric_query.filter((q: any) => q.metric);
    expect(queries.map((q: any) => q.metric.metric_name).sort()).toEqual(Object.values(METRIC.stsErrors).sort());
    const none = Object.fromEntries(queries.map((q: any) => [q.id, undefined]));
    expect(breaches(alarm, none)).not.toBe(true);
    for (const q of queries) {
      const one = { ...none, [q.id]: 1 };
      expect([q.metric.metric_name, inAlarmAfter(alarm, [none, none, one, none, none])]).toEqual([q.metric.metric_name, false]);
      expect([q.metric.metric_name, inAlarmAfter(alarm, [one, none, one, none, one])]).toEqual([q.metric.metric_name, true]);
    }
  });

  test(`the dashboard ${profile.tenants.count > 0 ? "shows the proxy arm's tenants function in two rows after the hits rows" : 'has no tenants row'}`, () => {
    const body = JSON.parse(single(ops, 'aws_cloudwatch_dashboard').dashboard_body);
    const headings = body.widgets.filter((w: any) => w.type === 'text');
    const start = headings.find((w: any) => w.properties.markdown === '## Lambda: tenants function')?.y;
    if (profile.tenants.count === 0) return expect(start).toBeUndefined();
    const end = headings.find((w: any) => w.properties.markdown === '## RDS Proxy').y;
    const lines = body.widgets.filter((w: any) => w.type === 'metric' && w.y > start && w.y < end).flatMap((w: any) => w.properties.metrics);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    // Every line of these rows is the proxy arm's tenants function (by FunctionName or service), never the hits or a direct-arm function.
    for (const line of lines) expect([line[1], isProxyTenants(functionNamed(line[3]))]).toEqual([line[1], true]);
    const names = new Set(lines.map((l: any[]) => l[1]));
    for (const m of [METRIC.requests, METRIC.latency, METRIC.stsCalls, ...Object.values(METRIC.stsErrors), METRIC.poolsOpened, METRIC.poolsEvicted, METRIC.poolsRefused, METRIC.loginFailures, 'Invocations', 'Throttles']) expect(names).toContain(m);
  });

  test('the topic is encrypted with its own key, whose policy lets CloudWatch and RDS events use it; e-mail only when the profile names one', () => {
    const topic = single(ops, 'aws_sns_topic');
    const [keyName, key] = resources(ops, 'aws_kms_key')[0];
    expect(topic.kms_master_key_id).toBe(`\${aws_kms_key.${keyName}.arn}`);
    expect(key.enable_key_rotation).toBe(true);
    const services = JSON.parse(key.policy).Statement.filter((s: any) => s.Principal?.Service);
    expect(services.map((s: any) => s.Principal.Service).sort()).toEqual(['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com']);
    for (const statement of services) expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    const subscriptions = resources(ops, 'aws_sns_topic_subscription').map(([, s]) => s);
    expect(subscriptions).toEqual(profile.alarms.email ? [expect.objectContaining({ protocol: 'email', endpoint: profile.alarms.email })] : []);
  });

  test('RDS may publish to the topic for this environment\'s database only', () => {
    const statement = JSON.parse(single(ops, 'aws_sns_topic_policy').policy).Statement.find((s: any) => s.Principal?.Service === 'events.rds.amazonaws.com');
    const sourceArn: string = statement.Condition.ArnLike['aws:SourceArn'];
    // The proxy arm's: the direct arm's own instance (when it has one) is an experiment nobody is paged for.
    const identifier = proxyInstance(env.data)![1].identifier;
    const pattern = new RegExp(`^${sourceArn.replace(/\$\{[^}]+\}/g, 'X').replace(/[.+?^()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    expect(pattern.test(`arn:X:rds:X:X:db:${identifier}`)).toBe(true);
    expect(pattern.test('arn:X:rds:X:X:db:someone-else')).toBe(false);
  });

  test('RDS events of the database (failover, failure, low storage, maintenance) go to the topic', () => {
    const sub = single(ops, 'aws_db_event_subscription');
    expect(sub.event_categories).toEqual(['failover', 'failure', 'low storage', 'maintenance']);
    expect(sub.source_type).toBe('db-instance');
    expect(dimensionProblems(env, { where: 'event subscription', namespace: 'AWS/RDS', name: 'x', dimensions: {} }, 'DBInstanceIdentifier', sub.source_ids[0])).toEqual([]);
    expect(sub.sns_topic).toBe(`\${aws_sns_topic.${resources(ops, 'aws_sns_topic')[0][0]}.arn}`);
    // Created only once RDS may publish: after the topic policy and the key (whose policy is inline).
    expect(sub.depends_on).toEqual(expect.arrayContaining([`aws_sns_topic_policy.${resources(ops, 'aws_sns_topic_policy')[0][0]}`, `aws_kms_key.${resources(ops, 'aws_kms_key')[0][0]}`]));
  });

  test('the prune: scheduled through a role that may only invoke it, the retention from the profile, created after its grant', () => {
    const [fnName, fn] = resources(ops, 'aws_lambda_function')[0];
    expect(fn.environment.variables.HITS_RETENTION_DAYS).toBe(String(profile.hits.retentionDays));
    const schedule = single(ops, 'aws_scheduler_schedule');
    expect(schedule.target.arn).toBe(`\${aws_lambda_function.${fnName}.arn}`);
    expect(schedule.flexible_time_window).toEqual({ mode: 'OFF' });
    const role = Object.entries(ops.resource!.aws_iam_role).find(([n]) => schedule.target.role_arn === `\${aws_iam_role.${n}.arn}`)!;
    expect(JSON.parse(role[1].assume_role_policy).Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    const policies = resources(ops, 'aws_iam_role_policy').filter(([, p]) => p.role === `\${aws_iam_role.${role[0]}.id}`);
    expect(policies.map(([, p]) => JSON.parse(p.policy).Statement)).toEqual([[expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: `\${aws_lambda_function.${fnName}.arn}` })]]);
    const grant = resources(ops, 'aws_iam_role_policy').find(([, p]) => JSON.parse(p.policy).Statement[0].Action === 'rds-db:connect')!;
    expect(fn.depends_on).toContain(`aws_iam_role_policy.${grant[0]}`);
    // Same database contract as the hits function, so both switch user together.
    const hitsEnv = resources(env.api, 'aws_lambda_function').find(([, f]) => f.environment.variables.TENANT_ACCESS_ROLE_ARN === undefined)![1].environment.variables;
    for (const k of ['DB_AUTH', 'DB_TLS', 'DB_PORT', 'DB_IDLE_REBUILD_SECONDS']) expect(fn.environment.variables[k]).toBe(hitsEnv[k]);
    expect(fn.reserved_concurrent_executions).toBe(profile.function.reservedConcurrency === undefined ? undefined : 1);
  });

  test('ops depends on data and api (and network), and no stack reads ops', () => {
    const remote = Object.keys(ops.data?.terraform_remote_state ?? {}).sort();
    expect(remote).toEqual([env.stacks.api, env.stacks.data, env.stacks.network].map((s) => `cross-stack-reference-input-${s.node.id}`).sort());
    for (const kind of ['network', 'data', 'api'] as const) {
      expect(Object.keys(env[kind].data?.terraform_remote_state ?? {})).not.toContain(`cross-stack-reference-input-${env.stacks.ops.node.id}`);
    }
  });
});

describe('tenants on and off: the ops stack', () => {
  const withTenants = (p: Profile, count: number): Profile => ({ ...p, tenants: { ...p.tenants, count } });
  // The shipped profiles with tenants on, then off (each set synthesized once per run).
  const tenantsOn = synthEnvironments(PROFILES.map((p) => withTenants(p, p.tenants.count || 5)), 'tenants-on');
  const tenantsOff = synthEnvironments(PROFILES.map((p) => withTenants(p, 0)), 'tenants-off');
  const names = (s: StackJson) => Object.entries(s.resource ?? {}).flatMap(([t, r]) => Object.keys(r).map((n) => `${t}.${n}`));
  const widgets = (s: StackJson) => JSON.parse(single(s, 'aws_cloudwatch_dashboard').dashboard_body).widgets as any[];
  const place = (w: any) => ({ x: w.x, y: w.y, width: w.width, height: w.height, title: w.properties.title ?? w.properties.markdown });

  test.each(tenantsOff.map((e, i) => [e.profile.name, e, tenantsOn[i]] as const))(
    '%s: turning tenants on adds only the tenants alarms and rows; the rows above keep their places, the rows below move down by the rows added',
    (_n, off, on) => {
      const added = names(on.ops).filter((n) => !names(off.ops).includes(n));
      expect(names(off.ops).every((n) => names(on.ops).includes(n))).toBe(true);
      expect(added.map((n) => n.slice(0, n.indexOf('.')))).toEqual(added.map(() => 'aws_cloudwatch_metric_alarm'));
      const prefix = `${on.profile.project}-${on.profile.name}-`;
      expect(added.map((n) => on.ops.resource!.aws_cloudwatch_metric_alarm[n.slice(n.indexOf('.') + 1)].alarm_name.slice(prefix.length)).sort()).toEqual(
        ['tenants-5xx-rate', 'tenants-login-failures', 'tenants-sts-errors', 'tenants-throttles'],
      );
      const before = widgets(off.ops).map(place);
      const after = widgets(on.ops).map(place);
      const first = after.findIndex((w) => w.title === '## Lambda: tenants function');
      const rows = after.slice(first).findIndex((w) => w.title === '## RDS Proxy');
      const inserted = after.slice(first, first + rows);
      const shift = Math.max(...inserted.map((w) => w.y + w.height)) - inserted[0].y;
      expect(after.slice(0, first)).toEqual(before.slice(0, first));
      expect(after.slice(first + rows)).toEqual(before.slice(first).map((w) => ({ ...w, y: w.y + shift })));
    },
  );
});

describe('the database-connections check can fail', () => {
  const classes = [...new Map(environments.map((e) => [e.profile.database.instanceClass, e.profile])).values()].filter((p) => INSTANCE_MEMORY_GIB[p.database.instanceClass] !== undefined);

  test.each(classes.map((p) => [p.database.instanceClass, p] as const))('on %s, the former threshold (80%% of the nominal memory / 12582880) fires too late', (_c, profile) => {
    const nominal = Math.floor((INSTANCE_MEMORY_GIB[profile.database.instanceClass] * 2 ** 30) / 12582880);
    const former = { alarm_name: 'former', comparison_operator: 'GreaterThanThreshold', threshold: Math.floor(0.8 * nominal), metric_query: [{ id: 'connections', return_data: true, metric: { stat: 'Maximum' } }] };
    expect(connectionLimitProblems(former, profile)).toEqual(expect.arrayContaining([expect.stringMatching(/fires at/)]));
  });

  test('proxy-pool-usage as it was (Sum over Maximum) pages at half the pool of a two-node proxy', () => {
    const env = environments[0];
    const alarm = structuredClone(resources(env.ops, 'aws_cloudwatch_metric_alarm').map(([, a]) => a).find((a) => a.alarm_name.endsWith('-proxy-pool-usage')));
    alarm.metric_query.find((q: any) => q.id === 'allowed').metric.stat = 'Maximum';
    expect(breaches(alarm, publishedBy(alarm, { connections: split(45, 2), allowed: split(90, 2) }))).toBe(true);
  });
});

describe('a changed profile value moves its alarm the right way', () => {
  const baseEnv = environments.find((e) => !e.variant && e.profile.name === PROFILES[0].name)!;
  const base = baseEnv.profile;
  const timeout = Math.min(29, base.function.timeoutSeconds + 2);
  const moved: Profile = {
    ...base,
    name: 'moved',
    function: { ...base.function, timeoutSeconds: timeout },
    proxy: {
      ...base.proxy,
      connectionBorrowTimeoutSeconds: Math.min(timeout - 1, base.proxy.connectionBorrowTimeoutSeconds + 1),
      maxConnectionsPercent: Math.max(1, base.proxy.maxIdleConnectionsPercent, base.proxy.maxConnectionsPercent - 30),
    },
    database: {
      ...base.database,
      allocatedStorageGb: Math.min(32768, base.database.allocatedStorageGb * 2),
      maxAllocatedStorageGb: base.database.maxAllocatedStorageGb === 0 ? 0 : Math.max(base.database.maxAllocatedStorageGb, base.database.allocatedStorageGb * 2 + 1),
    },
  };
  const [movedEnv] = synthEnvironments([moved], 'ops-moved');
  const alarmOf = (env: SynthesizedEnvironment, suffix: string) => resources(env.ops, 'aws_cloudwatch_metric_alarm').map(([, a]) => a).find((a) => a.alarm_name.endsWith(`-${suffix}`));
  const firesFrom = (env: SynthesizedEnvironment, suffix: string, id: string, hi: number) => crossing((x) => breaches(alarmOf(env, suffix), { [id]: x }) === true, 0, hi);
  const quietFrom = (env: SynthesizedEnvironment, suffix: string, id: string, hi: number) => crossing((x) => breaches(alarmOf(env, suffix), { [id]: x }) === false, 0, hi);

  test('a longer function timeout: the duration alarm fires later', () => {
    const change = Math.sign(moved.function.timeoutSeconds - base.function.timeoutSeconds);
    expect(Math.sign(firesFrom(movedEnv, 'lambda-duration-p99', 'duration', 30_000)! - firesFrom(baseEnv, 'lambda-duration-p99', 'duration', 30_000)!)).toBe(change);
  });

  test('a longer borrow timeout: the borrow-latency alarm fires later', () => {
    const change = Math.sign(moved.proxy.connectionBorrowTimeoutSeconds - base.proxy.connectionBorrowTimeoutSeconds);
    expect(Math.sign(firesFrom(movedEnv, 'proxy-borrow-latency', 'borrow', 3600e6)! - firesFrom(baseEnv, 'proxy-borrow-latency', 'borrow', 3600e6)!)).toBe(change);
  });

  test('more allocated storage: the free-storage alarm fires with more bytes still free', () => {
    const hi = moved.database.allocatedStorageGb * 2 ** 30;
    const change = Math.sign(moved.database.allocatedStorageGb - base.database.allocatedStorageGb);
    expect(Math.sign(quietFrom(movedEnv, 'db-free-storage', 'free', hi)! - quietFrom(baseEnv, 'db-free-storage', 'free', hi)!)).toBe(change);
  });

  test('a smaller proxy share of max_connections: db-connections still fires before the same real limit', () => {
    expect(moved.proxy.maxConnectionsPercent).not.toBe(base.proxy.maxConnectionsPercent);
    expect(connectionLimitProblems(alarmOf(movedEnv, 'db-connections'), moved)).toEqual([]);
  });
});
