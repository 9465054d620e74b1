/**
 * The ops stack of every profile (and a cache-off and an e-mail variant): every metric in every alarm and
 * on the dashboard is a metric its namespace publishes, with a dimension set it publishes, and every
 * dimension value names a resource that exists; thresholds follow the profile; the topic, the RDS events,
 * the prune and its schedule are wired as the README's operating section says.
 */
import { PROFILES, type Profile } from '../../config';
import { METRIC } from '../../functions/lib/metrics';
import { environmentsUnderTest, resources, single, synthEnvironments, titleOf, type EnvironmentUnderTest, type StackJson, type SynthesizedEnvironment } from '../support/synth';

type StackKind = 'network' | 'data' | 'api' | 'ops';

/**
 * Valid metric names per namespace with the dimension sets CloudWatch publishes them under, from AWS's
 * documentation: "Amazon API Gateway metrics" (HTTP APIs: ApiId, ApiId+Stage, ApiId+Stage+Route), "Monitoring
 * functions: Lambda metrics" (FunctionName), "Amazon CloudWatch metrics for Amazon RDS" (DBInstanceIdentifier),
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
    DatabaseConnections: [['DBInstanceIdentifier'], PROXY_SET_1, PROXY_SET_3, PROXY_SET_4],
    ClientConnections: [PROXY_SET_1, PROXY_SET_2],
    ClientConnectionsSetupFailedAuth: [PROXY_SET_1, PROXY_SET_2],
    DatabaseConnectionsBorrowLatency: [PROXY_SET_1, PROXY_SET_2],
    MaxDatabaseConnectionsAllowed: [PROXY_SET_1, PROXY_SET_3, PROXY_SET_4],
    QueryDatabaseResponseLatency: [PROXY_SET_1, PROXY_SET_2, PROXY_SET_3, PROXY_SET_4],
    AvailabilityPercentage: [PROXY_SET_4],
  },
  'AWS/ElastiCache': { CPUUtilization: MEMCACHED_NODE, Evictions: MEMCACHED_NODE, CurrConnections: MEMCACHED_NODE, GetHits: MEMCACHED_NODE, GetMisses: MEMCACHED_NODE },
  hits: {
    ...Object.fromEntries([METRIC.requests, METRIC.latency, METRIC.dbTime, METRIC.cacheHit, METRIC.cacheMiss, METRIC.cacheBypass, ...Object.values(METRIC.dbUnavailable)].map((n) => [n, APP])),
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
  route: { literal: /^(health|list|record|invalid)$/ },
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

  test('thresholds follow the profile', () => {
    expect(alarmNamed('lambda-duration-p99')?.threshold).toBe(0.8 * profile.function.timeoutSeconds * 1000);
    expect(alarmNamed('proxy-borrow-latency')?.threshold).toBe(0.5 * profile.proxy.connectionBorrowTimeoutSeconds * 1_000_000);
    expect(alarmNamed('db-free-storage')?.threshold).toBe(0.1 * profile.database.allocatedStorageGb * 2 ** 30);
    const ceiling = profile.function.reservedConcurrency ?? (profile.function.accountConcurrencyLimit === undefined ? undefined : profile.function.accountConcurrencyLimit - 100);
    if (ceiling === undefined) expect(alarmNamed('lambda-concurrency')).toBeUndefined();
    else expect(alarmNamed('lambda-concurrency')?.threshold).toBe(Math.floor(0.8 * ceiling));
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
      'hits/DbUnavailableSaturated',
    ]) {
      expect(namespaces).toContain(required);
    }
    const cacheMetrics = [...namespaces].filter((n) => n.startsWith('AWS/ElastiCache/') || n === 'hits/CacheBypass');
    if (profile.cache.enabled) expect(cacheMetrics.sort()).toEqual(['AWS/ElastiCache/CPUUtilization', 'AWS/ElastiCache/CurrConnections', 'AWS/ElastiCache/Evictions', 'hits/CacheBypass']);
    else expect(cacheMetrics).toEqual([]);
  });

  test('the dashboard follows a request: API, Lambda, function, proxy, database, (cache), prune', () => {
    const body = JSON.parse(single(ops, 'aws_cloudwatch_dashboard').dashboard_body);
    const headings = body.widgets.filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown);
    const expected = ['API', 'Lambda', 'Function metrics', 'RDS Proxy', 'RDS for MySQL', ...(profile.cache.enabled ? ['ElastiCache'] : []), 'Prune'];
    expect(headings.map((h: string) => expected.find((e) => h.startsWith(`## ${e}`)))).toEqual(expected);
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      if (w.type === 'metric') expect(w.properties.region).toBe(profile.region);
    }
  });

  test('the topic is encrypted with its own key, whose policy lets CloudWatch and RDS events use it; e-mail only when the profile names one', () => {
    const topic = single(ops, 'aws_sns_topic');
    const [keyName, key] = resources(ops, 'aws_kms_key')[0];
    expect(topic.kms_master_key_id).toBe(`\${aws_kms_key.${keyName}.arn}`);
    expect(key.enable_key_rotation).toBe(true);
    const statement = JSON.parse(key.policy).Statement.find((s: any) => s.Principal?.Service);
    expect(statement.Principal.Service).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com']));
    expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    const subscriptions = resources(ops, 'aws_sns_topic_subscription').map(([, s]) => s);
    expect(subscriptions).toEqual(profile.alarms.email ? [expect.objectContaining({ protocol: 'email', endpoint: profile.alarms.email })] : []);
  });

  test('RDS events of the database (failover, failure, low storage, maintenance) go to the topic', () => {
    const sub = single(ops, 'aws_db_event_subscription');
    expect(sub.event_categories).toEqual(['failover', 'failure', 'low storage', 'maintenance']);
    expect(sub.source_type).toBe('db-instance');
    expect(dimensionProblems(env, { where: 'event subscription', namespace: 'AWS/RDS', name: 'x', dimensions: {} }, 'DBInstanceIdentifier', sub.source_ids[0])).toEqual([]);
    expect(sub.sns_topic).toBe(`\${aws_sns_topic.${resources(ops, 'aws_sns_topic')[0][0]}.arn}`);
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
    const hitsEnv = single(env.api, 'aws_lambda_function').environment.variables;
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

test('every shipped profile has its ops stack checked here', () => {
  for (const p of PROFILES) expect(environments.some((e) => e.profile.name === p.name)).toBe(true);
});
