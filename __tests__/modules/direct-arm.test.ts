/**
 * The way straight to the instance (MysqlDatabase as a DatabaseEndpoint) and the direct-arm components:
 * what they write, and the errors that name the field. The arm's wiring in whole environments is checked
 * in __tests__/stacks/wiring.test.ts and by the policy suite.
 */
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { DirectArm } from '../../components/direct-arm';
import { databaseEnvironment } from '../../components/hits-service';
import { ServiceMonitoring } from '../../components/monitoring';
import { schemaMigrations } from '../../components/schema-migrations';
import type { DatabaseEndpoint } from '../../modules/database-endpoint';
import { MemcachedCluster } from '../../modules/memcached-cluster';
import { MysqlDatabase } from '../../modules/mysql-database';
import { RdsProxy } from '../../modules/rds-proxy';
import { Vpc } from '../../modules/vpc';
import { resources, StackJson } from '../support/synth';

/** The values as Terraform will read them, through outputs of one synth. */
function resolved<T extends string | Record<string, string>>(stack: TerraformStack, values: Record<string, T>): Record<string, T> {
  for (const [k, v] of Object.entries(values)) new TerraformOutput(stack, `resolved-${k}`, { value: v });
  const json: StackJson = JSON.parse(Testing.synth(stack));
  return Object.fromEntries(Object.keys(values).map((k) => [k, json.output![`resolved-${k}`].value]));
}

