import { TerraformOutput, TerraformStack, Testing, Token } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { MysqlDatabase, MysqlDatabaseProps } from '../../modules/mysql-database';
import { resources, single, StackJson } from '../support/synth';

const BASE: MysqlDatabaseProps = { name: 'hits-test', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'] };

function build(props: Partial<MysqlDatabaseProps> = {}): { db: MysqlDatabase; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const db = new MysqlDatabase(stack, 'mysql', { ...BASE, ...props });
  return { db, json: JSON.parse(Testing.synth(stack)) };
}

const construct = (props: Partial<MysqlDatabaseProps>) => () => new MysqlDatabase(new TerraformStack(Testing.app(), 'test'), 'mysql', { ...BASE, ...props } as MysqlDatabaseProps);

describe('MysqlDatabase props validation names the field', () => {
  test.each<[string, Partial<MysqlDatabaseProps>, RegExp]>([
    ['empty name', { name: '' }, /MysqlDatabase: name/],
    ['empty vpcId', { vpcId: ' ' }, /vpcId/],
    ['one subnet', { subnetIds: ['subnet-a'] }, /subnetIds.*at least 2/],
    ['MySQL 5.7', { engineVersion: '5.7' }, /engineVersion.*8\.4, 8\.0.*"5\.7"/],
    ['a minor version', { engineVersion: '8.4.3' }, /engineVersion/],
    ['10 GB of storage', { allocatedStorageGb: 10 }, /allocatedStorageGb.*20 to 65536/],
    ['autoscaling ceiling below storage', { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 }, /maxAllocatedStorageGb.*above allocatedStorageGb \(100\)/],
    ['negative backup retention', { backupRetentionDays: -1 }, /backupRetentionDays.*0 to 35/],
    ['36 days of backups', { backupRetentionDays: 36 }, /backupRetentionDays/],
    ['monitoring every 7 s', { monitoringIntervalSeconds: 7 }, /monitoringIntervalSeconds.*0, 1, 5, 10, 15, 30, 60/],
    ['database name with a dash', { databaseName: 'my-db' }, /databaseName/],
    ['master user starting with a digit', { masterUsername: '1admin' }, /masterUsername/],
    ['master user over 16 characters', { masterUsername: 'a'.repeat(17) }, /masterUsername/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });
});

describe('MysqlDatabase defaults (per its props doc comments)', () => {
  const { db, json } = build();
  const instance = single(json, 'aws_db_instance');

  test('MySQL 8.4 on db.t4g.micro, 20 GB gp3 without autoscaling, encrypted and private', () => {
    expect(instance).toMatchObject({
      engine: 'mysql',
      engine_version: '8.4',
      instance_class: 'db.t4g.micro',
      allocated_storage: 20,
      storage_type: 'gp3',
      storage_encrypted: true,
      publicly_accessible: false,
    });
    expect(instance.max_allocated_storage).toBeUndefined();
  });

  test('durable by default: Multi-AZ, deletion protection, final snapshot kept, 7 days of backups', () => {
    expect(instance).toMatchObject({ multi_az: true, deletion_protection: true, skip_final_snapshot: false, final_snapshot_identifier: 'hits-test-final', backup_retention_period: 7 });
  });

  test('watched by default: enhanced monitoring every 60 s with its role; no Performance Insights on the default db.t4g.micro, which lacks it', () => {
    expect(instance).toMatchObject({ performance_insights_enabled: false, monitoring_interval: 60 });
    expect(instance.database_insights_mode).toBeUndefined();
    const [roleName, role] = resources(json, 'aws_iam_role')[0];
    expect(instance.monitoring_role_arn).toBe(`\${aws_iam_role.${roleName}.arn}`);
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([expect.objectContaining({ Principal: { Service: 'monitoring.rds.amazonaws.com' } })]);
    // In the deploying account's partition: arn:aws: would not resolve in aws-cn or aws-us-gov.
    expect(single(json, 'aws_iam_role_policy_attachment').policy_arn).toBe('arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole');
  });

  test('Performance Insights (7 days, Database Insights standard) by default on classes that offer it', () => {
    const large = single(build({ instanceClass: 'db.m7g.large' }).json, 'aws_db_instance');
    expect(large).toMatchObject({ performance_insights_enabled: true, performance_insights_retention_period: 7, database_insights_mode: 'standard' });
  });

  test('asking for Performance Insights on a micro or small burstable class fails, naming the field', () => {
    expect(() => build({ instanceClass: 'db.t4g.small', performanceInsights: true })).toThrow(/MysqlDatabase: performanceInsights is not available on db\.t4g\.small/);
  });

  test('database "app", master "app_admin" with an RDS-managed password and no password anywhere', () => {
    expect(instance).toMatchObject({ db_name: 'app', username: 'app_admin', manage_master_user_password: true, iam_database_authentication_enabled: true });
    expect(instance.password).toBeUndefined();
    expect(JSON.stringify(json)).not.toMatch(/"password(_wo)?"\s*:/);
  });

  test('log exports default to error, slowquery and iam-db-auth-error (the proxy logs in with IAM), each to its group with retention; minor upgrades on, major off', () => {
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(['error', 'slowquery', 'iam-db-auth-error']);
    const groups = resources(json, 'aws_cloudwatch_log_group');
    for (const type of instance.enabled_cloudwatch_logs_exports) {
      const group = groups.find(([, g]) => g.name === `/aws/rds/instance/hits-test/${type}`);
      expect(group?.[1].retention_in_days).toBe(14);
      expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${group![0]}`);
    }
    expect(instance).toMatchObject({ auto_minor_version_upgrade: true, allow_major_version_upgrade: false });
  });

  test('parameter group mysql8.4 requires TLS and uses utf8mb4; the instance uses it and the subnet group', () => {
    const [pgName, pg] = resources(json, 'aws_db_parameter_group')[0];
    expect(pg.family).toBe('mysql8.4');
    expect(pg.parameter).toEqual(expect.arrayContaining([{ name: 'require_secure_transport', value: '1' }, { name: 'character_set_server', value: 'utf8mb4' }]));
    expect(instance.parameter_group_name).toBe(`\${aws_db_parameter_group.${pgName}.name}`);
    const [sgName, subnetGroup] = resources(json, 'aws_db_subnet_group')[0];
    expect(subnetGroup.subnet_ids).toEqual(['subnet-a', 'subnet-b']);
    expect(instance.db_subnet_group_name).toBe(`\${aws_db_subnet_group.${sgName}.name}`);
  });

  test('its own security group, described, with no rules of its own', () => {
    const [name, sg] = resources(json, 'aws_security_group')[0];
    expect(sg).toMatchObject({ vpc_id: 'vpc-123', description: expect.stringMatching(/\S/) });
    expect(instance.vpc_security_group_ids).toEqual([`\${aws_security_group.${name}.id}`]);
    expect(resources(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    expect(resources(json, 'aws_vpc_security_group_egress_rule')).toEqual([]);
  });

  test('typed attributes: tokens for what AWS decides, literals for what we decide', () => {
    for (const token of [db.instanceIdentifier, db.instanceArn, db.address, db.databaseName, db.masterUsername, db.masterUserSecretArn, db.securityGroupId]) {
      expect(typeof token).toBe('string');
      expect(Token.isUnresolved(token)).toBe(true);
    }
    expect(db.port).toBe(3306);
    expect(db.engineVersion).toBe('8.4');
  });

  test('masterUserSecretArn resolves to the instance master_user_secret[0].secret_arn', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const mysql = new MysqlDatabase(stack, 'mysql', BASE);
    new TerraformOutput(stack, 'secret', { value: mysql.masterUserSecretArn });
    const out = JSON.parse(Testing.synth(stack)).output.secret.value;
    expect(out).toMatch(/^\$\{aws_db_instance\.[^.]+\.master_user_secret\[0\]\.secret_arn\}$/);
  });
});

describe('MysqlDatabase options', () => {
  test('dev-like settings: single-AZ, unprotected, snapshot skipped, no PI, no monitoring role', () => {
    const { json } = build({ multiAz: false, deletionProtection: false, skipFinalSnapshot: true, backupRetentionDays: 1, performanceInsights: false, monitoringIntervalSeconds: 0 });
    const instance = single(json, 'aws_db_instance');
    expect(instance).toMatchObject({ multi_az: false, deletion_protection: false, skip_final_snapshot: true, backup_retention_period: 1, performance_insights_enabled: false, monitoring_interval: 0 });
    expect(instance.final_snapshot_identifier).toBeUndefined();
    expect(instance.performance_insights_retention_period).toBeUndefined();
    expect(instance.database_insights_mode).toBeUndefined();
    expect(instance.monitoring_role_arn).toBeUndefined();
    expect(resources(json, 'aws_iam_role')).toEqual([]);
  });

  test('MySQL 8.0 selects the mysql8.0 family; autoscaling sets max_allocated_storage', () => {
    const { db, json } = build({ engineVersion: '8.0', allocatedStorageGb: 100, maxAllocatedStorageGb: 1000 });
    expect(single(json, 'aws_db_parameter_group').family).toBe('mysql8.0');
    expect(single(json, 'aws_db_instance')).toMatchObject({ engine_version: '8.0', allocated_storage: 100, max_allocated_storage: 1000 });
    expect(db.engineVersion).toBe('8.0');
  });

  test('cloudwatchLogsExports replaces the default list', () => {
    expect(single(build({ cloudwatchLogsExports: ['error'] }).json, 'aws_db_instance').enabled_cloudwatch_logs_exports).toEqual(['error']);
  });
});

test('with enhanced monitoring the instance waits for the monitoring role policy; without it, for nothing', () => {
  const watched = build({ monitoringIntervalSeconds: 60 }).json;
  const [attachment] = resources(watched, 'aws_iam_role_policy_attachment')[0];
  const logGroups = resources(watched, 'aws_cloudwatch_log_group').map(([n]) => `aws_cloudwatch_log_group.${n}`);
  expect([...single(watched, 'aws_db_instance').depends_on].sort()).toEqual([`aws_iam_role_policy_attachment.${attachment}`, ...logGroups].sort());
  // Without monitoring: only the exported logs' groups.
  expect([...single(build({ monitoringIntervalSeconds: 0 }).json, 'aws_db_instance').depends_on].sort()).toEqual([...logGroups].sort());
});

describe('grant and connection helpers', () => {
  const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

  test('grantMasterSecretRead puts GetSecretValue on the master secret beside a role of another stack', () => {
    const app = Testing.app();
    const dataStack = new TerraformStack(app, 'data');
    const db = new MysqlDatabase(dataStack, 'mysql', BASE);
    const other = new TerraformStack(app, 'other');
    const role = new IamRole(other, 'role', { assumeRolePolicy: TRUST });
    const policy = db.grantMasterSecretRead(role);
    expect(policy.node.scope).toBe(other);
    const json: StackJson = JSON.parse(Testing.synth(other));
    const [, body] = resources(json, 'aws_iam_role_policy')[0];
    expect(body.role).toBe('${aws_iam_role.role.id}');
    const [statement] = JSON.parse(body.policy).Statement;
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' });
    // The data stack's instance's secret (a remote-state reference once the whole app synthesizes).
    expect(statement.Resource).toMatch(/^\$\{aws_db_instance\.mysql_instance_[^.]+\.master_user_secret\[0\]\.secret_arn\}$/);
  });

  test('allowConnectionsFrom: one described pair on 3306 by group reference, and refuses an empty client', () => {
    const { json } = build();
    expect(resources(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    const stack = new TerraformStack(Testing.app(), 'test');
    const db = new MysqlDatabase(stack, 'mysql', BASE);
    const rules = db.allowConnectionsFrom('sg-client', 'job', 'A batch job');
    const out: StackJson = JSON.parse(Testing.synth(stack));
    const dbGroup = `\${aws_security_group.${resources(out, 'aws_security_group')[0][0]}.id}`;
    expect(resources(out, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r)).toEqual([
      { security_group_id: dbGroup, referenced_security_group_id: 'sg-client', ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: 'A batch job to RDS for MySQL hits-test on 3306' },
    ]);
    expect(resources(out, 'aws_vpc_security_group_egress_rule').map(([, r]) => r)).toEqual([
      { security_group_id: 'sg-client', referenced_security_group_id: dbGroup, ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: 'To RDS for MySQL hits-test on 3306' },
    ]);
    expect(rules.ingress.node.id).toBe('ingress-job');
    expect(() => db.allowConnectionsFrom('', 'x', 'y')).toThrow(/allowConnectionsFrom\(clientSecurityGroupId\)/);
    expect(() => db.allowConnectionsFrom('sg-2', 'y', ' ')).toThrow(/allowConnectionsFrom\(clientDescription\)/);
  });

  test('allowConnectionsFrom with a scope: the pair in the scope\'s stack, on this group read across stacks; none in the database\'s stack', () => {
    const app = Testing.app();
    const data = new TerraformStack(app, 'data');
    const api = new TerraformStack(app, 'api');
    const db = new MysqlDatabase(data, 'mysql', BASE);
    const rules = db.allowConnectionsFrom('sg-client', 'job', 'A later job', api);
    for (const stack of [data, api]) stack.prepareStack();
    const dataJson: StackJson = JSON.parse(Testing.synth(data));
    const apiJson: StackJson = JSON.parse(Testing.synth(api));
    for (const direction of ['ingress', 'egress']) expect(resources(dataJson, `aws_vpc_security_group_${direction}_rule`)).toEqual([]);
    expect(rules.ingress.node.scope).toBe(api);
    const ingress = single(apiJson, 'aws_vpc_security_group_ingress_rule');
    const dbGroup = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-data\.outputs\.([^}]+)\}$/.exec(ingress.security_group_id)!;
    expect(dataJson.output?.[dbGroup[1]].value).toBe(`\${aws_security_group.${resources(dataJson, 'aws_security_group')[0][0]}.id}`);
    expect(ingress).toMatchObject({ referenced_security_group_id: 'sg-client', from_port: 3306, to_port: 3306, description: 'A later job to RDS for MySQL hits-test on 3306' });
    expect(single(apiJson, 'aws_vpc_security_group_egress_rule')).toMatchObject({ security_group_id: 'sg-client', referenced_security_group_id: ingress.security_group_id, from_port: 3306, to_port: 3306 });
  });
});
