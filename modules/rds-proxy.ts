import { Construct } from 'constructs';
import { Fn, TerraformLocal } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DbProxy } from '@cdktf/provider-aws/lib/db-proxy';
import { DbProxyDefaultTargetGroup } from '@cdktf/provider-aws/lib/db-proxy-default-target-group';
import { DbProxyTarget } from '@cdktf/provider-aws/lib/db-proxy-target';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { assumeRolePolicy, GrantPolicy, type Grantee, policyDocument, region } from './iam';
import type { DatabaseEndpoint } from './database-endpoint';
import { MysqlDatabase } from './mysql-database';
import { metric, type Metric, type MetricOptions } from './metric';
import { allowTcp, type TcpRules } from './security-groups';
import { RDS_MYSQL, RDS_PROXY, RDS_PROXY_SECRETS } from '../aws/limits';
import { PropsError, requireIntIn, requireIntInRange, requireLogRetention, requireNonEmpty, requireNonEmptyList } from './validation';

export interface RdsProxyProps {
  /** Proxy name and prefix of related names (e.g. `hits-dev`). Required. */
  readonly name: string;
  /**
   * The database the proxy fronts: its instance is the proxy's target, in its VPC; the proxy gets egress to
   * the database's security group on its port and the group ingress from the proxy; without `endToEndIam`
   * the proxy logs in with the database's RDS-managed master secret (and may decrypt it with the
   * database's customer-managed key, through Secrets Manager only). Required.
   */
  readonly database: MysqlDatabase;
  /** Subnets the proxy runs in, at least two AZs (the data subnets). Required. */
  readonly subnetIds: readonly string[];
  /** Security groups whose members may connect to the proxy. @default [] */
  readonly clientSecurityGroupIds?: readonly string[];
  /** Seconds a client waits for a pooled connection (`connection_borrow_timeout`); AWS's own default, 120 s, outlasts any API request. @default 5 */
  readonly connectionBorrowTimeoutSeconds?: number;
  /** `max_connections_percent`: share of the database's max_connections the proxy may use. @default 90 */
  readonly maxConnectionsPercent?: number;
  /** `max_idle_connections_percent`. @default 50 */
  readonly maxIdleConnectionsPercent?: number;
  /** `idle_client_timeout` in seconds. @default 1800 */
  readonly idleClientTimeoutSeconds?: number;
  /** `debug_logging` (writes SQL text to CloudWatch Logs). @default false */
  readonly debugLogging?: boolean;
  /** `client_password_auth_type` of the secret's auth entry (without `endToEndIam`); MySQL 8.4 creates users with caching_sha2_password. @default 'MYSQL_CACHING_SHA2_PASSWORD' */
  readonly clientPasswordAuthType?: 'MYSQL_CACHING_SHA2_PASSWORD' | 'MYSQL_NATIVE_PASSWORD';
  /**
   * End-to-end IAM authentication (`default_auth_scheme = "IAM_AUTH"`): clients log in to the proxy with IAM
   * tokens, and the proxy logs in to the database with IAM tokens of its own role for `users`, which must be
   * created in MySQL with `IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'`; the role gets `rds-db:connect`
   * on `dbuser:<databaseResourceId>/<user>` for each. The proxy then has no `auth` entry and its role reads
   * no secret. @default - no end-to-end IAM: the proxy logs in to the database with `secretArn`
   */
  readonly endToEndIam?: EndToEndIam;
  /**
   * The secrets fallback for more database users (one per tenant, say): Secrets Manager secrets of further
   * users, each an `auth` entry beside the master secret's (IAM still required from clients), readable by
   * the proxy's role. With the master secret at most 200 per proxy, an AWS quota
   * (RDS_PROXY_SECRETS in aws/limits.ts); not with `endToEndIam`, which needs no secret per user.
   * @default [] - the master secret only
   */
  readonly userSecretArns?: readonly string[];
  /** Retention in days of the proxy's log group `/aws/rds/proxy/<name>`, which this module creates before the proxy (RDS would create it with no expiry). @default 14 */
  readonly logRetentionDays?: number;
}

