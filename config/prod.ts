import { Profile } from './profile';

/**
 * Production: three AZs, Multi-AZ database, everything kept and watched. Spelled out in full, sharing
 * nothing with dev, so an edit to dev never reaches production. It waives no policy.
 */
export const prod: Profile = {
  name: 'prod',
  project: 'hits',
  region: 'eu-west-1',
  tags: {},
  network: {
    vpcCidr: '10.20.0.0/16',
    azCount: 3,
    natGateways: 'per-az',
    flowLogs: true,
  },
  database: {
    engineVersion: '8.4',
    instanceClass: 'db.m7g.large',
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    multiAz: true,
    deletionProtection: true,
    skipFinalSnapshot: false,
    backupRetentionDays: 14,
    performanceInsights: true,
    monitoringIntervalSeconds: 60,
    databaseName: 'hits',
    masterUsername: 'hits_admin',
    appUsername: 'hits_app',
  },
  proxy: {
    connectionBorrowTimeoutSeconds: 5,
    maxConnectionsPercent: 90,
    maxIdleConnectionsPercent: 50,
    idleClientTimeoutSeconds: 1800,
    debugLogging: false,
  },
  cache: {
    enabled: true,
    engineVersion: '1.6.22',
    nodeType: 'cache.t4g.small',
    numCacheNodes: 2,
    ttlSeconds: 5,
  },
  function: {
    memoryMb: 1024,
    timeoutSeconds: 10,
    reservedConcurrency: 100,
  },
  api: {
    throttlingBurstLimit: 1000,
    throttlingRateLimit: 500,
  },
  logRetentionDays: 365,
};
