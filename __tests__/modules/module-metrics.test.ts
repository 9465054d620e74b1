/**
 * The metricX() helpers of the existing modules and NodeFunction's metrics namespace and ordering helper:
 * names, dimensions (references to the module's own resources) and default statistics.
 */
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { HttpApi } from '../../modules/http-api';
import { MemcachedCluster } from '../../modules/memcached-cluster';
import { MysqlDatabase } from '../../modules/mysql-database';
import { NodeFunction, type NodeFunctionProps } from '../../modules/node-function';
import { RdsProxy } from '../../modules/rds-proxy';
import { resources, single, type StackJson } from '../support/synth';

const FN: NodeFunctionProps = { functionName: 'echo-test', entry: '__tests__/fixtures/echo-handler.ts', subnetIds: ['subnet-a'], securityGroupIds: ['sg-app'] };

/** Renders token-bearing values the way the stack does: as outputs of one synth. */
function rendered(stack: TerraformStack, values: Record<string, unknown>): { json: StackJson; out: Record<string, any> } {
  for (const [k, v] of Object.entries(values)) new TerraformOutput(stack, k, { value: v });
  const json: StackJson = JSON.parse(Testing.synth(stack));
  return { json, out: Object.fromEntries(Object.keys(values).map((k) => [k, json.output![k].value])) };
}

describe('NodeFunction', () => {
  test('metricsNamespace sets the Powertools variables (service = the function name) and describes the EMF metrics', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const fn = new NodeFunction(stack, 'fn', { ...FN, metricsNamespace: 'hits', environment: { A: '1' } });
    const { json, out } = rendered(stack, { app: fn.metricApp('CacheBypass', 'Sum', {}, { route: 'list', statusClass: '2xx' }), duration: fn.metricDuration() });
    expect(single(json, 'aws_lambda_function').environment.variables).toEqual({ A: '1', POWERTOOLS_METRICS_NAMESPACE: 'hits', POWERTOOLS_SERVICE_NAME: 'echo-test' });
    const [name] = resources(json, 'aws_lambda_function')[0];
    expect(out.app).toEqual({ namespace: 'hits', metricName: 'CacheBypass', dimensions: { service: `\${aws_lambda_function.${name}.function_name}`, route: 'list', statusClass: '2xx' }, statistic: 'Sum', periodSeconds: 60 });
    expect(out.duration).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Duration', statistic: 'p99', dimensions: { FunctionName: `\${aws_lambda_function.${name}.function_name}` } });
    expect(fn.metricConcurrentExecutions().statistic).toBe('Maximum');
  });

  test('without a namespace there are no Powertools variables and metricApp() says what is missing', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const fn = new NodeFunction(stack, 'fn', FN);
    expect(() => fn.metricApp('Requests', 'Sum')).toThrow(/NodeFunction: metricsNamespace must be set/);
    expect(single(JSON.parse(Testing.synth(stack)), 'aws_lambda_function').environment).toBeUndefined();
  });

  test.each([['AWS/Lambda'], ['has space']])('refuses the namespace %s', (ns) => {
    expect(() => new NodeFunction(new TerraformStack(Testing.app(), 'test'), 'fn', { ...FN, metricsNamespace: ns })).toThrow(/NodeFunction: metricsNamespace/);
  });

  test('addDependency orders the function after a resource, e.g. its grant', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const fn = new NodeFunction(stack, 'fn', FN);
    const other = new IamRole(stack, 'other', { assumeRolePolicy: '{}' });
    fn.addDependency(other);
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(single(json, 'aws_lambda_function').depends_on).toContain(`aws_iam_role.${resources(json, 'aws_iam_role').find(([n]) => n.startsWith('other'))![0]}`);
  });
});