/** Database users the proxy logs in as with IAM tokens of its own role. */
export interface EndToEndIam {
  /**
   * MySQL user names, at least one (letters, digits, underscores; at most 32). A trailing `*` makes a name
   * a prefix pattern: `tenant_*` lets the proxy log in as every user whose name starts with `tenant_`, as
   * IAM matches the `dbuser:<db-resource-id>/tenant_*` resource
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html). Required.
   */
  readonly users: readonly string[];
}

const MODULE = 'RdsProxy';

/**
 * An RDS Proxy for MySQL: TLS and IAM authentication required from clients, IAM (end-to-end) or one
 * secret to the database, a bounded connection pool, and security groups chained by reference.
 */
export class RdsProxy extends Construct implements DatabaseEndpoint {
  readonly kind = 'proxy';
  readonly proxyName: string;
  readonly proxyArn: string;
  /** Host name clients connect to (and mint IAM tokens for). */
  readonly endpoint: string;
  /** The `prx-…` resource id (last segment of the ARN), which `rds-db:connect` policies name. */
  readonly resourceId: string;
  /** `arn:<partition>:rds-db:<region>:<account>:dbuser:<prx-id>`; append `/<db user>` for an `rds-db:connect` resource. */
  readonly connectArnPrefix: string;
  readonly port: number;
  readonly securityGroupId: string;
  readonly roleArn: string;
  /** The registered target: depend on it before connecting through the proxy at deploy time. */
  readonly target: DbProxyTarget;
  /** Name of the default target group (`default`), a dimension of the availability metric. */
  readonly targetGroupName: string;
  readonly logGroupName: string;
  readonly connectionBorrowTimeoutSeconds: number;

  constructor(scope: Construct, id: string, props: RdsProxyProps) {
    super(scope, id);
    if (!(props.database instanceof MysqlDatabase)) throw new PropsError(MODULE, 'database', 'must be a MysqlDatabase');
    const { database } = props;
    const port = database.port;
    const borrow = props.connectionBorrowTimeoutSeconds ?? 5;
    const maxPct = props.maxConnectionsPercent ?? 90;
    const idlePct = props.maxIdleConnectionsPercent ?? 50;
    const idleClient = props.idleClientTimeoutSeconds ?? 1800;
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(props.name) || props.name.endsWith('-') || props.name.includes('--')) {
      throw new PropsError(MODULE, 'name', `must be 1-63 letters, digits or single dashes starting with a letter, got "${props.name}"`);
    }
    requireNonEmptyList(MODULE, 'subnetIds', props.subnetIds, 2);
    requireIntInRange(MODULE, 'connectionBorrowTimeoutSeconds', borrow, RDS_PROXY.connectionBorrowTimeoutSeconds);
    requireIntInRange(MODULE, 'maxConnectionsPercent', maxPct, RDS_PROXY.maxConnectionsPercent);
    requireIntIn(MODULE, 'maxIdleConnectionsPercent', idlePct, RDS_PROXY.maxIdleConnectionsPercent.min, maxPct);
    requireIntInRange(MODULE, 'idleClientTimeoutSeconds', idleClient, RDS_PROXY.idleClientTimeoutSeconds);
    const e2e = props.endToEndIam;
    if (e2e) {
      requireNonEmptyList(MODULE, 'endToEndIam.users', e2e.users);
      for (const user of e2e.users) {
        if (!/^[A-Za-z][A-Za-z0-9_]*\*?$/.test(user) || user.replace(/\*$/, '').length > RDS_MYSQL.userNameMaxLength) {
          throw new PropsError(MODULE, 'endToEndIam.users', `must hold MySQL user names or name prefixes ending in "*" (a letter, then letters, digits or underscores; at most ${RDS_MYSQL.userNameMaxLength}), got "${user}"`);
        }
      }
    }
    const userSecrets = props.userSecretArns ?? [];
    if (e2e && userSecrets.length) throw new PropsError(MODULE, 'userSecretArns', 'must be empty with endToEndIam: the proxy logs in to the database with IAM, not with secrets');
    userSecrets.forEach((arn, i) => requireNonEmpty(MODULE, `userSecretArns[${i}]`, arn));
    if (1 + userSecrets.length > RDS_PROXY_SECRETS.max) {
      throw new PropsError(
        MODULE,
        'userSecretArns',
        `holds ${userSecrets.length} secrets; with the master secret that is ${1 + userSecrets.length}, above AWS's limit of ${RDS_PROXY_SECRETS.max} Secrets Manager secrets per RDS proxy (${RDS_PROXY_SECRETS.source}); use endToEndIam, which needs no secret per user`,
      );
    }
    const retention = props.logRetentionDays ?? 14;
    requireLogRetention(MODULE, 'logRetentionDays', retention);