function setup() {
  const stack = new TerraformStack(Testing.app(), 'test');
  const db = new MysqlDatabase(stack, 'mysql', { name: 'hits-test', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'] });
  const role = new IamRole(stack, 'role', { name: 'r', assumeRolePolicy: '{}' });
  return { stack, db, role };
}

describe('MysqlDatabase as a way in (the direct arm)', () => {
  test('grantConnect: rds-db:connect on exactly dbuser:<db-resource-id>/<user>, partition, region and account from the instance ARN', () => {
    const { stack, db, role } = setup();
    db.grantConnect(role, 'hits_app');
    const json: StackJson = JSON.parse(Testing.synth(stack));
    const [, policy] = resources(json, 'aws_iam_role_policy')[0];
    expect(JSON.parse(policy.policy).Statement).toEqual([{ Sid: 'ConnectToInstance', Effect: 'Allow', Action: 'rds-db:connect', Resource: expect.stringMatching(/^\$\{local\.mysql_connect-arn-prefix_[^}]+\}\/hits_app$/) }]);
    const [dbName] = resources(json, 'aws_db_instance')[0];
    const prefix = Object.entries(json.locals ?? {}).find(([k]) => k.startsWith('mysql_connect-arn-prefix'))![1];
    const arn = `aws_db_instance.${dbName}.arn`;
    expect(prefix).toBe(`\${format("arn:%s:rds-db:%s:%s:dbuser:%s", element(split(":", ${arn}), 1), element(split(":", ${arn}), 3), element(split(":", ${arn}), 4), aws_db_instance.${dbName}.resource_id)}`);
  });

  test('the connect prefix exists only once something connects straight to the instance', () => {
    const { stack } = setup();
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(Object.keys(json.locals ?? {}).filter((k) => k.includes('connect-arn-prefix'))).toEqual([]);
  });

  test('grantConnect and connectArn refuse an empty user; allowConnectionsFrom needs a description', () => {
    const { db, role } = setup();
    expect(() => db.grantConnect(role, '')).toThrow(/MysqlDatabase: connectArn\(dbUser\)/);
    expect(() => db.allowConnectionsFrom('sg-1', 'x')).toThrow(/MysqlDatabase: allowConnectionsFrom\(clientDescription\)/);
  });

  test('the DB_* contract straight to an instance adds DB_CA_BUNDLE=rds; through the proxy it does not', () => {
    const { stack, db } = setup();
    const proxy = new RdsProxy(stack, 'proxy', { name: 'hits-test', database: db, subnetIds: ['subnet-a', 'subnet-b'], endToEndIam: { users: ['hits_app'] } });
    const contract = (endpoint: DatabaseEndpoint) => databaseEnvironment({ endpoint, database: db, username: 'hits_app', idleClientTimeoutSeconds: 1800 }) as Record<string, string>;
    const { direct, proxied } = resolved(stack, { direct: contract(db), proxied: contract(proxy) });
    expect(direct).toMatchObject({ DB_HOST: expect.stringMatching(/^\$\{aws_db_instance\.[^.]+\.address\}$/), DB_PORT: '3306', DB_AUTH: 'iam', DB_TLS: 'verify', DB_CA_BUNDLE: 'rds' });
    expect(proxied).toMatchObject({ DB_HOST: expect.stringMatching(/^\$\{aws_db_proxy\.[^.]+\.endpoint\}$/), DB_AUTH: 'iam', DB_TLS: 'verify' });
    expect((proxied as Record<string, string>).DB_CA_BUNDLE).toBeUndefined();
  });
});

describe('direct-arm components name the field they refuse', () => {
  const vpcIn = (stack: TerraformStack) => new Vpc(stack, 'vpc', { name: 'hits-test', cidrBlock: '10.0.0.0/16', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });

  test('DirectArm: the instance itself, not the proxy', () => {
    const { stack, db } = setup();
    const proxy = new RdsProxy(stack, 'proxy', { name: 'hits-test', database: db, subnetIds: ['subnet-a', 'subnet-b'] });
    expect(() => new DirectArm(stack, 'direct-arm', { namePrefix: 'hits-test', vpc: vpcIn(stack), database: proxy as never, username: 'hits_app', idleClientTimeoutSeconds: 1800 })).toThrow(/DirectArm: database must be a MysqlDatabase/);
  });

  test("DirectArm: its groups and every rule to them in its own stack, beside its functions; the database's and the cache's stack hold none", () => {
    // As the stacks wire it: the database and cache in a data stack, the arm in an api stack that depends on it.
    const app = Testing.app();
    const data = new TerraformStack(app, 'data');
    const api = new TerraformStack(app, 'api');
    const db = new MysqlDatabase(data, 'mysql', { name: 'hits-test', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'] });
    const cache = new MemcachedCluster(data, 'memcached', { name: 'hits-test', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'], availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
    const arm = new DirectArm(api, 'direct-arm', { namePrefix: 'hits-test', vpc: vpcIn(api), database: db, cache, username: 'hits_app', idleClientTimeoutSeconds: 1800, tenants: { count: 2, prefix: 'tenant_' } });
    for (const stack of [data, api]) stack.prepareStack();
    const dataJson: StackJson = JSON.parse(Testing.synth(data));
    const apiJson: StackJson = JSON.parse(Testing.synth(api));
    // The data stack: no rule, no group of the arm (its own groups have none without clients).
    for (const direction of ['ingress', 'egress']) expect(resources(dataJson, `aws_vpc_security_group_${direction}_rule`)).toEqual([]);
    expect(resources(dataJson, 'aws_security_group').map(([, g]) => g.name_prefix).filter((p) => p.includes('direct'))).toEqual([]);
    // The api stack: a group per function, each function in its own.
    const groups = resources(apiJson, 'aws_security_group').filter(([n]) => n.startsWith('direct-arm_'));
    expect(groups.map(([, g]) => g.name_prefix).sort()).toEqual(['hits-test-direct-hits-', 'hits-test-direct-tenants-']);
    const groupRef = (prefix: string) => `\${aws_security_group.${groups.find(([, g]) => g.name_prefix === prefix)![0]}.id}`;
    const hitsGroup = groupRef('hits-test-direct-hits-');
    const tenantsGroup = groupRef('hits-test-direct-tenants-');
    const fnGroups = (name: string) => resources(apiJson, 'aws_lambda_function').find(([, f]) => f.function_name === name)![1].vpc_config.security_group_ids;
    expect(fnGroups('hits-test-direct-hits')).toEqual([hitsGroup]);
    expect(fnGroups('hits-test-direct-tenants')).toEqual([tenantsGroup]);
    expect(arm.tenants).toBeDefined();
    // The database's and the cache's groups, read from the data stack.
    const fromData = (value: string) => dataJson.output?.[/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-data\.outputs\.([^}]+)\}$/.exec(value)?.[1] ?? '']?.value;
    const dataGroup = (prefix: string) => `\${aws_security_group.${resources(dataJson, 'aws_security_group').find(([, g]) => g.name_prefix.startsWith(prefix))![0]}.id}`;
    const rules = (direction: string) => resources(apiJson, `aws_vpc_security_group_${direction}_rule`).map(([, r]) => [r.security_group_id, r.referenced_security_group_id ?? r.cidr_ipv4, r.from_port, r.to_port]);
    const egressOf = (group: string) => rules('egress').filter(([g]) => g === group).map(([, to, from, toPort]) => [fromData(to) ?? to, from, toPort]);
    expect(egressOf(hitsGroup).sort()).toEqual([[dataGroup('hits-test-mysql-'), 3306, 3306], [dataGroup('hits-test-memcached-'), 11211, 11211]].sort());
    expect(egressOf(tenantsGroup).sort()).toEqual([[dataGroup('hits-test-mysql-'), 3306, 3306], ['0.0.0.0/0', 443, 443]].sort());
    // The database admits each group on its port, the cache the hits group only: ingress rules on their groups, here.
    const into = rules('ingress').map(([g, from, port]) => [fromData(g), from, port]);
    expect(into.sort()).toEqual([[dataGroup('hits-test-mysql-'), hitsGroup, 3306], [dataGroup('hits-test-mysql-'), tenantsGroup, 3306], [dataGroup('hits-test-memcached-'), hitsGroup, 11211]].sort());
  });

  test('ServiceMonitoring: an A/B comparison needs two arms, each with a function', () => {
    const { stack, db } = setup();
    const props = (arms: any) => ({ namePrefix: 'hits-test', region: 'eu-west-1', api: {} as never, hits: {} as never, proxy: {} as never, database: db, prune: {} as never, arms });
    expect(() => new ServiceMonitoring(stack, props([{ label: 'proxy', api: {}, functions: [{}] }]))).toThrow(/ServiceMonitoring: arms must name at least two arms/);
  });
});

describe('schemaMigrations for a second instance (the direct arm on its own)', () => {
  const vpc = (stack: TerraformStack) => new Vpc(stack, 'vpc', { name: 'hits-test', cidrBlock: '10.10.0.0/16', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
  const tenants = { count: 2, prefix: 'tenant_', rowsPerTenant: 5 };

  test('a qualifier gives it construct ids and outputs of its own, beside the first set, which keeps its own', () => {
    const { stack, db } = setup();
    const network = vpc(stack);
    const second = new MysqlDatabase(stack, 'direct-mysql', { name: 'hits-test-direct', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'] });
    schemaMigrations(stack, { namePrefix: 'hits-test', database: db, vpc: network, appUsername: 'hits_app', tenants });
    schemaMigrations(stack, { namePrefix: 'hits-test-direct', database: second, vpc: network, appUsername: 'hits_app', tenants, qualifier: 'direct' });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    const invocations = resources(json, 'aws_lambda_invocation').map(([n]) => n);
    expect(invocations.map((n) => n.replace(/_[0-9A-F]{8}$/, '')).sort()).toEqual(['direct-migration_invocation', 'migration_invocation']);
    const outputOf = (id: string) => json.output![id].value as string;
    for (const [qualified, invocation] of [['', invocations.find((n) => n.startsWith('migration_'))], ['direct_', invocations.find((n) => n.startsWith('direct-migration_'))]]) {
      expect(outputOf(`${qualified}applied_migrations`)).toBe(`\${aws_lambda_invocation.${invocation}.result}`);
      expect(outputOf(`${qualified}tenants_left_in_place`)).toContain(`aws_lambda_invocation.${invocation}.result`);
    }
    // Each function runs on its own instance.
    const hosts = resources(json, 'aws_lambda_function').map(([, f]) => [f.function_name, f.environment.variables.DB_HOST]);
    expect(hosts.sort()).toEqual([
      ['hits-test-direct-migrate', `\${aws_db_instance.${resources(json, 'aws_db_instance').find(([n]) => n.startsWith('direct-mysql_'))![0]}.address}`],
      ['hits-test-migrate', `\${aws_db_instance.${resources(json, 'aws_db_instance').find(([n]) => n.startsWith('mysql_'))![0]}.address}`],
    ]);
  });

  test.each([['Direct'], ['direct-arm'], ['']])('refuses the qualifier %j, naming the field', (qualifier) => {
    const { stack, db } = setup();
    expect(() => schemaMigrations(stack, { namePrefix: 'hits-test', database: db, vpc: vpc(stack), appUsername: 'hits_app', tenants, qualifier })).toThrow(/SchemaMigrations: qualifier must be lowercase letters/);
  });
});
