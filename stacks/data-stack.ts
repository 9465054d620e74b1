import { Construct } from 'constructs';
import { TerraformLocal, TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import type { DatabaseMigration } from '../modules/database-migration';
import { MemcachedCluster } from '../modules/memcached-cluster';
import { MysqlDatabase } from '../modules/mysql-database';
import { RdsProxy } from '../modules/rds-proxy';
import { schemaMigrations } from '../components/schema-migrations';
import { BaseStack, stackId } from './base-stack';
import { NetworkStack, availabilityZones } from './network-stack';

/** The data tier of one environment: MySQL, the RDS Proxy in front of it and, when enabled, memcached. */
export class DataStack extends BaseStack {
  readonly database: MysqlDatabase;
  readonly proxy: RdsProxy;
  /** Absent when the profile's cache is disabled. */
  readonly cache?: MemcachedCluster;
  readonly migration: DatabaseMigration;
  /** The application's database user, which the migrations create (a cross-stack value for the api stack). */
  readonly appUsername: string;

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
    this.migration = schemaMigrations(this, {
      namePrefix: this.resourcePrefix,
      database: this.database,
      vpc,
      appUsername: this.appUsername,
      tenants: profile.tenants,
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
    new TerraformOutput(this, 'proxy_name', { value: this.proxy.proxyName, description: 'RDS Proxy name (the ProxyName dimension of its CloudWatch metrics)' });
    new TerraformOutput(this, 'master_user_secret_arn', { value: this.database.masterUserSecretArn, description: 'RDS-managed secret with the master credentials (rotated by RDS)' });
  }
}
