import { Construct } from 'constructs';
import { TerraformLocal, TerraformOutput } from 'cdktf';
import { directArmDatabase, Profile } from '../config';
import { STACK_OUTPUTS } from '../contracts';
import type { DatabaseMigration } from '../modules/database-migration';
import { MemcachedCluster } from '../modules/memcached-cluster';
import { MysqlDatabase, type MysqlDatabaseProps } from '../modules/mysql-database';
import { RdsProxy } from '../modules/rds-proxy';
import type { Vpc } from '../modules/vpc';
import { DIRECT_ARM_NAME, directArmNamePrefix } from '../components/direct-arm';
import { schemaMigrations } from '../components/schema-migrations';
import { BaseStack, stackId } from './base-stack';
import { NetworkStack, availabilityZones } from './network-stack';

/**
 * An instance of the profile's `database` settings named `name`: one description for the proxy arm's
 * instance and the direct arm's own, so the two differ in their names only (and the resources that carry
 * them: subnet group, parameter group, security group, log groups).
 */
function databaseProps(profile: Profile, name: string, vpc: Vpc): MysqlDatabaseProps {
  const d = profile.database;
  return {
    name,
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
  };
}

/**
 * The data tier of one environment: MySQL, the RDS Proxy in front of it and, when enabled, memcached; with the
 * direct arm on its own database (`directArm.database: 'own'`), a second, identical instance that no proxy
 * targets, with its own migrations.
 */
export class DataStack extends BaseStack {
  readonly database: MysqlDatabase;
  readonly proxy: RdsProxy;
  /** Absent when the profile's cache is disabled. */
  readonly cache?: MemcachedCluster;
  readonly migration: DatabaseMigration;
  /**
   * The instance the direct arm connects to: its own, migrated by a run of its own, with
   * `directArm.database: 'own'`; the proxy arm's with `'shared'`; absent when the arm is off.
   */
  readonly directArmDatabase?: MysqlDatabase;
  /** The application's database user, which the migrations create (a cross-stack value for the api stack). */
  readonly appUsername: string;

  constructor(scope: Construct, profile: Profile, network: NetworkStack) {
    super(scope, stackId('data', profile), profile);
    const { vpc } = network;
    const d = profile.database;
    this.database = new MysqlDatabase(this, 'mysql', databaseProps(profile, this.resourcePrefix, vpc));

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
    const migrations = { vpc, appUsername: this.appUsername, tenants: profile.tenants, logRetentionDays: profile.logRetentionDays };
    this.migration = schemaMigrations(this, { ...migrations, namePrefix: this.resourcePrefix, database: this.database });
    const armDatabase = directArmDatabase(profile);
    let ownDatabase: MysqlDatabase | undefined;
    if (armDatabase === 'own') {
      // New construct ids: everything of the proxy arm's instance keeps its address.
      const name = directArmNamePrefix(this.resourcePrefix);
      ownDatabase = new MysqlDatabase(this, `${DIRECT_ARM_NAME}-mysql`, databaseProps(profile, name, vpc));
      schemaMigrations(this, { ...migrations, namePrefix: name, database: ownDatabase, qualifier: DIRECT_ARM_NAME });
    }
    if (armDatabase) this.directArmDatabase = ownDatabase ?? this.database;

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

    const OUT = STACK_OUTPUTS.data;
    new TerraformOutput(this, 'proxy_endpoint', { value: this.proxy.endpoint, description: 'RDS Proxy endpoint the function connects to (TLS + IAM token)' });
    new TerraformOutput(this, OUT.databaseIdentifier, { value: this.database.instanceIdentifier, description: 'RDS instance behind the proxy' });
    new TerraformOutput(this, OUT.proxyName, { value: this.proxy.proxyName, description: 'RDS Proxy name (the ProxyName dimension of its CloudWatch metrics)' });
    new TerraformOutput(this, 'master_user_secret_arn', { value: this.database.masterUserSecretArn, description: 'RDS-managed secret with the master credentials (rotated by RDS)' });
    if (ownDatabase) {
      new TerraformOutput(this, OUT.directDatabaseIdentifier, { value: ownDatabase.instanceIdentifier, description: "The direct arm's own RDS instance (no proxy in front)" });
      new TerraformOutput(this, 'direct_master_user_secret_arn', { value: ownDatabase.masterUserSecretArn, description: "RDS-managed secret with the master credentials of the direct arm's instance" });
    }
  }
}
