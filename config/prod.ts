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
    // Sized for hits.retentionDays (90) at the API's full throttle (500 req/s) around the clock:
    // 500 x 86,400 x 90 = 3.9 billion rows. A typical row (short path) takes ~80 bytes in InnoDB with its
    // primary key, so ~310 GB; binary logs and temporary tables need headroom on top: 400 GB. Rows with
    // 2 KB paths at that rate would need ~9 TB: no ceiling should absorb that; the free-storage alarm
    // pages first.
    maxAllocatedStorageGb: 400,
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
    // The account's Lambda concurrency quota (aws lambda get-account-settings): 100 stays unreserved.
    accountConcurrencyLimit: 1000,
  },
  api: {
    throttlingBurstLimit: 1000,
    throttlingRateLimit: 500,
  },
  alarms: {
    enabled: true,
  },
  hits: {
    retentionDays: 90,
  },
  tenants: {
    count: 0,
    prefix: 'tenant_',
    rowsPerTenant: 1000,
  },
  // The A/B arm is an experiment: on for a load test, off again afterwards.
  directArm: {
    enabled: false,
  },
  logRetentionDays: 365,
};