test('HttpApi, RdsProxy, MysqlDatabase and MemcachedCluster name their metrics and dimensions from their own resources', () => {
  const stack = new TerraformStack(Testing.app(), 'test');
  const api = new HttpApi(stack, 'api', { name: 'a', functionName: 'f', functionInvokeArn: 'arn:invoke' });
  const db = new MysqlDatabase(stack, 'db', { name: 'hits-test', vpcId: 'vpc', subnetIds: ['a', 'b'], monitoringIntervalSeconds: 0 });
  const proxy = new RdsProxy(stack, 'proxy', { name: 'hits-test', database: db, subnetIds: ['a', 'b'] });
  const cache = new MemcachedCluster(stack, 'cache', { name: 'hits-test', vpcId: 'vpc', subnetIds: ['a', 'b'], availabilityZones: ['x', 'y'], numCacheNodes: 3 });
  const { json, out } = rendered(stack, {
    errors5xx: api.metricServerErrors(),
    latency: api.metricLatency(),
    storage: db.metricFreeStorageSpace(),
    iamFailures: db.metricIamAuthFailures(),
    iamRequests: db.metricIamAuthRequests({ label: 'new IAM connections' }),
    availability: proxy.metricAvailability(),
    borrow: proxy.metricDatabaseConnectionsBorrowLatency(),
    evictions: cache.metricPerNode('Evictions', 'Sum'),
  });
  const ref = (type: string, attr: string) => `\${${type}.${resources(json, type)[0][0]}.${attr}}`;

  expect(out.errors5xx).toMatchObject({ namespace: 'AWS/ApiGateway', metricName: '5xx', statistic: 'Sum', dimensions: { ApiId: ref('aws_apigatewayv2_api', 'id') } });
  expect(out.latency.statistic).toBe('p99');
  expect(out.storage).toMatchObject({ namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', statistic: 'Minimum', dimensions: { DBInstanceIdentifier: ref('aws_db_instance', 'identifier') } });
  // IAM logins the instance took and refused: counts, so summed per minute, per instance.
  expect(out.iamFailures).toEqual({ namespace: 'AWS/RDS', metricName: 'IamDbAuthConnectionFailure', statistic: 'Sum', periodSeconds: 60, dimensions: { DBInstanceIdentifier: ref('aws_db_instance', 'identifier') } });
  expect(out.iamRequests).toMatchObject({ metricName: 'IamDbAuthConnectionRequests', statistic: 'Sum', label: 'new IAM connections', dimensions: { DBInstanceIdentifier: ref('aws_db_instance', 'identifier') } });
  expect(out.availability).toMatchObject({
    metricName: 'AvailabilityPercentage',
    dimensions: { ProxyName: ref('aws_db_proxy', 'name'), TargetGroup: ref('aws_db_proxy_default_target_group', 'name'), TargetRole: 'READ_WRITE' },
  });
  expect(out.borrow.dimensions).toEqual({ ProxyName: ref('aws_db_proxy', 'name') });
  const nodes = out.evictions as Array<{ dimensions: Record<string, string> }>;
  expect(nodes.map((m) => m.dimensions.CacheNodeId)).toEqual([0, 1, 2].map((i) => `\${aws_elasticache_cluster.${resources(json, 'aws_elasticache_cluster')[0][0]}.cache_nodes[${i}].id}`));
  // The log groups the exports and the proxy write to exist, with the modules' default retention.
  expect(resources(json, 'aws_cloudwatch_log_group').map(([, g]) => [g.name, g.retention_in_days]).filter(([n]) => n.startsWith('/aws/rds/')).sort()).toEqual([
    ['/aws/rds/instance/hits-test/error', 14],
    ['/aws/rds/instance/hits-test/iam-db-auth-error', 14],
    ['/aws/rds/instance/hits-test/slowquery', 14],
    ['/aws/rds/proxy/hits-test', 14],
  ]);
  expect(() => new MysqlDatabase(new TerraformStack(Testing.app(), 't'), 'db', { name: 'x', vpcId: 'v', subnetIds: ['a', 'b'], cloudwatchLogsExports: ['errors' as never] })).toThrow(/MysqlDatabase: cloudwatchLogsExports/);
});
