import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { directArmDatabase, Profile } from '../config';
import { STACK_OUTPUTS } from '../contracts';
import { DirectArm } from '../components/direct-arm';
import { HitsService } from '../components/hits-service';
import { TenantsService } from '../components/tenants-service';
import { BaseStack, stackId } from './base-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';

/** The public edge of one environment: the hits service (function in the private subnets, HTTP API in front) and, when enabled, the direct arm beside it. */
export class ApiStack extends BaseStack {
  readonly service: HitsService;
  /** Absent when the profile has no tenants. */
  readonly tenants?: TenantsService;
  /** The A/B comparison arm without the proxy; absent unless the profile's directArm is enabled. */
  readonly directArm?: DirectArm;

  constructor(scope: Construct, profile: Profile, network: NetworkStack, data: DataStack) {
    super(scope, stackId('api', profile), profile);
    const f = profile.function;
    const OUT = STACK_OUTPUTS.api;
    // Everything both arms share: they differ in the way to the database only (and, with `directArm.database:
    // 'own'`, in the instance behind it, identical but their own).
    const shared = {
      namePrefix: this.resourcePrefix,
      vpc: network.vpc,
      database: data.database,
      username: data.appUsername,
      idleClientTimeoutSeconds: profile.proxy.idleClientTimeoutSeconds,
      cache: data.cache,
      cacheTtlSeconds: profile.cache.ttlSeconds,
      memoryMb: f.memoryMb,
      timeoutSeconds: f.timeoutSeconds,
      reservedConcurrency: f.reservedConcurrency,
      throttlingBurstLimit: profile.api.throttlingBurstLimit,
      throttlingRateLimit: profile.api.throttlingRateLimit,
      logRetentionDays: profile.logRetentionDays,
    };
    this.service = new HitsService(this, { ...shared, endpoint: data.proxy });
    const tenants = profile.tenants.count > 0 ? { count: profile.tenants.count, prefix: profile.tenants.prefix } : undefined;

    if (tenants) {
      this.tenants = new TenantsService(this, {
        ...tenants,
        namePrefix: this.resourcePrefix,
        vpc: network.vpc,
        endpoint: data.proxy,
        api: this.service.api,
        memoryMb: f.memoryMb,
        timeoutSeconds: f.timeoutSeconds,
        logRetentionDays: profile.logRetentionDays,
      });
      new TerraformOutput(this, OUT.tenantsFunctionName, { value: this.tenants.function.functionName, description: 'The tenants function (logs in /aws/lambda/<name>)' });
    }

    new TerraformOutput(this, OUT.apiUrl, { value: this.service.api.url, description: 'Open it in a browser: every request is recorded and listed' });
    new TerraformOutput(this, OUT.functionName, { value: this.service.function.functionName, description: 'The hits function (logs in /aws/lambda/<name>)' });

    const armDatabase = directArmDatabase(profile);
    if (armDatabase && data.directArmDatabase) {
      this.directArm = new DirectArm(this, 'direct-arm', { ...shared, database: data.directArmDatabase, tenants });
      const arm = this.directArm;
      new TerraformOutput(this, OUT.directApiUrl, { value: arm.service.api.url, description: 'The direct arm (no proxy) of the A/B load test: the same routes, straight to the instance' });
      new TerraformOutput(this, OUT.directFunctionName, { value: arm.service.function.functionName, description: "The direct arm's hits function" });
      if (arm.tenants) new TerraformOutput(this, OUT.directTenantsFunctionName, { value: arm.tenants.function.functionName, description: "The direct arm's tenants function" });
      new TerraformOutput(this, OUT.directArmDatabase, { value: armDatabase, description: "own: the direct arm has its own instance (npm run load runs the arms together); shared: it uses the proxy arm's (one arm after the other)" });
    }
  }
}
