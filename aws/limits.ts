/**
 * What AWS itself accepts, in one table: the limits and catalogue facts that both the profile schema
 * (config/) and the modules (modules/) check against. Each entry names the AWS page it comes from, so a
 * reader can re-check it; a stricter rule chosen for this product lives beside the profile setting that
 * applies it, with its reason, never here.
 *
 * Pure data, importing only the dependency-free contracts (contracts/), where the facts the functions and
 * tools share live: anything may import it (config/, modules/, scripts, tests) without cycles.
 */
import { MYSQL_USER_NAME_MAX_LENGTH } from '../contracts';

/** An inclusive integer range AWS accepts, with the page that says so. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
  readonly source: string;
}

const RDS_API = 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference';

/** RDS Proxy connection settings (`aws_db_proxy`, `aws_db_proxy_default_target_group.connection_pool_config`). */
export const RDS_PROXY = {
  /** `ConnectionBorrowTimeout`: 0 means "wait without limit". */
  connectionBorrowTimeoutSeconds: { min: 0, max: 3600, source: `${RDS_API}/API_ConnectionPoolConfiguration.html` },
  /** `MaxConnectionsPercent`: share of the target's `max_connections`. */
  maxConnectionsPercent: { min: 1, max: 100, source: `${RDS_API}/API_ConnectionPoolConfiguration.html` },
  /** `MaxIdleConnectionsPercent`: at most `MaxConnectionsPercent` as well. */
  maxIdleConnectionsPercent: { min: 0, max: 100, source: `${RDS_API}/API_ConnectionPoolConfiguration.html` },
  /** `IdleClientTimeout` ("Constraints: 1 to 28,800"; default 1800). */
  idleClientTimeoutSeconds: { min: 1, max: 28800, source: `${RDS_API}/API_DBProxy.html` },
} as const satisfies Record<string, IntRange>;

/**
 * Secrets Manager secrets one RDS Proxy may hold, one per database user it logs in with a password: "Each
 * proxy can have up to 200 associated Secrets Manager secrets, thus limiting connections to up to 200
 * different user accounts at any given time" (the page's "Quotas and limitations for RDS Proxy"). End-to-end
 * IAM needs no secret per user, so tenants are bounded by it only when a proxy falls back to secrets.
 */
export const RDS_PROXY_SECRETS = {
  max: 200,
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html#rds-proxy.limitations',
} as const;

/**
 * RDS Proxy with RDS for MySQL: the MySQL major versions a proxy can front, per region, as the page `url`
 * ("Supported Regions and DB engines for Amazon RDS Proxy", section "RDS Proxy with RDS for MySQL") lists
 * them, read on `read`. The page has columns for RDS for MySQL 8.4, 8.0 and 5.7 and says "All available
 * versions" in every row but Asia Pacific (New Zealand) and Asia Pacific (Taipei), "Not available" in all
 * three columns. 5.7 is left out: this project creates no 5.7 database (no parameter group family below).
 * Each row keeps the page's region name beside its code, to re-check against the page. Profile validation
 * refuses a region or version this table does not list, naming the page.
 */
const ALL: readonly string[] = ['8.4', '8.0'];
const NONE: readonly string[] = [];
export const RDS_PROXY_MYSQL_SUPPORT = {
  url: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RDS_Fea_Regions_DB-eng.Feature.RDSProxy.html',
  read: '2026-12-01',
  /** region code -> the page's region name and the MySQL major versions it lists for RDS Proxy there. */
  regions: {
    'us-east-1': { name: 'US East (N. Virginia)', versions: ALL },
    'us-east-2': { name: 'US East (Ohio)', versions: ALL },
    'us-west-1': { name: 'US West (N. California)', versions: ALL },
    'us-west-2': { name: 'US West (Oregon)', versions: ALL },
    'af-south-1': { name: 'Africa (Cape Town)', versions: ALL },
    'ap-east-1': { name: 'Asia Pacific (Hong Kong)', versions: ALL },
    'ap-south-2': { name: 'Asia Pacific (Hyderabad)', versions: ALL },
    'ap-southeast-3': { name: 'Asia Pacific (Jakarta)', versions: ALL },
    'ap-southeast-5': { name: 'Asia Pacific (Malaysia)', versions: ALL },
    'ap-southeast-4': { name: 'Asia Pacific (Melbourne)', versions: ALL },
    'ap-south-1': { name: 'Asia Pacific (Mumbai)', versions: ALL },
    'ap-southeast-6': { name: 'Asia Pacific (New Zealand)', versions: NONE },
    'ap-northeast-3': { name: 'Asia Pacific (Osaka)', versions: ALL },
    'ap-northeast-2': { name: 'Asia Pacific (Seoul)', versions: ALL },
    'ap-southeast-1': { name: 'Asia Pacific (Singapore)', versions: ALL },
    'ap-southeast-2': { name: 'Asia Pacific (Sydney)', versions: ALL },
    'ap-east-2': { name: 'Asia Pacific (Taipei)', versions: NONE },
    'ap-southeast-7': { name: 'Asia Pacific (Thailand)', versions: ALL },
    'ap-northeast-1': { name: 'Asia Pacific (Tokyo)', versions: ALL },
    'ca-central-1': { name: 'Canada (Central)', versions: ALL },
    'ca-west-1': { name: 'Canada West (Calgary)', versions: ALL },
    'cn-north-1': { name: 'China (Beijing)', versions: ALL },
    'cn-northwest-1': { name: 'China (Ningxia)', versions: ALL },
    'eu-central-1': { name: 'Europe (Frankfurt)', versions: ALL },
    'eu-west-1': { name: 'Europe (Ireland)', versions: ALL },
    'eu-west-2': { name: 'Europe (London)', versions: ALL },
    'eu-south-1': { name: 'Europe (Milan)', versions: ALL },
    'eu-west-3': { name: 'Europe (Paris)', versions: ALL },
    'eu-south-2': { name: 'Europe (Spain)', versions: ALL },
    'eu-north-1': { name: 'Europe (Stockholm)', versions: ALL },
    'eu-central-2': { name: 'Europe (Zurich)', versions: ALL },
    'il-central-1': { name: 'Israel (Tel Aviv)', versions: ALL },
    'mx-central-1': { name: 'Mexico (Central)', versions: ALL },
    'me-south-1': { name: 'Middle East (Bahrain)', versions: ALL },
    'me-central-1': { name: 'Middle East (UAE)', versions: ALL },
    'sa-east-1': { name: 'South America (São Paulo)', versions: ALL },
    'us-gov-east-1': { name: 'AWS GovCloud (US-East)', versions: ALL },
    'us-gov-west-1': { name: 'AWS GovCloud (US-West)', versions: ALL },
  } as Readonly<Record<string, { readonly name: string; readonly versions: readonly string[] }>>,
};

