import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { PRUNE_RESERVED_CONCURRENCY } from '../config/validate';
import { ServiceMonitoring } from '../components/monitoring';
import type { HitsService } from '../components/hits-service';
import { PruneJob } from '../components/prune-job';
import type { TenantsService } from '../components/tenants-service';
import { ApiStack } from './api-stack';
import { BaseStack, stackId } from './base-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';

/**
 * Operating one environment: the scheduled prune that bounds the hits table, and the monitoring (alarm
 * topic, RDS events, alarms along the request path, one dashboard). It depends on the data and api stacks;
 * nothing depends on it, so it deploys last and can be destroyed first.
 */
export class OpsStack extends BaseStack {
  readonly prune: PruneJob;
  readonly monitoring: ServiceMonitoring;

  constructor(scope: Construct, profile: Profile, network: NetworkStack, data: DataStack, api: ApiStack) {
    super(scope, stackId('ops', profile), profile);
    const { database, proxy, cache } = data;

    this.prune = new PruneJob(this, {
      namePrefix: this.resourcePrefix,
      vpc: network.vpc,
      databaseEnvironment: api.service.databaseEnvironment,
      proxy,
      username: data.appUsername,
      retentionDays: profile.hits.retentionDays,
      // One run at a time where the environment reserves concurrency (config/validate.ts counts it in the quota).
      reservedConcurrency: profile.function.reservedConcurrency === undefined ? undefined : PRUNE_RESERVED_CONCURRENCY,
      logRetentionDays: profile.logRetentionDays,
    });

    this.monitoring = new ServiceMonitoring(this, {
      namePrefix: this.resourcePrefix,
      region: profile.region,
      api: api.service.api,
      hits: api.service.function,
      tenants: api.tenants?.function,
      proxy,
      proxyMaxConnectionsPercent: profile.proxy.maxConnectionsPercent,
      database,
      cache,
      prune: this.prune,
      accountConcurrencyLimit: profile.function.accountConcurrencyLimit,
      alarmEmail: profile.alarms.email,
      alarmActionsEnabled: profile.alarms.enabled,
      arms: api.directArm && [
        { label: 'proxy', api: api.service.api, database, functions: armFunctions(api.service, api.tenants) },
        { label: 'direct', api: api.directArm.service.api, database: api.directArm.database, functions: armFunctions(api.directArm.service, api.directArm.tenants) },
      ],
    });

    new TerraformOutput(this, 'alarm_topic_arn', { value: this.monitoring.topic.topicArn, description: 'SNS topic of the alarms and RDS events (subscribe more endpoints here)' });
    new TerraformOutput(this, 'dashboard_name', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard of this environment' });
  }
}

/** One arm's functions as the dashboard's A/B section labels them. */
function armFunctions(hits: HitsService, tenants?: TenantsService) {
  return [{ label: 'hits', function: hits.function }, ...(tenants ? [{ label: 'tenants', function: tenants.function }] : [])];
}
