/**
 * The way straight to the instance (MysqlDatabase as a DatabaseEndpoint) and the direct-arm components:
 * what they write, and the errors that name the field. The arm's wiring in whole environments is checked
 * in __tests__/stacks/wiring.test.ts and by the policy suite.
 */
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { DirectArm, DirectArmNetwork } from '../../components/direct-arm';
import { databaseEnvironment } from '../../components/hits-service';
import { ServiceMonitoring } from '../../components/monitoring';
import type { DatabaseEndpoint } from '../../modules/database-endpoint';
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

  test('DirectArmNetwork: the instance itself, not the proxy', () => {
    const { stack, db } = setup();
    const proxy = new RdsProxy(stack, 'proxy', { name: 'hits-test', database: db, subnetIds: ['subnet-a', 'subnet-b'] });
    expect(() => new DirectArmNetwork(stack, 'direct-arm', { namePrefix: 'hits-test', vpc: vpcIn(stack), database: proxy as never })).toThrow(/DirectArm: database must be a MysqlDatabase/);
  });

  test('DirectArmNetwork: one group to the database only, and a tenants group with HTTPS when asked', () => {
    const { stack, db } = setup();
    const network = new DirectArmNetwork(stack, 'direct-arm', { namePrefix: 'hits-test', vpc: vpcIn(stack), database: db, tenants: true });
    const { hitsGroup, tenantsGroup, dbGroup } = resolved(stack, { hitsGroup: network.hitsSecurityGroupId, tenantsGroup: network.tenantsSecurityGroupId!, dbGroup: db.securityGroupId });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    const groups = resources(json, 'aws_security_group').filter(([n]) => n.startsWith('direct-arm_'));
    expect(groups.map(([, g]) => g.name_prefix).sort()).toEqual(['hits-test-direct-hits-', 'hits-test-direct-tenants-']);
    const egressOf = (group: string) => resources(json, 'aws_vpc_security_group_egress_rule').filter(([, r]) => r.security_group_id === group).map(([, r]) => [r.referenced_security_group_id ?? r.cidr_ipv4, r.from_port, r.to_port]);
    expect(egressOf(hitsGroup)).toEqual([[dbGroup, 3306, 3306]]);
    expect(egressOf(tenantsGroup).sort()).toEqual([[dbGroup, 3306, 3306], ['0.0.0.0/0', 443, 443]].sort());
    // The database admits each of them on its port.
    const into = resources(json, 'aws_vpc_security_group_ingress_rule').filter(([, r]) => r.security_group_id === dbGroup).map(([, r]) => r.referenced_security_group_id);
    expect(into.sort()).toEqual([hitsGroup, tenantsGroup].sort());
  });

  test('DirectArm: serving tenants needs the tenants group', () => {
    const { stack, db } = setup();
    const vpc = vpcIn(stack);
    const network = new DirectArmNetwork(stack, 'direct-arm-network', { namePrefix: 'hits-test', vpc, database: db });
    expect(() => new DirectArm(stack, 'direct-arm', { namePrefix: 'hits-test', vpc, database: db, username: 'hits_app', idleClientTimeoutSeconds: 1800, network, tenants: { count: 2, prefix: 'tenant_' } })).toThrow(
      /DirectArm: network\.tenantsSecurityGroupId must be set/,
    );
  });

  test('ServiceMonitoring: an A/B comparison needs two arms, each with a function', () => {
    const { stack, db } = setup();
    const props = (arms: any) => ({ namePrefix: 'hits-test', region: 'eu-west-1', api: {} as never, hits: {} as never, proxy: {} as never, database: db, prune: {} as never, arms });
    expect(() => new ServiceMonitoring(stack, props([{ label: 'proxy', api: {}, functions: [{}] }]))).toThrow(/ServiceMonitoring: arms must name at least two arms/);
  });
});
