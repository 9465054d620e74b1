import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { HttpApi } from '../modules/http-api';
import { NodeFunction } from '../modules/node-function';
import { BaseStack, projectPath, stackId } from './base-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';

/** The function entry point the API serves. */
export const HITS_ENTRY = projectPath('functions/hits/handler.ts');
/** CloudWatch namespace of the functions' own (EMF) metrics; per environment through the `service` dimension. */
export const APP_METRICS_NAMESPACE = 'hits';

/** The public edge of one environment: the `hits` function in the private subnets and the HTTP API in front of it. */
export class ApiStack extends BaseStack {
  readonly function: NodeFunction;
  readonly api: HttpApi;
  /** The DB_* contract of the functions that use the database (hits, prune): one definition, so both follow a change of user. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, profile: Profile, network: NetworkStack, data: DataStack) {
    super(scope, stackId('api', profile), profile);
    const { vpc } = network;
    const { database, proxy, cache } = data;

    // The contract with functions/hits (its DB_* environment): IAM tokens over verified TLS, never a password.
    const environment: Record<string, string> = {
      DB_HOST: proxy.endpoint,
      DB_PORT: String(proxy.port),
      DB_NAME: database.databaseName,
      // The application user the migrations created: SELECT, INSERT, DELETE on hits, nothing else.
      DB_USER: data.appUsername,
      DB_AUTH: 'iam',
      DB_TLS: 'verify',
      // The proxy closes clients idle this long; the function rebuilds its pool after such a gap instead of failing on a dead socket.
      DB_IDLE_REBUILD_SECONDS: String(profile.proxy.idleClientTimeoutSeconds),
    };
    this.databaseEnvironment = { ...environment };
    if (cache) {
      environment.CACHE_NODES = cache.nodeEndpoints;
      environment.CACHE_TLS = String(cache.transitEncryption);
      environment.CACHE_TTL_SECONDS = String(profile.cache.ttlSeconds);
    }

    const f = profile.function;
    this.function = new NodeFunction(this, 'hits', {
      functionName: `${this.resourcePrefix}-hits`,
      entry: HITS_ENTRY,
      subnetIds: vpc.privateSubnetIds,
      securityGroupIds: [vpc.appSecurityGroupId],
      environment,
      memoryMb: f.memoryMb,
      timeoutSeconds: f.timeoutSeconds,
      reservedConcurrency: f.reservedConcurrency,
      logRetentionDays: profile.logRetentionDays,
      metricsNamespace: APP_METRICS_NAMESPACE,
    });
    // Created after its grant: otherwise the first requests after a first deploy can be refused (500).
    this.function.addDependency(proxy.grantConnect(this.function.role, data.appUsername));

    this.api = new HttpApi(this, 'http-api', {
      name: `${this.resourcePrefix}-hits`,
      functionName: this.function.functionName,
      functionInvokeArn: this.function.invokeArn,
      throttlingBurstLimit: profile.api.throttlingBurstLimit,
      throttlingRateLimit: profile.api.throttlingRateLimit,
      logRetentionDays: profile.logRetentionDays,
    });

    new TerraformOutput(this, 'api_url', { value: this.api.url, description: 'Open it in a browser: every request is recorded and listed' });
    new TerraformOutput(this, 'function_name', { value: this.function.functionName, description: 'The hits function (logs in /aws/lambda/<name>)' });
  }
}
