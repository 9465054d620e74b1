import type { Construct } from 'constructs';
import { APP_METRICS_NAMESPACE } from '../contracts';
import { HttpApi } from '../modules/http-api';
import type { MemcachedCluster } from '../modules/memcached-cluster';
import type { MysqlDatabase } from '../modules/mysql-database';
import { NodeFunction } from '../modules/node-function';
import type { DatabaseEndpoint } from '../modules/database-endpoint';
import type { Vpc } from '../modules/vpc';
import { projectPath } from './project-path';

/** The function entry point the API serves. */
export const HITS_ENTRY = projectPath('functions/hits/handler.ts');

export interface DatabaseEnvironmentProps {
  /** Where the functions connect: the RDS Proxy, or the instance itself (the direct arm). Required. */
  readonly endpoint: DatabaseEndpoint;
  /** The database behind it (its schema name). Required. */
  readonly database: MysqlDatabase;
  /** The application's database user, created by the migrations. Required. */
  readonly username: string;
  /**
   * Seconds of idleness after which the function rebuilds its pool: the proxy's `idle_client_timeout`, after
   * which the proxy closes an idle client. The direct arm takes the same value (well below MySQL's
   * `wait_timeout`, 28800 s by default), so both arms reconnect alike. Required.
   */
  readonly idleClientTimeoutSeconds: number;
}

/**
 * The DB_* contract between the stacks and every function that reads or writes hits as the application
 * user (functions/lib/config.ts reads it): IAM tokens over verified TLS through the endpoint, never a
 * password. One definition, so the hits function, the prune and the direct arm switch user, host or rules
 * together. Straight to an instance, TLS is verified against the RDS CA bundle (DB_CA_BUNDLE=rds), which
 * its certificate chains to.
 */
export function databaseEnvironment(props: DatabaseEnvironmentProps): Readonly<Record<string, string>> {
  return {
    DB_HOST: props.endpoint.host,
    DB_PORT: String(props.endpoint.port),
    DB_NAME: props.database.databaseName,
    // The application user the migrations created: SELECT, INSERT, DELETE on hits, nothing else.
    DB_USER: props.username,
    DB_AUTH: 'iam',
    DB_TLS: 'verify',
    ...(props.endpoint.kind === 'instance' ? { DB_CA_BUNDLE: 'rds' } : {}),
    // The proxy closes clients idle this long; the function rebuilds its pool after such a gap instead of failing on a dead socket.
    DB_IDLE_REBUILD_SECONDS: String(props.idleClientTimeoutSeconds),
  };
}

export interface HitsServiceProps extends DatabaseEnvironmentProps {
  /** `<project>-<environment>`: the function is `<prefix>-hits`, and so is the API. Required. */
  readonly namePrefix: string;
  /** The function runs in its private subnets. Required. */
  readonly vpc: Vpc;
  /** The function's security group. @default the VPC's app security group */
  readonly securityGroupId?: string;
  /** The memcached cluster the listing is cached in. @default - no cache: no CACHE_* variable is set */
  readonly cache?: MemcachedCluster;
  /** Freshness of cached listings (CACHE_TTL_SECONDS). @default 5 */
  readonly cacheTtlSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** @default - none: the function shares the account's unreserved concurrency */
  readonly reservedConcurrency?: number;
  /** API stage throttling: burst. @default 100 */
  readonly throttlingBurstLimit?: number;
  /** API stage throttling: requests per second. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Retention of the function's and the API's log groups. @default 14 */
  readonly logRetentionDays?: number;
}

/**
 * The public edge of one environment: the `hits` function in the private subnets, created after its
 * `rds-db:connect` grant on its endpoint (the proxy, or the instance for the direct arm), and the HTTP API
 * in front of it.
 *
 * Not a Construct of its own: its children are created in `scope` with the ids the api stack always gave
 * them (`hits`, `http-api`), because cdktf derives Terraform addresses from the construct path, and a new
 * path level would rename (destroy and re-create) every resource of a deployed environment.
 */
export class HitsService {
  readonly function: NodeFunction;
  readonly api: HttpApi;
  /** The DB_* variables alone (no CACHE_*): what other functions running as the application user take. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, props: HitsServiceProps) {
    this.databaseEnvironment = databaseEnvironment(props);
    const environment: Record<string, string> = { ...this.databaseEnvironment };
    if (props.cache) {
      environment.CACHE_NODES = props.cache.nodeEndpoints;
      environment.CACHE_TLS = String(props.cache.transitEncryption);
      environment.CACHE_TTL_SECONDS = String(props.cacheTtlSeconds ?? 5);
    }
    const logRetentionDays = props.logRetentionDays ?? 14;
    this.function = new NodeFunction(scope, 'hits', {
      functionName: `${props.namePrefix}-hits`,
      entry: HITS_ENTRY,
      subnetIds: props.vpc.privateSubnetIds,
      securityGroupIds: [props.securityGroupId ?? props.vpc.appSecurityGroupId],
      environment,
      memoryMb: props.memoryMb ?? 512,
      timeoutSeconds: props.timeoutSeconds ?? 10,
      reservedConcurrency: props.reservedConcurrency,
      logRetentionDays,
      metricsNamespace: APP_METRICS_NAMESPACE,
    });
    // Created after its grant: otherwise the first requests after a first deploy can be refused (500).
    this.function.addDependency(props.endpoint.grantConnect(this.function.role, props.username));

    this.api = new HttpApi(scope, 'http-api', {
      name: `${props.namePrefix}-hits`,
      functionName: this.function.functionName,
      functionInvokeArn: this.function.invokeArn,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      throttlingRateLimit: props.throttlingRateLimit ?? 50,
      logRetentionDays,
    });
  }
}
