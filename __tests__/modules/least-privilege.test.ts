/**
 * Least privilege in the modules: trust policies with exactly the confused-deputy conditions each service
 * documents, partition-aware ARNs, RDS Proxy end-to-end IAM for named users (no secret), and the
 * deploy-time DatabaseMigration straight to the instance with the master secret.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { TerraformStack, Testing } from 'cdktf';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { strFromU8, unzipSync } from 'fflate';
import { bundleFunction } from '../../modules/bundle';
import { DatabaseMigration, DatabaseMigrationProps } from '../../modules/database-migration';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { accountId, assumeRolePolicy, awsManagedPolicyArn, GrantPolicy, partition, region } from '../../modules/iam';
import { MysqlDatabase, MysqlDatabaseProps } from '../../modules/mysql-database';
import { RdsProxy, RdsProxyProps } from '../../modules/rds-proxy';
import { resources, single, StackJson } from '../support/synth';

const ACCOUNT = '${data.aws_caller_identity.caller-identity.account_id}';
const statements = (policy: string) => JSON.parse(policy).Statement as any[];

describe('assumeRolePolicy', () => {
  test('one service, sts:AssumeRole, aws:SourceAccount and aws:SourceArn (ArnLike) when given, no Condition when none is', () => {
    expect(JSON.parse(assumeRolePolicy('rds.amazonaws.com'))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'rds.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(JSON.parse(assumeRolePolicy('lambda.amazonaws.com', { sourceAccount: '123456789012' }))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }],
    });
    const arn = 'arn:aws:scheduler:eu-west-1:123456789012:schedule-group/hits-dev';
    expect(statements(assumeRolePolicy('scheduler.amazonaws.com', { sourceAccount: '123456789012', sourceArn: arn }))[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': arn },
    });
  });

  test.each<[string, () => string, RegExp]>([
    ['a principal that is not a service', () => assumeRolePolicy('*', { sourceAccount: '1' }), /servicePrincipal/],
    ['an empty account', () => assumeRolePolicy('rds.amazonaws.com', { sourceAccount: ' ' }), /conditions\.sourceAccount/],
    ['a source ARN that is no ARN', () => assumeRolePolicy('rds.amazonaws.com', { sourceAccount: '1', sourceArn: 'db:x' }), /conditions\.sourceArn/],
  ])('refuses %s, naming the field', (_what, f, error) => {
    expect(f).toThrow(error);
  });

  test('accountId: one aws_caller_identity per stack, however many roles use it', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const first = new S3Bucket(stack, 'first', { bucket: accountId(stack) });
    new S3Bucket(stack, 'second', { bucket: accountId(first) });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(resources(json, 'aws_s3_bucket').map(([, b]) => b.bucket)).toEqual([ACCOUNT, ACCOUNT]);
    expect(Object.keys(json.data?.aws_caller_identity ?? {})).toEqual(['caller-identity']);
  });

  test('partition, region and AWS-managed policy ARNs: one data source each per stack, no literal arn:aws:', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const role = new IamRole(stack, 'role', { assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com') });
    new S3Bucket(stack, 'first', { bucket: awsManagedPolicyArn(role, 'service-role/AWSLambdaVPCAccessExecutionRole') });
    new S3Bucket(stack, 'second', { bucket: `${partition(stack)}/${region(role)}/${region(stack)}` });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(resources(json, 'aws_s3_bucket').map(([, b]) => b.bucket)).toEqual([
      'arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
      '${data.aws_partition.partition.partition}/${data.aws_region.region.region}/${data.aws_region.region.region}',
    ]);
    expect(Object.keys(json.data?.aws_partition ?? {})).toEqual(['partition']);
    expect(Object.keys(json.data?.aws_region ?? {})).toEqual(['region']);
  });
});

describe('GrantPolicy: one inline policy per role and kind of grant', () => {
  const TRUST = assumeRolePolicy('lambda.amazonaws.com');

  test('later grants merge: same Sid gathers resources (deduplicated), another Sid adds a statement; one grant reads as a plain policy', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const role = new IamRole(stack, 'role', { assumeRolePolicy: TRUST });
    const policy = GrantPolicy.of(role, 'reads', 'reads').add({ Sid: 'Read', Action: 's3:GetObject', Resource: 'arn:x:s3:::a/*' });
    const single_ = JSON.parse(Testing.synth(stack));
    expect(JSON.parse(single(single_, 'aws_iam_role_policy').policy)).toEqual({ Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:x:s3:::a/*' }] });
    expect(GrantPolicy.of({ role }, 'reads', 'reads')).toBe(policy);
    policy.add({ Sid: 'Read', Action: 's3:GetObject', Resource: 'arn:x:s3:::b/*' }).add({ Sid: 'Read', Action: 's3:GetObject', Resource: 'arn:x:s3:::a/*' });
    policy.add({ Sid: 'Decrypt', Action: 'kms:Decrypt', Resource: 'arn:x:kms:k', Condition: { StringEquals: { 'kms:ViaService': 's3.x.amazonaws.com' } } });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    const [name, body] = resources(json, 'aws_iam_role_policy')[0];
    expect(resources(json, 'aws_iam_role_policy')).toHaveLength(1);
    expect(name).toMatch(/^role-reads/);
    expect(body).toMatchObject({ name: 'reads', role: '${aws_iam_role.role.id}' });
    expect(JSON.parse(body.policy).Statement).toEqual([
      { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:x:s3:::a/*', 'arn:x:s3:::b/*'] },
      { Sid: 'Decrypt', Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:x:kms:k', Condition: { StringEquals: { 'kms:ViaService': 's3.x.amazonaws.com' } } },
    ]);
  });

  test('refuses a merge that would change a statement\'s actions, and an id taken by another construct, naming them', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const role = new IamRole(stack, 'role', { assumeRolePolicy: TRUST });
    const policy = GrantPolicy.of(role, 'reads', 'reads').add({ Sid: 'Read', Action: 's3:GetObject', Resource: 'a' });
    expect(() => policy.add({ Sid: 'Read', Action: 's3:PutObject', Resource: 'b' })).toThrow(/GrantPolicy: add\(Read\) must keep the actions/);
    new S3Bucket(stack, 'role-other', { bucket: 'x' });
    expect(() => GrantPolicy.of(role, 'other', 'other')).toThrow(/GrantPolicy: id "role-other" is taken/);
  });

  test('MysqlDatabase.grantMasterSecretRead twice on one function: one policy, one statement', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const db = new MysqlDatabase(stack, 'db', { name: 'hits-test', vpcId: 'vpc-1', subnetIds: ['a', 'b'], monitoringIntervalSeconds: 0 });
    const role = new IamRole(stack, 'role', { assumeRolePolicy: TRUST });
    expect(db.grantMasterSecretRead(role)).toBe(db.grantMasterSecretRead({ role }));
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(JSON.parse(single(json, 'aws_iam_role_policy').policy).Statement).toHaveLength(1);
  });
});

describe('MysqlDatabase enhanced-monitoring role', () => {
  test('trusts monitoring.rds.amazonaws.com for this account and this instance only', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    new MysqlDatabase(stack, 'db', { name: 'hits-test', vpcId: 'vpc-1', subnetIds: ['a', 'b'], monitoringIntervalSeconds: 60, instanceClass: 'db.m7g.large' });
    const json: StackJson = JSON.parse(Testing.synth(stack));
    const role = single(json, 'aws_iam_role');
    expect(statements(role.assume_role_policy)[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      ArnLike: { 'aws:SourceArn': `arn:*:rds:*:${ACCOUNT}:db:hits-test` },
    });
    expect(single(json, 'aws_db_instance').identifier).toBe('hits-test');
  });
});

describe('RdsProxy end-to-end IAM', () => {
  const E2E = { users: ['hits_app'] };
  const build = (props: Partial<RdsProxyProps>): StackJson => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const database = new MysqlDatabase(stack, 'db', { name: 'hits-test-db', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'], monitoringIntervalSeconds: 0 });
    new RdsProxy(stack, 'proxy', { name: 'hits-test', database, subnetIds: ['subnet-a', 'subnet-b'], ...props });
    return JSON.parse(Testing.synth(stack));
  };

  test('IAM_AUTH, no auth entry and no secret to read, and rds-db:connect on dbuser:<db resource id>/<user> for the proxy role', () => {
    const json = build({ endToEndIam: E2E });
    const proxy = single(json, 'aws_db_proxy');
    expect(proxy.default_auth_scheme).toBe('IAM_AUTH');
    expect(proxy.auth).toBeUndefined();
    expect(resources(json, 'aws_iam_role_policy').map(([n]) => n)).toEqual([expect.stringMatching(/^proxy_connect-to-database/)]);
    expect(resources(json, 'aws_iam_role_policy').map(([, p]) => p.policy).join()).not.toContain('secretsmanager');
    const connect = resources(json, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_connect-to-database'))!;
    expect(connect[1].role).toBe(`\${aws_iam_role.${resources(json, 'aws_iam_role')[0][0]}.id}`);
    const [statement] = statements(connect[1].policy);
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'rds-db:connect' });
    const local = /^\$\{local\.([^}]+)\}\/hits_app$/.exec(statement.Resource[0])![1];
    // Partition, region and account from the instance's ARN; the instance's own db-… resource id.
    const [db] = resources(json, 'aws_db_instance')[0];
    const split = `split(":", aws_db_instance.${db}.arn)`;
    expect(json.locals![local]).toBe(`\${format("arn:%s:rds-db:%s:%s:dbuser:%s", element(${split}, 1), element(${split}, 3), element(${split}, 4), aws_db_instance.${db}.resource_id)}`);
    // The proxy waits for both grants: without them its target never turns available.
    expect(proxy.depends_on).toEqual(expect.arrayContaining([`aws_iam_role_policy.${connect[0]}`]));
  });

  test('without it: no default_auth_scheme, the database secret in an auth entry, and no rds-db:connect for the proxy role', () => {
    const json = build({});
    const [db] = resources(json, 'aws_db_instance')[0];
    expect(single(json, 'aws_db_proxy').auth).toEqual([expect.objectContaining({ auth_scheme: 'SECRETS', secret_arn: `\${aws_db_instance.${db}.master_user_secret[0].secret_arn}`, iam_auth: 'REQUIRED' })]);
    expect(single(json, 'aws_db_proxy').default_auth_scheme).toBeUndefined();
    expect(resources(json, 'aws_iam_role_policy').map(([, p]) => p.policy).join()).not.toContain('rds-db:connect');
  });

  test.each<[string, Partial<typeof E2E>, RegExp]>([
    ['no users', { users: [] }, /endToEndIam\.users.*at least 1/],
    ['a user name that is no MySQL identifier', { users: ["app'--"] }, /endToEndIam\.users/],
  ])('refuses %s, naming the field', (_what, patch, error) => {
    expect(() => build({ endToEndIam: { ...E2E, ...patch } })).toThrow(error);
  });
});

describe('DatabaseMigration', () => {
  const BASE: Omit<DatabaseMigrationProps, 'database'> = {
    functionName: 'hits-test-migrate',
    entry: 'functions/migrate/handler.ts',
    vpcId: 'vpc-1',
    subnetIds: ['subnet-a', 'subnet-b'],
    environment: { APP_DB_USER: 'hits_app' },
  };
  const build = (props: Partial<DatabaseMigrationProps> = {}, database: Partial<MysqlDatabaseProps> = {}) => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const db = new MysqlDatabase(stack, 'db', { name: 'hits-test', vpcId: 'vpc-1', subnetIds: ['a', 'b'], monitoringIntervalSeconds: 0, ...database });
    const migration = new DatabaseMigration(stack, 'migration', { ...BASE, database: db, ...props });
    return { migration, json: JSON.parse(Testing.synth(stack)) as StackJson };
  };
  const named = (json: StackJson, type: string, prefix: string) => resources(json, type).find(([n]) => n.startsWith(prefix))!;

  test('invokes its function once per change of its deployed code, after the instance, its grant and its path to the database; no one else may invoke it', () => {
    const { migration, json } = build({ environment: { DB_HOST: 'db.example', APP_DB_USER: 'hits_app' } });
    // The trigger is the sha256 of the code inside the zip Lambda receives (what changes when anything bundled changes: __tests__/modules/migration-trigger.test.ts).
    const deployed = strFromU8(unzipSync(fs.readFileSync(bundleFunction(BASE.entry).archivePath))['index.js']);
    const [fnName, fn] = resources(json, 'aws_lambda_function')[0];
    const [instance] = resources(json, 'aws_db_instance')[0];
    const [grant] = named(json, 'aws_iam_role_policy', 'migration_function_role-read-master-secret');
    const [ingress] = named(json, 'aws_vpc_security_group_ingress_rule', 'db_ingress-migration');
    const [egress] = named(json, 'aws_vpc_security_group_egress_rule', 'db_egress-migration');
    const [https] = named(json, 'aws_vpc_security_group_egress_rule', 'migration_egress-https');
    const invocation = single(json, 'aws_lambda_invocation');
    expect(invocation).toMatchObject({
      function_name: `\${aws_lambda_function.${fnName}.function_name}`,
      triggers: { migrations: createHash('sha256').update(deployed).digest('hex') },
    });
    // And its environment, hashed by Terraform over the values: every variable the function gets is in it.
    expect(invocation.triggers.environment).toMatch(/^\$\{sha256\(jsonencode\(/);
    for (const [name, value] of Object.entries(fn.environment.variables as Record<string, string>)) expect(invocation.triggers.environment).toContain(`"${name}" = "${value}"`);
    expect([...invocation.depends_on].sort()).toEqual([`aws_db_instance.${instance}`, `aws_iam_role_policy.${grant}`, `aws_vpc_security_group_ingress_rule.${ingress}`, `aws_vpc_security_group_egress_rule.${egress}`, `aws_vpc_security_group_egress_rule.${https}`].sort());
    expect(migration.result).toMatch(/^\$\{TfToken\[/);
    // 900 s by default: the function's retry window is what its invocation has left.
    expect(fn).toMatchObject({ function_name: 'hits-test-migrate', timeout: 900, memory_size: 256, environment: { variables: { APP_DB_USER: 'hits_app' } } });
    // The function itself waits for its grant too, as the hits function does.
    expect(fn.depends_on).toEqual(expect.arrayContaining([`aws_iam_role_policy.${grant}`]));
    expect(resources(json, 'aws_lambda_permission')).toEqual([]);
  });

  test('a security group of its own: the database port by reference, and HTTPS out for Secrets Manager; every rule described', () => {
    const { migration, json } = build();
    const [groupName, group] = resources(json, 'aws_security_group').find(([, g]) => g.name_prefix === 'hits-test-migrate-')!;
    const [dbGroupName] = resources(json, 'aws_security_group').find(([, g]) => g.name_prefix === 'hits-test-mysql-')!;
    const mine = `\${aws_security_group.${groupName}.id}`;
    const db = `\${aws_security_group.${dbGroupName}.id}`;
    expect(group).toMatchObject({ vpc_id: 'vpc-1', description: expect.stringMatching(/migration.*3306, HTTPS to AWS APIs/) });
    expect(single(json, 'aws_lambda_function').vpc_config.security_group_ids).toEqual([mine]);
    expect(migration.securityGroupId).toMatch(/^\$\{TfToken\[/);
    const rules = [...resources(json, 'aws_vpc_security_group_ingress_rule'), ...resources(json, 'aws_vpc_security_group_egress_rule')].map(([, r]) => r);
    expect(rules).toEqual([
      { security_group_id: db, referenced_security_group_id: mine, ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: 'The deploy-time migration function to RDS for MySQL hits-test on 3306' },
      { security_group_id: mine, referenced_security_group_id: db, ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: 'To RDS for MySQL hits-test on 3306' },
      { security_group_id: mine, cidr_ipv4: '0.0.0.0/0', ip_protocol: 'tcp', from_port: 443, to_port: 443, description: expect.stringContaining('Secrets Manager') },
    ]);
  });

  test('its role may read the master secret and nothing else in Secrets Manager; kms:Decrypt only with a customer-managed key, through Secrets Manager', () => {
    const secret = (json: StackJson) => `\${aws_db_instance.${resources(json, 'aws_db_instance')[0][0]}.master_user_secret[0].secret_arn}`;
    const plain = build().json;
    const [, policy] = named(plain, 'aws_iam_role_policy', 'migration_function_role-read-master-secret');
    expect(policy.role).toBe(`\${aws_iam_role.${resources(plain, 'aws_iam_role')[0][0]}.id}`);
    expect(statements(policy.policy)).toEqual([{ Sid: 'ReadMasterSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secret(plain) }]);
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKey = build({}, { masterUserSecretKmsKeyArn: key }).json;
    expect(single(withKey, 'aws_db_instance').master_user_secret_kms_key_id).toBe(key);
    expect(statements(named(withKey, 'aws_iam_role_policy', 'migration_function_role-read-master-secret')[1].policy)).toEqual([
      { Sid: 'ReadMasterSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secret(withKey) },
      { Sid: 'DecryptMasterSecretThroughSecretsManager', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.${data.aws_region.region.region}.amazonaws.com' } } },
    ]);
    expect(JSON.stringify(plain)).not.toContain('rds-db:connect');
  });

  test.each<[string, Partial<DatabaseMigrationProps>, RegExp]>([
    ['no function name', { functionName: '' }, /DatabaseMigration: functionName/],
    ['no VPC', { vpcId: '' }, /DatabaseMigration: vpcId/],
    ['no database construct', { database: 'hits-test' as never }, /DatabaseMigration: database must be a MysqlDatabase/],
    ['a timeout too short to wait for a new database', { timeoutSeconds: 10 }, /timeoutSeconds.*60 to 900/],
    ['a timeout above Lambda\'s 900 s', { timeoutSeconds: 901 }, /timeoutSeconds.*60 to 900/],
    ['a bad log retention', { logRetentionDays: 2 }, /logRetentionDays/],
  ])('refuses %s, naming the field', (_what, props, error) => {
    expect(() => build(props)).toThrow(error);
  });
});
