import { Profile } from './profile';

/** Development: two AZs, smallest instances, nothing kept on destroy. */
export const dev: Profile = {
  name: 'dev',
  project: 'hits',
  region: 'eu-west-1',
  tags: {},
  network: { vpcCidr: '10.10.0.0/16', azCount: 2, natGateways: 'per-az', flowLogs: false },
  database: {
    engineVersion: '8.4',
    instanceClass: 'db.t4g.micro',
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 0,
    multiAz: false,
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionDays: 1,
    performanceInsights: false,
    monitoringIntervalSeconds: 0,
    databaseName: 'hits',
    masterUsername: 'hits_admin',
  },
  proxy: {
    connectionBorrowTimeoutSeconds: 5,
    maxConnectionsPercent: 90,
    maxIdleConnectionsPercent: 50,
    idleClientTimeoutSeconds: 1800,
    debugLogging: false,
  },
  cache: { enabled: true, engineVersion: '1.6.22', nodeType: 'cache.t4g.micro', numCacheNodes: 2, ttlSeconds: 5 },
  function: { memoryMb: 512, timeoutSeconds: 10 },
  api: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
  alarms: { enabled: false },
  hits: { retentionDays: 7 },
  logRetentionDays: 14,
};
