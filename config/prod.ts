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
    // Sized for hits.retentionDays (90) at the API's full throttle (500 req/s) around the clock:
    // 500 x 86,400 x 90 = 3.9 billion rows. A typical row (short path) takes ~80 bytes in InnoDB with its
    // primary key, so ~310 GB; binary logs and temporary tables need headroom on top: 400 GB. Rows with
    // 2 KB paths at that rate would need ~9 TB: no ceiling should absorb that; the free-storage alarm
    // pages first. Before retention, the ceiling was 1000 GB and growth was unbounded.
    maxAllocatedStorageGb: 400,
    multiAz: true,
    deletionProtection: true,
    skipFinalSnapshot: false,
    backupRetentionDays: 14,
    performanceInsights: true,
    monitoringIntervalSeconds: 60,
  },
  cache: { ...dev.cache, nodeType: 'cache.t4g.small' },
  function: { memoryMb: 1024, timeoutSeconds: 10, reservedConcurrency: 100, accountConcurrencyLimit: 1000 },
  api: { throttlingBurstLimit: 1000, throttlingRateLimit: 500 },
  alarms: { enabled: true },
  hits: { retentionDays: 90 },
  logRetentionDays: 365,
};
