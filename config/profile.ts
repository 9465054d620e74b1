import { MYSQL_FAMILIES } from '../modules/mysql-database';

/**
 * An environment profile: every setting that differs between environments, in one typed object.
 * Stacks read nothing else; `validateProfile` runs before any construct is created, so a bad
 * profile fails synth with a message naming the field and the allowed values.
 */
export interface Profile {
  /** Environment name, used in stack ids (`network-<name>`), resource names and tags. Lowercase letters, digits, dashes. */
  readonly name: string;
  /** AWS region every stack of this environment deploys to. */
  readonly region: string;
  /** Short project name prefixed to resource names. */
  readonly project: string;
  /** Extra tags added to the provider's `default_tags` (project, environment and managed-by are always set). */
  readonly tags: Readonly<Record<string, string>>;
  readonly network: NetworkProfile;
  readonly database: DatabaseProfile;
  readonly proxy: ProxyProfile;
  readonly cache: CacheProfile;
  readonly function: FunctionProfile;
  readonly api: ApiProfile;
  readonly alarms: AlarmsProfile;
  readonly hits: HitsProfile;
  /** Retention in days of every log group of this environment (CloudWatch's allowed values). */
  readonly logRetentionDays: number;
  /** Where Terraform keeps state; absent means a local backend with a relative path. */
  readonly stateBackend?: S3StateBackend;
}

export interface NetworkProfile {
  /** IPv4 CIDR of the VPC; must be a /16 to /20 so each AZ gets three /(n+4) subnets. */
  readonly vpcCidr: string;
  /** Number of availability zones, 2 to 4 (`a`, `b`, `c`, `d` of the region). */
  readonly azCount: number;
  /** `per-az`: one NAT gateway in each AZ (an AZ outage cuts no other AZ off); `single`: one NAT for all (cheaper, one AZ is a single point of failure). */
  readonly natGateways: 'per-az' | 'single';
  /** VPC flow logs (all traffic) to CloudWatch Logs. */
  readonly flowLogs: boolean;
  /** Production policies this environment breaks on purpose, with the reason for each (see Waivers). @default none */
  readonly waivers?: Waivers<'flowLogs' | 'natGateways'>;
}

/**
 * The production policies (__tests__/policy) a profile breaks on purpose, keyed by the setting that breaks
 * them, each with the reason. Kept beside the settings so a profile copied to a new environment carries
 * its intent; the policy suite fails when a waived setting is in fact compliant (a stale waiver) and when
 * a setting breaks a policy without a waiver.
 */
export type Waivers<Setting extends string> = Readonly<Partial<Record<Setting, string>>>;

/** One waiver a profile declares: `<section>.waivers.<setting>`, with its reason. */
export interface DeclaredWaiver {
  /** `<section>.<setting>`, the setting that breaks the policy, e.g. `database.multiAz`. */
  readonly setting: string;
  readonly reason: string;
}

/** Every waiver of `profile`, from each section that may hold them. */
export function declaredWaivers(profile: Profile): DeclaredWaiver[] {
  const sections = { network: profile.network.waivers, database: profile.database.waivers, function: profile.function.waivers, alarms: profile.alarms.waivers };
  return Object.entries(sections).flatMap(([section, waivers]) =>
    Object.entries(waivers ?? {}).map(([setting, reason]) => ({ setting: `${section}.${setting}`, reason: reason ?? '' })),
  );
}

export interface DatabaseProfile {
  /** MySQL major version; the parameter group family follows (`mysql8.4`). */
  readonly engineVersion: MysqlMajorVersion;
  /** RDS instance class, e.g. `db.t4g.micro`. */
  readonly instanceClass: string;
  /** Initial gp3 storage in GiB (20 to 65536). */
  readonly allocatedStorageGb: number;
  /** Storage autoscaling ceiling in GiB; 0 disables autoscaling. */
  readonly maxAllocatedStorageGb: number;
  readonly multiAz: boolean;
  readonly deletionProtection: boolean;
  /** Skip the final snapshot on destroy (dev only: data is lost). */
  readonly skipFinalSnapshot: boolean;
  /** Automated backup retention in days (0 to 35; 0 disables backups and is refused here). */
  readonly backupRetentionDays: number;
  readonly performanceInsights: boolean;
  /** Enhanced monitoring interval in seconds: 0 (off), 1, 5, 10, 15, 30 or 60. */
  readonly monitoringIntervalSeconds: number;
  /** Name of the database RDS creates; the function's `DB_NAME`. */
  readonly databaseName: string;
  /** Master user name; its password is RDS-managed in Secrets Manager and the proxy logs in with it. Only the deploy-time migration uses it. */
  readonly masterUsername: string;
  /**
   * The application's database user (the hits function's `DB_USER`): created by the migrations for IAM
   * authentication, with SELECT, INSERT, DELETE on `<databaseName>.hits` only. 1-32 letters, digits or
   * underscores starting with a letter; not the master user.
   */
  readonly appUsername: string;
  /** Production policies this environment breaks on purpose, with the reason for each. @default none */
  readonly waivers?: Waivers<'multiAz' | 'deletionProtection' | 'skipFinalSnapshot' | 'backupRetentionDays' | 'performanceInsights' | 'monitoringIntervalSeconds'>;
}

