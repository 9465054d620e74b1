/**
 * The pieces issue 9 added to the modules: trust policies with confused-deputy conditions, RDS Proxy
 * end-to-end IAM for named users, and the deploy-time DatabaseMigration construct.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { DatabaseMigration, DatabaseMigrationProps, migrationSourcesHash } from '../../modules/database-migration';
import { accountId, assumeRolePolicy } from '../../modules/iam';
import { MysqlDatabase } from '../../modules/mysql-database';
import { RdsProxy, RdsProxyProps } from '../../modules/rds-proxy';
import { resources, single, StackJson } from '../support/synth';

const ACCOUNT = '${data.aws_caller_identity.caller-identity.account_id}';
const statements = (policy: string) => JSON.parse(policy).Statement as any[];

describe('assumeRolePolicy', () => {
  test('one service, sts:AssumeRole, aws:SourceAccount always and aws:SourceArn (ArnLike) when given', () => {
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
    ['no account', () => assumeRolePolicy('rds.amazonaws.com', { sourceAccount: ' ' }), /conditions\.sourceAccount/],
    ['no conditions at all', () => assumeRolePolicy('rds.amazonaws.com', undefined as never), /conditions\.sourceAccount/],
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
  const BASE: RdsProxyProps = {
    name: 'hits-test',
    vpcId: 'vpc-123',
    subnetIds: ['subnet-a', 'subnet-b'],
    dbInstanceIdentifier: 'hits-test-db',
    databaseSecurityGroupId: 'sg-db',
    secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-abc',
  };
  const E2E = { databaseArn: 'arn:aws:rds:eu-west-1:123456789012:db:hits-test-db', databaseResourceId: 'db-ABCDEFGHIJKLMNOP', users: ['hits_app'] };
  const build = (props: Partial<RdsProxyProps>): StackJson => {
    const stack = new TerraformStack(Testing.app(), 'test');
    new RdsProxy(stack, 'proxy', { ...BASE, ...props });
    return JSON.parse(Testing.synth(stack));
  };

  test('IAM_AUTH by default, the master secret kept, and rds-db:connect on dbuser:<db resource id>/<user> for the proxy role', () => {
    const json = build({ endToEndIam: E2E });
    const proxy = single(json, 'aws_db_proxy');
    expect(proxy.default_auth_scheme).toBe('IAM_AUTH');
    expect(proxy.auth).toEqual([expect.objectContaining({ auth_scheme: 'SECRETS', secret_arn: BASE.secretArn, iam_auth: 'REQUIRED' })]);
    const connect = resources(json, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_connect-to-database'))!;
    expect(connect[1].role).toBe(`\${aws_iam_role.${resources(json, 'aws_iam_role')[0][0]}.id}`);
    const [statement] = statements(connect[1].policy);
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'rds-db:connect' });
    const local = /^\$\{local\.([^}]+)\}\/hits_app$/.exec(statement.Resource[0])![1];
    expect(json.locals![local]).toBe(
      '${format("arn:%s:rds-db:%s:%s:dbuser:%s", element(split(":", "arn:aws:rds:eu-west-1:123456789012:db:hits-test-db"), 1), element(split(":", "arn:aws:rds:eu-west-1:123456789012:db:hits-test-db"), 3), element(split(":", "arn:aws:rds:eu-west-1:123456789012:db:hits-test-db"), 4), "db-ABCDEFGHIJKLMNOP")}',
    );
    // The proxy waits for both grants: without them its target never turns available.
    expect(proxy.depends_on).toEqual(expect.arrayContaining([`aws_iam_role_policy.${connect[0]}`]));
  });

  test('without it: no default_auth_scheme and no rds-db:connect for the proxy role', () => {
    const json = build({});
    expect(single(json, 'aws_db_proxy').default_auth_scheme).toBeUndefined();
    expect(resources(json, 'aws_iam_role_policy').map(([, p]) => p.policy).join()).not.toContain('rds-db:connect');
  });

  test.each<[string, Partial<typeof E2E>, RegExp]>([
    ['no users', { users: [] }, /endToEndIam\.users.*at least 1/],
    ['a user name that is no MySQL identifier', { users: ["app'--"] }, /endToEndIam\.users/],
    ['no database ARN', { databaseArn: '' }, /endToEndIam\.databaseArn/],
    ['no resource id', { databaseResourceId: '' }, /endToEndIam\.databaseResourceId/],
  ])('refuses %s, naming the field', (_what, patch, error) => {
    expect(() => build({ endToEndIam: { ...E2E, ...patch } })).toThrow(error);
  });
});

describe('DatabaseMigration', () => {
  const SOURCES = ['functions/migrate/migrations.ts', 'functions/migrate/runner.ts'];
  const BASE: DatabaseMigrationProps = {
    functionName: 'hits-test-migrate',
    entry: 'functions/migrate/handler.ts',
    migrationSources: SOURCES,
    subnetIds: ['subnet-a', 'subnet-b'],
    securityGroupIds: ['sg-app'],
    environment: { APP_DB_USER: 'hits_app' },
  };
  const build = (props: Partial<DatabaseMigrationProps> = {}) => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const before = new S3Bucket(stack, 'before', { bucket: 'before' });
    const granted: S3Bucket[] = [];
    const migration = new DatabaseMigration(stack, 'migration', {
      ...BASE,
      dependsOn: [before],
      grant: (fn) => {
        granted.push(new S3Bucket(stack, 'grant', { bucket: fn.functionName }));
        return granted;
      },
      ...props,
    });
    return { migration, json: JSON.parse(Testing.synth(stack)) as StackJson };
  };

  test('invokes its function once per change of the sources, after dependsOn and the grants; no one else may invoke it', () => {
    const { migration, json } = build({ rerunWhen: { app_user: 'hits_app' } });
    const expected = createHash('sha256');
    for (const f of SOURCES) expected.update(`${f}\0`).update(fs.readFileSync(path.resolve(__dirname, '../..', f))).update('\0');
    const [fnName, fn] = resources(json, 'aws_lambda_function')[0];
    const invocation = single(json, 'aws_lambda_invocation');
    expect(invocation).toMatchObject({
      function_name: `\${aws_lambda_function.${fnName}.function_name}`,
      triggers: { migrations: expected.digest('hex'), app_user: 'hits_app' },
      depends_on: ['aws_s3_bucket.before', 'aws_s3_bucket.grant'],
    });
    expect(migration.result).toMatch(/^\$\{TfToken\[/);
    expect(fn).toMatchObject({ function_name: 'hits-test-migrate', timeout: 300, memory_size: 256, environment: { variables: { APP_DB_USER: 'hits_app' } } });
    // The function itself waits for its grants too, as the hits function does.
    expect(fn.depends_on).toEqual(expect.arrayContaining(['aws_s3_bucket.grant']));
    expect(resources(json, 'aws_lambda_permission')).toEqual([]);
  });

  test('the trigger follows the sources: another content gives another hash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-sources-'));
    try {
      const file = path.join(dir, 'migrations.ts');
      fs.writeFileSync(file, 'export const MIGRATIONS = [];');
      const first = migrationSourcesHash([file]);
      expect(migrationSourcesHash([file])).toBe(first);
      fs.writeFileSync(file, 'export const MIGRATIONS = [1];');
      const second = migrationSourcesHash([file]);
      expect(second).not.toBe(first);
      // A CRLF checkout of the same text (git on Windows) must not re-run the migrations.
      fs.writeFileSync(file, 'export const MIGRATIONS = [\r\n1];');
      const crlf = migrationSourcesHash([file]);
      fs.writeFileSync(file, 'export const MIGRATIONS = [\n1];');
      expect(migrationSourcesHash([file])).toBe(crlf);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each<[string, Partial<DatabaseMigrationProps>, RegExp]>([
    ['no function name', { functionName: '' }, /DatabaseMigration: functionName/],
    ['no sources', { migrationSources: [] }, /migrationSources.*at least 1/],
    ['a missing source file', { migrationSources: ['functions/migrate/nope.ts'] }, /migrationSources.*existing files/],
    ['a timeout too short to wait for a new proxy', { timeoutSeconds: 10 }, /timeoutSeconds.*60 to 900/],
    ['a rerunWhen key that would hide the sources hash', { rerunWhen: { migrations: 'x' } }, /rerunWhen/],
    ['a bad log retention', { logRetentionDays: 2 }, /logRetentionDays/],
  ])('refuses %s, naming the field', (_what, props, error) => {
    expect(() => build(props)).toThrow(error);
  });
});