/**
 * RDS for MySQL major versions and their DB parameter group family, newest first (the first is the default).
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html ;
 * families: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html
 */
export const MYSQL_FAMILIES = { '8.4': 'mysql8.4', '8.0': 'mysql8.0' } as const;
export type MysqlMajorVersion = keyof typeof MYSQL_FAMILIES;
export const MYSQL_MAJOR_VERSIONS = Object.keys(MYSQL_FAMILIES) as [MysqlMajorVersion, ...MysqlMajorVersion[]];

/** RDS for MySQL naming rules (CreateDBInstance `DBName`, `MasterUsername`): https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html */
export const RDS_MYSQL = {
  /** `DBName`: 1 to 64 letters or digits, starting with a letter; then letters, underscores or digits. */
  databaseName: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
  databaseNameMaxLength: 64,
  /** `MasterUsername`: 1 to 16 letters or digits, starting with a letter. */
  masterUsername: /^[A-Za-z][A-Za-z0-9_]{0,15}$/,
  masterUsernameMaxLength: 16,
  /** MySQL account names are at most 32 characters (contracts/tenants.ts). */
  userNameMaxLength: MYSQL_USER_NAME_MAX_LENGTH,
  /** `AllocatedStorage` for gp3 on RDS for MySQL, GiB. https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html */
  allocatedStorageGb: { min: 20, max: 65536, source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html' },
  /** `BackupRetentionPeriod`: 0 (off) to 35 days. */
  backupRetentionDays: { min: 0, max: 35, source: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html' },
  /** `MonitoringInterval` (enhanced monitoring), seconds; 0 turns it off. */
  monitoringIntervalsSeconds: [0, 1, 5, 10, 15, 30, 60],
  monitoringSource: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html',
  /** Log types RDS for MySQL exports to CloudWatch Logs. https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQL.LogFileSize.html */
  logExports: ['error', 'slowquery', 'general', 'audit', 'iam-db-auth-error'],
} as const;

/**
 * Instance classes on which RDS offers no Performance Insights (Database Insights standard mode):
 * db.t*.micro and db.t*.small. https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.Overview.Engines.html
 */
export const SMALL_BURSTABLE = /^db\.t[234]g?\.(micro|small)$/;

/**
 * Memory (GiB) of the instance classes whose thresholds the stacks derive (freeable memory, max_connections).
 * From the RDS instance class tables (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html);
 * a class not listed here has no memory-derived alarm.
 */
export const INSTANCE_MEMORY_GIB: Readonly<Record<string, number>> = {
  'db.t4g.micro': 1,
  'db.t4g.small': 2,
  'db.t4g.medium': 4,
  'db.t4g.large': 8,
  'db.m7g.large': 8,
  'db.m7g.xlarge': 16,
  'db.m7g.2xlarge': 32,
  'db.r7g.large': 16,
  'db.r7g.xlarge': 32,
  'db.r7g.2xlarge': 64,
};

/** Lambda function settings. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const LAMBDA = {
  memoryMb: { min: 128, max: 10240, source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html' },
  timeoutSeconds: { min: 1, max: 900, source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html' },
  /** The account's concurrency quota, "Concurrent executions" in Service Quotas. */
  concurrencyQuotaCode: 'L-B99A9384',
} as const;

/** API Gateway HTTP API limits. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html */
export const HTTP_API = {
  /** Integration timeout: 50 ms to 30 s. */
  integrationTimeoutMs: { min: 50, max: 30000, source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html' },
  integrationTimeoutMaxSeconds: 30,
  /**
   * Stage route throttling: burst is an integer and may be 0 (refuses every request); rate is a number ≥ 0
   * (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages.html). AWS documents no
   * per-stage maximum: the account's throttle quota (10,000 requests per second by default, adjustable) caps
   * what a stage gets. The 100000 below is not an AWS limit; it only catches a misplaced digit.
   */
  throttlingBurstLimit: { min: 0, max: 100000, source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html' },
  throttlingRateLimit: { min: 0, max: 100000, source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html' },
} as const;

/** CloudWatch Logs' allowed `retentionInDays` values. https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** ElastiCache for Memcached. https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption-mc.html */
export const MEMCACHED = {
  /** Nodes per Memcached cluster, the default quota (adjustable in Service Quotas). https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/quota-limits.html */
  numCacheNodes: { min: 1, max: 40, source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/quota-limits.html' },
  /** First memcached version with TLS in transit. */
  tlsMinVersion: [1, 6, 12] as readonly [number, number, number],
} as const;
