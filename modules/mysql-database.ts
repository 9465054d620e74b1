import { Construct } from 'constructs';
import { Fn, TerraformLocal } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DbEventSubscription } from '@cdktf/provider-aws/lib/db-event-subscription';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { accountId, assumeRolePolicy, awsManagedPolicyArn, GrantPolicy, type Grantee, region, roleOf } from './iam';
import { allowTcp, type TcpRules } from './security-groups';
import { INSTANCE_MEMORY_GIB, MYSQL_FAMILIES, RDS_MYSQL, SMALL_BURSTABLE } from '../aws/limits';
import { PropsError, requireIntInRange, requireNonEmpty, requireNonEmptyList, requireLogRetention } from './validation';
import { metric, type Metric, type MetricOptions } from './metric';
import type { DatabaseEndpoint } from './database-endpoint';

// The catalogue facts live in aws/limits.ts; re-exported for the code that reads them from here.
export { INSTANCE_MEMORY_GIB, MYSQL_FAMILIES, SMALL_BURSTABLE } from '../aws/limits';

export interface MysqlDatabaseProps {
  /** Instance identifier and prefix of related names (e.g. `hits-dev`). Required. */
  readonly name: string;
  /** VPC the database's security group belongs to. Required. */
  readonly vpcId: string;
  /** Isolated data subnets, at least two AZs (RDS requires it even for single-AZ). Required. */
  readonly subnetIds: readonly string[];
  /** MySQL major version: `8.4` or `8.0`; RDS picks the newest minor and upgrades minors in the maintenance window. @default '8.4' */
  readonly engineVersion?: string;
  /** Instance class. @default 'db.t4g.micro' */
  readonly instanceClass?: string;
  /** Initial gp3 storage in GiB. @default 20 */
  readonly allocatedStorageGb?: number;
  /** Storage autoscaling ceiling in GiB; 0 turns autoscaling off. @default 0 */
  readonly maxAllocatedStorageGb?: number;
  /** Standby in a second AZ with automatic failover. @default true */
  readonly multiAz?: boolean;
  /** Refuse deletion until turned off. @default true */
  readonly deletionProtection?: boolean;
  /** Skip the final snapshot on destroy; data is lost. @default false */
  readonly skipFinalSnapshot?: boolean;
  /** Automated backup retention in days (1 to 35). @default 7 */
  readonly backupRetentionDays?: number;
  /** Performance Insights with CloudWatch Database Insights in `standard` mode (7 days, no charge); AWS does not offer it on db.t*.micro/small. @default true, except false on micro and small burstable classes */
  readonly performanceInsights?: boolean;
  /** Enhanced monitoring interval in seconds (0 = off, 1, 5, 10, 15, 30, 60); creates the monitoring role. @default 60 */
  readonly monitoringIntervalSeconds?: number;
  /** Database RDS creates at launch. @default 'app' */
  readonly databaseName?: string;
  /** Master user; its password is generated and rotated by RDS in Secrets Manager, never in code or state. @default 'app_admin' */
  readonly masterUsername?: string;
  /**
   * Customer-managed KMS key (ARN) that encrypts the RDS-managed master secret (`master_user_secret_kms_key_id`);
   * `grantMasterSecretRead` then also grants `kms:Decrypt` on it through Secrets Manager.
   * @default - the AWS-managed `aws/secretsmanager` key, which needs no grant
   */
  readonly masterUserSecretKmsKeyArn?: string;
  /**
   * Log types exported to CloudWatch Logs, each to `/aws/rds/instance/<name>/<type>`, a group this module
   * creates first with `logRetentionDays`. `iam-db-auth-error` ("IAM database authentication error log",
   * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html)
   * is a default: with RDS Proxy's end-to-end IAM the proxy logs in to MySQL with IAM tokens of its own
   * role, so a login the database refuses (a missing rds-db:connect, a user not created for IAM) is
   * written there. @default ['error', 'slowquery', 'iam-db-auth-error']
   */
  readonly cloudwatchLogsExports?: readonly MysqlLogExport[];
  /** Retention in days of the exported logs' groups. @default 14 */
  readonly logRetentionDays?: number;
}

/** The instance's metrics in `AWS/RDS` that the alarms and the dashboard read. */
export type MysqlMetricName = 'CPUUtilization' | 'FreeStorageSpace' | 'FreeableMemory' | 'DatabaseConnections' | 'IamDbAuthConnectionRequests' | 'IamDbAuthConnectionFailure';

