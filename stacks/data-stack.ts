import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { MemcachedCluster } from '../modules/memcached-cluster';
import { MysqlDatabase } from '../modules/mysql-database';
import { RdsProxy } from '../modules/rds-proxy';
import { BaseStack, stackId } from './base-stack';
import { NetworkStack, availabilityZones } from './network-stack';

/** The data tier of one environment: MySQL, the RDS Proxy in front of it and, when enabled, memcached. */
export class DataStack extends BaseStack {
  readonly database: MysqlDatabase;
  readonly proxy: RdsProxy;
  /** Absent when the profile's cache is disabled. */
  readonly cache?: MemcachedCluster;

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
      vpcId: vpc.vpcId,
      subnetIds: vpc.dataSubnetIds,
      dbInstanceIdentifier: this.database.instanceIdentifier,
      databaseSecurityGroupId: this.database.securityGroupId,
      secretArn: this.database.masterUserSecretArn,
      clientSecurityGroupIds: [vpc.appSecurityGroupId],
      connectionBorrowTimeoutSeconds: p.connectionBorrowTimeoutSeconds,
      maxConnectionsPercent: p.maxConnectionsPercent,
      maxIdleConnectionsPercent: p.maxIdleConnectionsPercent,
      idleClientTimeoutSeconds: p.idleClientTimeoutSeconds,
      debugLogging: p.debugLogging,
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
    new TerraformOutput(this, 'master_user_secret_arn', { value: this.database.masterUserSecretArn, description: 'RDS-managed secret with the master credentials (rotated by RDS)' });
  }
}
