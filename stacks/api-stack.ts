import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { HitsService } from '../components/hits-service';
import { TenantsService } from '../components/tenants-service';
import { BaseStack, stackId } from './base-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';

/** The public edge of one environment: the hits service (function in the private subnets, HTTP API in front). */
export class ApiStack extends BaseStack {
  readonly service: HitsService;
  /** Absent when the profile has no tenants. */
  readonly tenants?: TenantsService;

  constructor(scope: Construct, profile: Profile, network: NetworkStack, data: DataStack) {
    super(scope, stackId('api', profile), profile);
    const f = profile.function;
    this.service = new HitsService(this, {
      namePrefix: this.resourcePrefix,
      vpc: network.vpc,
      proxy: data.proxy,
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
    });

    if (profile.tenants.count > 0) {
      if (!data.tenantsSecurityGroupId) throw new Error(`${stackId('data', profile)} has no tenants security group although tenants.count is ${profile.tenants.count}`);
      this.tenants = new TenantsService(this, {
        namePrefix: this.resourcePrefix,
        count: profile.tenants.count,
        prefix: profile.tenants.prefix,
        vpc: network.vpc,
        securityGroupId: data.tenantsSecurityGroupId,
        proxy: data.proxy,
        api: this.service.api,
        memoryMb: f.memoryMb,
        timeoutSeconds: f.timeoutSeconds,
        logRetentionDays: profile.logRetentionDays,
      });
      new TerraformOutput(this, 'tenants_function_name', { value: this.tenants.function.functionName, description: 'The tenants function (logs in /aws/lambda/<name>)' });
    }

    new TerraformOutput(this, 'api_url', { value: this.service.api.url, description: 'Open it in a browser: every request is recorded and listed' });
    new TerraformOutput(this, 'function_name', { value: this.service.function.functionName, description: 'The hits function (logs in /aws/lambda/<name>)' });
  }
}