/** The log types RDS for MySQL can export. */
export type MysqlLogExport = 'error' | 'slowquery' | 'general' | 'audit' | 'iam-db-auth-error';
const MYSQL_LOG_EXPORTS: readonly MysqlLogExport[] = RDS_MYSQL.logExports;


/** RDS for MySQL's default `max_connections`: {DBInstanceClassMemory/12582880}, with the class's full memory (an upper bound: RDS subtracts what the OS keeps). */
export function defaultMaxConnections(instanceClass: string): number | undefined {
  const gib = INSTANCE_MEMORY_GIB[instanceClass];
  return gib === undefined ? undefined : Math.floor((gib * 2 ** 30) / 12582880);
}

const MODULE = 'MysqlDatabase';
const MONITORING_INTERVALS: readonly number[] = RDS_MYSQL.monitoringIntervalsSeconds;

/**
 * A private, encrypted RDS for MySQL instance whose master password RDS manages in Secrets Manager,
 * with a parameter group that refuses unencrypted connections, its own security group (no rules:
 * callers add ingress from their own groups) and per-profile durability settings.
 */
export class MysqlDatabase extends Construct implements DatabaseEndpoint {
  readonly kind = 'instance';
  readonly instanceIdentifier: string;
  readonly instanceArn: string;
  /** VPC of the database's security group. */
  readonly vpcId: string;
  readonly address: string;
  readonly port: number;
  readonly databaseName: string;
  readonly masterUsername: string;
  /** ARN of the RDS-managed secret (JSON with `username` and `password`) holding the master credentials. */
  readonly masterUserSecretArn: string;
  /** The instance's `db-…` resource id, which `rds-db:connect` policies for direct (or proxy end-to-end IAM) logins name. */
  readonly resourceId: string;
  readonly securityGroupId: string;
  readonly engineVersion: string;
  readonly instanceClass: string;
  /** Initial storage in GiB (autoscaling may have grown it since). */
  readonly allocatedStorageGb: number;
  /** Names of the exported logs' groups, one per exported type. */
  readonly logGroupNames: readonly string[];
  /** The instance: depend on it before connecting to the database at deploy time. */
  readonly instance: DbInstance;
  /** The customer-managed key of the master secret, when there is one. */
  readonly masterUserSecretKmsKeyArn?: string;
  private readonly name: string;
  private connectPrefix?: string;

