import { Profile } from './profile';
import { dev } from './dev';

/** Production: three AZs, Multi-AZ database, everything kept and watched. */
export const prod: Profile = {
  ...dev,
  name: 'prod',
  network: { vpcCidr: '10.20.0.0/16', azCount: 3, natGateways: 'per-az', flowLogs: true },
  database: {
    ...dev.database,
    instanceClass: 'db.m7g.large',
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    multiAz: true,
    deletionProtection: true,
    skipFinalSnapshot: false,
    backupRetentionDays: 14,
    performanceInsights: true,
    monitoringIntervalSeconds: 60,
    appUsername: 'hits_app',
  },
  cache: { ...dev.cache, nodeType: 'cache.t4g.small' },
  function: { memoryMb: 1024, timeoutSeconds: 10, reservedConcurrency: 100 },
  api: { throttlingBurstLimit: 1000, throttlingRateLimit: 500 },
  logRetentionDays: 365,
};