    const name = props.name;
    const role = new IamRole(this, 'role', {
      name: `${name}-rds-proxy`,
      description: e2e ? `RDS Proxy ${name}: logs in to its database with IAM` : `RDS Proxy ${name}: reads the database secret`,
      // The plain service principal, no condition. No RDS Proxy page documents a confused-deputy key that the
      // proxy sends when it assumes its role: the setup page has you create the IAM console's plain RDS
      // service role (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html), and
      // AWS CDK's DatabaseProxy (aws-rds/lib/proxy.ts) and terraform-aws-modules' rds-proxy trust plain
      // rds.amazonaws.com. A key the service does not send never matches: the proxy could not assume its
      // role and its target would never become available.
      assumeRolePolicy: assumeRolePolicy('rds.amazonaws.com'),
    });
    const dependsOn: IamRolePolicy[] = [];
    if (!e2e) {
      const statements: object[] = [
        {
          Sid: 'ReadDatabaseSecret',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: userSecrets.length ? [database.masterUserSecretArn, ...userSecrets] : database.masterUserSecretArn,
        },
      ];
      if (database.masterUserSecretKmsKeyArn) {
        statements.push({
          Sid: 'DecryptDatabaseSecret',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: database.masterUserSecretKmsKeyArn,
          Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region(this)}.amazonaws.com` } },
        });
      }
      dependsOn.push(new IamRolePolicy(this, 'read-secret', { name: 'read-database-secret', role: role.id, policy: policyDocument(statements) }));
    }
    if (e2e) {
      // End-to-end IAM: "RDS Proxy connects to your database using IAM authentication instead of retrieving
      // credentials from Secrets Manager. This requires configuring your IAM role with rds-db:connect
      // permissions for the database accounts" on dbuser:<db resource id>/<user>
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html).
      const arn = Fn.split(':', database.instanceArn);
      // A named local, so the policy stays literal JSON that scanners can read.
      const prefix = new TerraformLocal(
        this,
        'database-connect-arn-prefix',
        Fn.format('arn:%s:rds-db:%s:%s:dbuser:%s', [Fn.element(arn, 1), Fn.element(arn, 3), Fn.element(arn, 4), database.resourceId]),
      ).asString;
      dependsOn.push(
        new IamRolePolicy(this, 'connect-to-database', {
          name: 'connect-to-database-with-iam',
          role: role.id,
          policy: policyDocument([{ Sid: 'ConnectToDatabaseWithIam', Effect: 'Allow', Action: 'rds-db:connect', Resource: e2e.users.map((u) => `${prefix}/${u}`) }]),
        }),
      );
    }

    const securityGroup = new SecurityGroup(this, 'security-group', {
      namePrefix: `${name}-rds-proxy-`,
      description: `RDS Proxy ${name}: clients in, database out, port ${port} only`,
      vpcId: database.vpcId,
      tags: { Name: `${name}-rds-proxy` },
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    this.port = port;
    new VpcSecurityGroupEgressRule(this, 'egress-to-database', {
      securityGroupId: securityGroup.id,
      referencedSecurityGroupId: database.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: 'RDS Proxy to its database',
    });
    new VpcSecurityGroupIngressRule(this, 'database-ingress-from-proxy', {
      securityGroupId: database.securityGroupId,
      referencedSecurityGroupId: securityGroup.id,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: 'MySQL from the RDS Proxy',
    });
    (props.clientSecurityGroupIds ?? []).forEach((client, i) => this.allowConnectionsFrom(client, `client-${i}`));

    // RDS Proxy writes to this group (debug logging or not: connection errors too) and would create it with no expiry.
    const logGroup = new CloudwatchLogGroup(this, 'log-group', { name: `/aws/rds/proxy/${name}`, retentionInDays: retention });
    const proxy = new DbProxy(this, 'proxy', {
      name,
      engineFamily: 'MYSQL',
      roleArn: role.arn,
      vpcSubnetIds: [...props.subnetIds],
      vpcSecurityGroupIds: [securityGroup.id],
      requireTls: true,
      idleClientTimeout: idleClient,
      debugLogging: props.debugLogging ?? false,
      // IAM_AUTH is "the default authentication scheme that the proxy uses for client connections to the
      // proxy and connections from the proxy to the underlying database"
      // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html): clients present an
      // IAM token for dbuser:<prx-id>/<user> (grantConnect), and the proxy presents one of its own role to the
      // database. It needs no secret: "When Default authentication scheme is set to IAM authentication, this
      // field [Secrets Manager secrets] becomes optional"
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-creating.html); Secrets Manager "is not
      // required if you are using end-to-end IAM authentication" (rds-proxy-iam-setup.html); the provider's
      // `auth` is "Required when default_auth_scheme is NONE or unspecified"
      // (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_proxy), and an absent
      // block updates the proxy to no auth entries. No runtime user has a secret, and the deploy-time
      // migration connects straight to the instance, so nothing would use one.
      defaultAuthScheme: e2e ? 'IAM_AUTH' : undefined,
      auth: e2e
        ? undefined
        : [
            {
              description: 'Database credentials from Secrets Manager; clients must present an IAM token',
              authScheme: 'SECRETS',
              secretArn: database.masterUserSecretArn,
              iamAuth: 'REQUIRED',
              clientPasswordAuthType: props.clientPasswordAuthType ?? 'MYSQL_CACHING_SHA2_PASSWORD',
            },
            ...userSecrets.map((secretArn) => ({
              description: 'Credentials of a further database user; clients must present an IAM token',
              authScheme: 'SECRETS',
              secretArn,
              iamAuth: 'REQUIRED',
              clientPasswordAuthType: props.clientPasswordAuthType ?? 'MYSQL_CACHING_SHA2_PASSWORD',
            })),
          ],
      tags: { Name: name },
      // Without its policy in place the proxy starts, cannot log in to the database, and its target never turns available.
      dependsOn: [...dependsOn, logGroup],
    });
    const targetGroup = new DbProxyDefaultTargetGroup(this, 'target-group', {
      dbProxyName: proxy.name,
      connectionPoolConfig: {
        connectionBorrowTimeout: borrow,
        maxConnectionsPercent: maxPct,
        maxIdleConnectionsPercent: idlePct,
      },
    });
    this.target = new DbProxyTarget(this, 'target', {
      dbProxyName: proxy.name,
      targetGroupName: targetGroup.name,
      dbInstanceIdentifier: database.instanceIdentifier,
    });

    this.proxyName = proxy.name;
    this.proxyArn = proxy.arn;
    this.endpoint = proxy.endpoint;
    // Named locals, so stacks that consume them get one cross-stack output each, not the whole ARN arithmetic.
    const arn = Fn.split(':', proxy.arn);
    this.resourceId = new TerraformLocal(this, 'resource-id', Fn.element(arn, 6)).asString;
    this.connectArnPrefix = new TerraformLocal(
      this,
      'connect-arn-prefix',
      Fn.format('arn:%s:rds-db:%s:%s:dbuser:%s', [Fn.element(arn, 1), Fn.element(arn, 3), Fn.element(arn, 4), this.resourceId]),
    ).asString;
    this.roleArn = role.arn;
    this.targetGroupName = targetGroup.name;
    this.logGroupName = logGroup.name;
    this.connectionBorrowTimeoutSeconds = borrow;
  }

  /**
   * A metric of this proxy in `AWS/RDS` with dimension `ProxyName` (RDS's "dimension set 1"). RDS publishes
   * proxy metrics per node of the proxy; the statistic aggregates them (Sum of connections over nodes).
   */
  metric(
    metricName: 'ClientConnections' | 'ClientConnectionsSetupFailedAuth' | 'DatabaseConnections' | 'DatabaseConnectionsBorrowLatency' | 'MaxDatabaseConnectionsAllowed' | 'QueryDatabaseResponseLatency',
    statistic: Metric['statistic'],
    options: MetricOptions = {},
  ): Metric {
    return metric('AWS/RDS', metricName, { ProxyName: this.proxyName }, { statistic }, options);
  }

  /** Client connections open: the function's environments. @default Sum per minute */
  metricClientConnections(options?: MetricOptions): Metric {
    return this.metric('ClientConnections', 'Sum', options);
  }

  /** Client connections refused at authentication: IAM token or grant problems. @default Sum per minute */
  metricClientConnectionsSetupFailedAuth(options?: MetricOptions): Metric {
    return this.metric('ClientConnectionsSetupFailedAuth', 'Sum', options);
  }

  /** Connections the proxy holds to the database. @default Sum per minute */
  metricDatabaseConnections(options?: MetricOptions): Metric {
    return this.metric('DatabaseConnections', 'Sum', options);
  }

  /**
   * The pool's ceiling (max_connections x maxConnectionsPercent / 100). RDS publishes it per proxy node, each
   * node its share, so Sum is the proxy's ceiling, the statistic AWS names for it and the one that matches
   * `metricDatabaseConnections()` in a ratio
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html). @default Sum per minute
   */
  metricMaxDatabaseConnectionsAllowed(options?: MetricOptions): Metric {
    return this.metric('MaxDatabaseConnectionsAllowed', 'Sum', options);
  }

  /** Microseconds a client waited for a pooled connection. @default Average per minute */
  metricDatabaseConnectionsBorrowLatency(options?: MetricOptions): Metric {
    return this.metric('DatabaseConnectionsBorrowLatency', 'Average', options);
  }

  /** Microseconds the database took to answer a query through the proxy. @default Average per minute */
  metricQueryDatabaseResponseLatency(options?: MetricOptions): Metric {
    return this.metric('QueryDatabaseResponseLatency', 'Average', options);
  }

  /**
   * Share of time the target was available in its read/write role (RDS's "dimension set 4": `ProxyName`,
   * `TargetGroup`, `TargetRole`). @default Average per minute
   */
  metricAvailability(options?: MetricOptions): Metric {
    return metric('AWS/RDS', 'AvailabilityPercentage', { ProxyName: this.proxyName, TargetGroup: this.targetGroupName, TargetRole: 'READ_WRITE' }, { statistic: 'Average' }, options);
  }

  /** `endpoint`, as every `DatabaseEndpoint` names its host. */
  get host(): string {
    return this.endpoint;
  }

  /**
   * Opens the proxy's port to members of `clientSecurityGroupId`: ingress on the proxy's group and
   * egress on the client's, both by group reference. `id` names the pair of rules, unique in `scope`; the
   * ingress rule is described as from `clientDescription`. `scope`: where the rules are created (see
   * `allowTcp`). @default clientDescription 'Clients'; scope this construct, in the proxy's stack
   */
  allowConnectionsFrom(clientSecurityGroupId: string, id: string, clientDescription?: string, scope: Construct = this): TcpRules {
    return allowTcp(scope, id, { securityGroupId: this.securityGroupId, clientSecurityGroupId, port: this.port, serverDescription: 'the RDS Proxy', clientDescription });
  }

  /**
   * Lets `grantee` (a function or a role) open connections through this proxy as `dbUser`: `rds-db:connect`
   * on exactly `arn:<partition>:rds-db:<region>:<account>:dbuser:<prx-id>/<dbUser>`, all taken from the
   * proxy's ARN. Every grant to one role merges into its one `rds-proxy-connect` policy, created beside the
   * role (in the role's stack, so it may live in another stack). Returns that policy, to depend on.
   */
  grantConnect(grantee: Grantee, dbUser: string): GrantPolicy {
    requireNonEmpty(MODULE, 'grantConnect(dbUser)', dbUser);
    return GrantPolicy.of(grantee, 'rds-proxy-connect', 'rds-proxy-connect').add({ Sid: 'ConnectThroughProxy', Action: 'rds-db:connect', Resource: this.connectArn(dbUser) });
  }

  /** The `rds-db:connect` resource ARN of `dbUser` on this proxy. */
  connectArn(dbUser: string): string {
    return `${this.connectArnPrefix}/${dbUser}`;
  }
}