  constructor(scope: Construct, id: string, props: MysqlDatabaseProps) {
    super(scope, id);
    const engineVersion = props.engineVersion ?? '8.4';
    const family = (MYSQL_FAMILIES as Readonly<Record<string, string>>)[engineVersion];
    const monitoring = props.monitoringIntervalSeconds ?? 60;
    const backupDays = props.backupRetentionDays ?? 7;
    const storage = props.allocatedStorageGb ?? 20;
    const maxStorage = props.maxAllocatedStorageGb ?? 0;
    const databaseName = props.databaseName ?? 'app';
    const masterUsername = props.masterUsername ?? 'app_admin';
    requireNonEmpty(MODULE, 'name', props.name);
    requireNonEmpty(MODULE, 'vpcId', props.vpcId);
    requireNonEmptyList(MODULE, 'subnetIds', props.subnetIds, 2);
    if (!family) throw new PropsError(MODULE, 'engineVersion', `must be one of ${Object.keys(MYSQL_FAMILIES).join(', ')}, got "${engineVersion}"`);
    requireIntInRange(MODULE, 'allocatedStorageGb', storage, RDS_MYSQL.allocatedStorageGb);
    if (maxStorage !== 0 && (!Number.isInteger(maxStorage) || maxStorage <= storage)) {
      throw new PropsError(MODULE, 'maxAllocatedStorageGb', `must be 0 or an integer above allocatedStorageGb (${storage}), got ${maxStorage}`);
    }
    requireIntInRange(MODULE, 'backupRetentionDays', backupDays, RDS_MYSQL.backupRetentionDays);
    if (!MONITORING_INTERVALS.includes(monitoring)) throw new PropsError(MODULE, 'monitoringIntervalSeconds', `must be one of ${MONITORING_INTERVALS.join(', ')}, got ${monitoring}`);
    if (!RDS_MYSQL.databaseName.test(databaseName)) throw new PropsError(MODULE, 'databaseName', `must be 1-${RDS_MYSQL.databaseNameMaxLength} letters, digits or underscores starting with a letter, got "${databaseName}"`);
    if (!RDS_MYSQL.masterUsername.test(masterUsername)) throw new PropsError(MODULE, 'masterUsername', `must be 1-${RDS_MYSQL.masterUsernameMaxLength} letters, digits or underscores starting with a letter, got "${masterUsername}"`);
    const logExports = [...(props.cloudwatchLogsExports ?? ['error', 'slowquery', 'iam-db-auth-error'])];
    const unknownExport = logExports.find((t) => !MYSQL_LOG_EXPORTS.includes(t));
    if (unknownExport) throw new PropsError(MODULE, 'cloudwatchLogsExports', `must list only ${MYSQL_LOG_EXPORTS.join(', ')}, got "${unknownExport}"`);
    const retention = props.logRetentionDays ?? 14;
    requireLogRetention(MODULE, 'logRetentionDays', retention);

    const name = props.name;
    const securityGroup = new SecurityGroup(this, 'security-group', {
      namePrefix: `${name}-mysql-`,
      description: `RDS for MySQL ${name}: reachable only from groups given ingress on 3306`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-mysql` },
      lifecycle: { createBeforeDestroy: true },
    });

    const subnetGroup = new DbSubnetGroup(this, 'subnet-group', {
      name: `${name}-mysql`,
      description: `Data subnets of ${name}`,
      subnetIds: [...props.subnetIds],
    });

    const parameterGroup = new DbParameterGroup(this, 'parameter-group', {
      // A prefix: a family change replaces the group, and the new one must coexist with the old until the instance moves.
      namePrefix: `${name}-mysql${engineVersion.replace('.', '')}-`,
      family,
      description: `MySQL ${engineVersion} for ${name}: TLS required, utf8mb4`,
      parameter: [
        { name: 'require_secure_transport', value: '1' },
        { name: 'character_set_server', value: 'utf8mb4' },
        { name: 'collation_server', value: 'utf8mb4_0900_ai_ci' },
        // The slow-query log export is empty unless the server writes one.
        { name: 'slow_query_log', value: '1' },
        { name: 'long_query_time', value: '1' },
        { name: 'log_output', value: 'FILE' },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    let monitoringRoleArn: string | undefined;
    let monitoringPolicy: IamRolePolicyAttachment | undefined;
    if (monitoring > 0) {
      const role = new IamRole(this, 'monitoring-role', {
        name: `${name}-rds-monitoring`,
        description: `Enhanced monitoring of ${name}`,
        // Enhanced monitoring sets both keys; the source ARN is this instance's, known from its identifier:
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html
        // ("Protecting against the confused deputy problem").
        assumeRolePolicy: assumeRolePolicy('monitoring.rds.amazonaws.com', {
          sourceAccount: accountId(this),
          sourceArn: `arn:*:rds:*:${accountId(this)}:db:${name}`,
        }),
      });
      monitoringPolicy = new IamRolePolicyAttachment(this, 'monitoring-policy', {
        role: role.name,
        policyArn: awsManagedPolicyArn(this, 'service-role/AmazonRDSEnhancedMonitoringRole'),
      });
      monitoringRoleArn = role.arn;
    }

    const instanceClass = props.instanceClass ?? 'db.t4g.micro';
    const performanceInsightsSupported = !SMALL_BURSTABLE.test(instanceClass);
    const performanceInsights = props.performanceInsights ?? performanceInsightsSupported;
    if (performanceInsights && !performanceInsightsSupported) {
      throw new PropsError(MODULE, 'performanceInsights', `is not available on ${instanceClass} (db.t*.micro and db.t*.small); turn it off or choose a larger class`);
    }
    const skipFinalSnapshot = props.skipFinalSnapshot ?? false;
    // RDS creates /aws/rds/instance/<id>/<type> itself, with no expiry, unless the group already exists.
    const logGroups = logExports.map((type) => new CloudwatchLogGroup(this, `log-group-${type}`, { name: `/aws/rds/instance/${name}/${type}`, retentionInDays: retention }));
    const instance = new DbInstance(this, 'instance', {
      identifier: name,
      engine: 'mysql',
      engineVersion,
      instanceClass,
      dbName: databaseName,
      username: masterUsername,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.masterUserSecretKmsKeyArn,
      storageType: 'gp3',
      allocatedStorage: storage,
      maxAllocatedStorage: maxStorage > 0 ? maxStorage : undefined,
      storageEncrypted: true,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameterGroup.name,
      publiclyAccessible: false,
      multiAz: props.multiAz ?? true,
      deletionProtection: props.deletionProtection ?? true,
      skipFinalSnapshot,
      finalSnapshotIdentifier: skipFinalSnapshot ? undefined : `${name}-final`,
      backupRetentionPeriod: backupDays,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      iamDatabaseAuthenticationEnabled: true,
      performanceInsightsEnabled: performanceInsights,
      performanceInsightsRetentionPeriod: performanceInsights ? 7 : undefined,
      // Performance Insights' console reached end of life on 2026-07-31; Database Insights (standard) reads the same data.
      databaseInsightsMode: performanceInsights ? 'standard' : undefined,
      monitoringInterval: monitoring,
      monitoringRoleArn,
      enabledCloudwatchLogsExports: logExports,
      applyImmediately: false,
      tags: { Name: name },
      // RDS checks the monitoring role's permissions at create time; the attachment must exist first.
      // The log groups too: the first export would otherwise create them without retention.
      dependsOn: [...(monitoringPolicy ? [monitoringPolicy] : []), ...logGroups],
    });

    this.instanceIdentifier = instance.identifier;
    this.instanceArn = instance.arn;
    this.address = instance.address;
    this.port = 3306;
    this.databaseName = instance.dbName;
    this.masterUsername = instance.username;
    this.masterUserSecretArn = instance.masterUserSecret.get(0).secretArn;
    this.resourceId = instance.resourceId;
    this.securityGroupId = securityGroup.id;
    this.engineVersion = engineVersion;
    this.instanceClass = instanceClass;
    this.allocatedStorageGb = storage;
    this.logGroupNames = logGroups.map((g) => g.name);
    this.instance = instance;
    this.vpcId = props.vpcId;
    this.masterUserSecretKmsKeyArn = props.masterUserSecretKmsKeyArn;
    this.name = name;
  }

  /**
   * Lets `grantee` read the RDS-managed master secret: `secretsmanager:GetSecretValue` on that one ARN and,
   * when a customer-managed key encrypts it, `kms:Decrypt` on that key only through Secrets Manager in the
   * grantee's region (`kms:ViaService`,
   * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
   * Every such grant to one role merges into its one `read-master-secret` policy, created beside the role
   * (in the role's stack). Returns it, to depend on.
   */
  grantMasterSecretRead(grantee: Grantee): GrantPolicy {
    const policy = GrantPolicy.of(grantee, 'read-master-secret', 'read-master-secret').add({ Sid: 'ReadMasterSecret', Action: 'secretsmanager:GetSecretValue', Resource: this.masterUserSecretArn });
    if (this.masterUserSecretKmsKeyArn) {
      policy.add({
        Sid: 'DecryptMasterSecretThroughSecretsManager',
        Action: 'kms:Decrypt',
        Resource: this.masterUserSecretKmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region(roleOf(grantee))}.amazonaws.com` } },
      });
    }
    return policy;
  }

  /** `address`, as every `DatabaseEndpoint` names its host. */
  get host(): string {
    return this.address;
  }

  /**
   * `arn:<partition>:rds-db:<region>:<account>:dbuser:<db-resource-id>`, the partition, region and account taken
   * from the instance's ARN: the resource of an IAM login straight to this instance
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html), with the
   * instance's `resource_id` attribute
   * (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_instance#resource_id).
   * A named local created on first use, so a stack that never connects straight to the instance is unchanged.
   */
  get connectArnPrefix(): string {
    if (this.connectPrefix === undefined) {
      const arn = Fn.split(':', this.instanceArn);
      this.connectPrefix = new TerraformLocal(this, 'connect-arn-prefix', Fn.format('arn:%s:rds-db:%s:%s:dbuser:%s', [Fn.element(arn, 1), Fn.element(arn, 3), Fn.element(arn, 4), this.resourceId])).asString;
    }
    return this.connectPrefix;
  }

  /** The `rds-db:connect` resource ARN of `dbUser` (or a `name*` pattern) logging in straight to this instance. */
  connectArn(dbUser: string): string {
    requireNonEmpty(MODULE, 'connectArn(dbUser)', dbUser);
    return `${this.connectArnPrefix}/${dbUser}`;
  }

  /**
   * Lets `grantee` log in straight to this instance as `dbUser` with an IAM token: `rds-db:connect` on exactly
   * `dbuser:<db-resource-id>/<dbUser>` (never the proxy's `prx-…` resource), the `db-user` resource type
   * `arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/${DbUserName}`
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsiamauthentication.html). The user must exist `IDENTIFIED
   * WITH AWSAuthenticationPlugin AS 'RDS'` and the instance has IAM database authentication on. Every such
   * grant to one role merges into its one `rds-instance-connect` policy, created beside the role. Returns it.
   */
  grantConnect(grantee: Grantee, dbUser: string): GrantPolicy {
    return GrantPolicy.of(grantee, 'rds-instance-connect', 'rds-instance-connect').add({ Sid: 'ConnectToInstance', Action: 'rds-db:connect', Resource: this.connectArn(dbUser) });
  }

  /**
   * Opens MySQL's port to members of `clientSecurityGroupId` and to no one else through this call: ingress on
   * the database's group and egress on the client's, both by group reference, described with
   * `clientDescription`. `id` names the pair of rules, unique in `scope`. Returns them, to depend on.
   * `scope`: where the rules are created (see `allowTcp`). @default this construct, in the database's stack
   */
  allowConnectionsFrom(clientSecurityGroupId: string, id: string, clientDescription?: string, scope: Construct = this): TcpRules {
    requireNonEmpty(MODULE, 'allowConnectionsFrom(clientSecurityGroupId)', clientSecurityGroupId);
    if (clientDescription === undefined) throw new PropsError(MODULE, 'allowConnectionsFrom(clientDescription)', 'must say who connects (the ingress rule\'s description)');
    requireNonEmpty(MODULE, 'allowConnectionsFrom(clientDescription)', clientDescription);
    return allowTcp(scope, id, { securityGroupId: this.securityGroupId, clientSecurityGroupId, port: this.port, serverDescription: `RDS for MySQL ${this.name}`, clientDescription });
  }

  /** A metric of this instance in `AWS/RDS` (dimension `DBInstanceIdentifier`). */
  metric(metricName: MysqlMetricName, statistic: Metric['statistic'], options: MetricOptions = {}): Metric {
    return metric('AWS/RDS', metricName, { DBInstanceIdentifier: this.instanceIdentifier }, { statistic }, options);
  }

  /** Percent. @default Average per minute */
  metricCpuUtilization(options?: MetricOptions): Metric {
    return this.metric('CPUUtilization', 'Average', options);
  }

  /** Bytes of storage left. @default Minimum per minute */
  metricFreeStorageSpace(options?: MetricOptions): Metric {
    return this.metric('FreeStorageSpace', 'Minimum', options);
  }

  /** Bytes of memory available. @default Minimum per minute */
  metricFreeableMemory(options?: MetricOptions): Metric {
    return this.metric('FreeableMemory', 'Minimum', options);
  }

  /** Client connections to the instance (behind the proxy: the proxy's pool). @default Maximum per minute */
  metricDatabaseConnections(options?: MetricOptions): Metric {
    return this.metric('DatabaseConnections', 'Maximum', options);
  }

  /**
   * Connection requests made with IAM database authentication: every new connection of a client that logs in
   * with a token (behind end-to-end IAM, the proxy's own logins), from "IAM DB authentication CloudWatch
   * metrics" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Troubleshooting.html).
   * AWS suggests IAM authentication below about 200 new connections per second
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html). @default Sum per minute
   */
  metricIamAuthRequests(options?: MetricOptions): Metric {
    return this.metric('IamDbAuthConnectionRequests', 'Sum', options);
  }

  /**
   * IAM logins the instance refused, every cause (invalid or expired token, missing `rds-db:connect`,
   * throttling, server error), from the same page; each is also a line of the exported `iam-db-auth-error`
   * log, which says why. @default Sum per minute
   */
  metricIamAuthFailures(options?: MetricOptions): Metric {
    return this.metric('IamDbAuthConnectionFailure', 'Sum', options);
  }

  /**
   * Sends this instance's events of `categories` to an SNS topic. The subscription is created in `scope`
   * (e.g. an operations stack), so the topic may live elsewhere.
   */
  subscribeEvents(scope: Construct, id: string, props: { name: string; snsTopicArn: string; categories: readonly string[] }): DbEventSubscription {
    requireNonEmpty(MODULE, 'subscribeEvents(name)', props.name);
    requireNonEmpty(MODULE, 'subscribeEvents(snsTopicArn)', props.snsTopicArn);
    requireNonEmptyList(MODULE, 'subscribeEvents(categories)', props.categories);
    return new DbEventSubscription(scope, id, {
      name: props.name,
      snsTopic: props.snsTopicArn,
      sourceType: 'db-instance',
      sourceIds: [this.instanceIdentifier],
      eventCategories: [...props.categories],
      enabled: true,
    });
  }
}