export type MysqlMajorVersion = '8.4' | '8.0';
/** The versions the mysql-database module knows a parameter group family for. */
export const MYSQL_MAJOR_VERSIONS = Object.keys(MYSQL_FAMILIES) as readonly MysqlMajorVersion[];

export interface ProxyProfile {
  /** Seconds a client waits for a pooled connection before the proxy gives up; must stay below the function timeout. */
  readonly connectionBorrowTimeoutSeconds: number;
  /** Share of the database's `max_connections` the proxy may open (1 to 100). */
  readonly maxConnectionsPercent: number;
  /** Share of `max_connections` the proxy keeps open while idle (0 to maxConnectionsPercent). */
  readonly maxIdleConnectionsPercent: number;
  /** Seconds before the proxy closes an idle client connection (60 to 28800). */
  readonly idleClientTimeoutSeconds: number;
  /** Logs SQL statements; never in production (it writes query text to CloudWatch). */
  readonly debugLogging: boolean;
}

export interface CacheProfile {
  /** `false` removes every cache resource, rule, permission and environment variable. */
  readonly enabled: boolean;
  /** Memcached engine version; 1.6.12 or later for TLS in transit. */
  readonly engineVersion: string;
  /** ElastiCache node type, e.g. `cache.t4g.micro`. */
  readonly nodeType: string;
  /** Number of nodes (2 to 40); nodes are spread over the AZs. */
  readonly numCacheNodes: number;
  /** Seconds a cached listing stays fresh (the function's `CACHE_TTL_SECONDS`). */
  readonly ttlSeconds: number;
}

export interface FunctionProfile {
  /** Memory in MB (128 to 10240); CPU scales with it. */
  readonly memoryMb: number;
  /** Timeout in seconds; below the API's 30 s integration limit and above the proxy borrow timeout. */
  readonly timeoutSeconds: number;
  /** Reserved concurrency; caps the connections the function can ask of the proxy. Absent: unreserved. */
  readonly reservedConcurrency?: number;
  /** Production policies this environment breaks on purpose, with the reason for each. @default none */
  readonly waivers?: Waivers<'reservedConcurrency'>;
  /**
   * The account's Lambda concurrency quota in this region (`aws lambda get-account-settings` →
   * `AccountLimit.ConcurrentExecutions`). Required when `reservedConcurrency` is set: AWS keeps 100
   * executions unreserved, so every reservation of the environment must fit in this quota minus 100.
   */
  readonly accountConcurrencyLimit?: number;
}

export interface AlarmsProfile {
  /** Alarms notify the topic (`actions_enabled`). Off: the alarms and dashboard still exist, nobody is told. */
  readonly enabled: boolean;
  /** E-mail address subscribed to the alarm topic (the recipient confirms by mail). Absent: no subscription. */
  readonly email?: string;
  /** Production policies this environment breaks on purpose, with the reason for each. @default none */
  readonly waivers?: Waivers<'enabled'>;
}

export interface HitsProfile {
  /** Days a recorded hit is kept; the scheduled prune deletes older rows (1 to 3650). */
  readonly retentionDays: number;
}

export interface ApiProfile {
  /** Stage throttling: maximum burst of requests. */
  readonly throttlingBurstLimit: number;
  /** Stage throttling: steady requests per second. */
  readonly throttlingRateLimit: number;
}

export interface S3StateBackend {
  /** S3 bucket holding the state (must exist, versioning on). */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Key prefix; each stack's state is `<keyPrefix>/<stack id>.tfstate`. */
  readonly keyPrefix: string;
}

export { LOG_RETENTION_DAYS } from '../modules/validation';

/** API Gateway's hard limit for an integration, which bounds the function timeout. */
export const API_INTEGRATION_TIMEOUT_LIMIT_SECONDS = 30;
