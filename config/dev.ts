import { Profile } from './profile';

/**
 * Development: two AZs, smallest instances, nothing kept on destroy. Every setting is spelled out here and
 * nothing is shared with another profile, so editing dev never changes another environment. To add an
 * environment, copy the profile closest to it (docs/configuration.md, "Add an environment").
 */
export const dev: Profile = {
  name: 'dev',
  project: 'hits',
  region: 'eu-west-1',
  tags: {},
  network: {
    vpcCidr: '10.10.0.0/16',
    azCount: 2,
    natGateways: 'per-az',
    flowLogs: false,
    waivers: {
      flowLogs: 'ingestion cost; no audit requirement on dev traffic',
    },
  },
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
    appUsername: 'hits_app',
    waivers: {
      multiAz: 'a standby doubles the instance cost; dev tolerates an AZ outage',
      deletionProtection: 'dev is destroyed and rebuilt freely with `cdktf destroy`',
      skipFinalSnapshot: 'dev data is disposable; a snapshot per teardown would pile up and cost',
      backupRetentionDays: '1 day keeps point-in-time recovery for mistakes at minimal storage cost',
      performanceInsights: 'not available on db.t4g.micro, the dev instance class',
      monitoringIntervalSeconds: 'per-second OS metrics are a production concern and cost CloudWatch Logs ingestion',
    },
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
    nodeType: 'cache.t4g.micro',
    numCacheNodes: 2,
    ttlSeconds: 5,
  },
  function: {
    memoryMb: 512,
    timeoutSeconds: 10,
    waivers: {
      reservedConcurrency: 'reserving in a shared dev account takes from the unreserved pool other functions need',
    },
  },
  api: {
    throttlingBurstLimit: 100,
    throttlingRateLimit: 50,
  },
  alarms: {
    enabled: false,
    waivers: {
      enabled: 'dev alarms change state on the dashboard but page nobody',
    },
  },
  hits: {
    retentionDays: 7,
  },
  tenants: {
    count: 3,
    prefix: 'tenant_',
    rowsPerTenant: 1000,
  },
  // On so the A/B arm is synthesized and tested with every change; idle it costs nothing (Lambda and HTTP API bill per request).
  directArm: {
    enabled: true,
    // Shared, because dev keeps the arm on: an instance of its own would be a second db.t4g.micro with its
    // storage, billed every hour whether anyone tests or not (the figure: docs/cost.md). On a shared instance
    // `npm run load` runs the arms one after another; set 'own' for a load test that runs them together.
    database: 'shared',
  },
  logRetentionDays: 14,
};
