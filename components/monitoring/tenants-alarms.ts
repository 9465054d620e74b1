import { METRIC, TENANTS_ROUTE_METRIC } from '../../contracts';
import { SERVER_ERROR_SHARE_PERCENT } from './api-alarms';
import type { AlarmSpec, Watched } from './catalogue';
import { throttleAlarm } from './function-alarms';

/**
 * The proxy arm's tenants function, when the environment serves tenants: what its callers see (the share of
 * failed requests, throttles) and its own ways to fail (logins the database refuses, STS errors), from
 * Lambda's metrics and the function's own (EMF: contracts/metrics.ts). The direct arm's tenants function
 * gets none: it is a temporary experiment, read on the dashboard.
 */
export function tenantsAlarms({ tenants }: Watched): AlarmSpec[] {
  if (!tenants) return [];
  const stsErrors = Object.fromEntries(Object.entries(METRIC.stsErrors).map(([reason, name]) => [reason, tenants.metricApp(name, 'Sum')]));
  return [
    {
      id: 'tenants-5xx-rate',
      description: `More than ${SERVER_ERROR_SHARE_PERCENT}% of tenant requests failed (answered 5xx, or the invocation crashed or timed out) for 3 of 5 minutes. Check the tenants function's log group for "level":"error" lines: each names the tenant and the errorCode.`,
      metrics: {
        failed: tenants.metricApp(METRIC.requests, 'Sum', { label: 'Requests 5xx' }, { route: TENANTS_ROUTE_METRIC, statusClass: '5xx' }),
        // A crash, a timeout or running out of memory writes no request line, and the API answers it 5xx: Lambda's Errors count it
        // (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
        crashed: tenants.metricErrors(),
        requests: tenants.metricApp(METRIC.requests, 'Sum'),
      },
      // The API's bound (AWS's Recommended alarms), on what the tenant route's callers see. FILL: a minute in which
      // every invocation crashed has no request metric at all, and must still count.
      expression: 'IF(FILL(requests, 0) + FILL(crashed, 0) > 0, 100 * (FILL(failed, 0) + FILL(crashed, 0)) / (FILL(requests, 0) + FILL(crashed, 0)), 0)',
      comparison: 'GreaterThanThreshold',
      threshold: SERVER_ERROR_SHARE_PERCENT,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    throttleAlarm(
      'tenants-throttles',
      tenants,
      `More than 1% of invocations of the tenants function were throttled for 3 of 5 minutes: ${
        tenants.reservedConcurrency === undefined ? "the account's unreserved concurrency is exhausted (the function reserves none)" : `its reservation of ${tenants.reservedConcurrency} is exhausted`
      }. Check ConcurrentExecutions of every function and the account quota (aws lambda get-account-settings).`,
    ),
    {
      id: 'tenants-login-failures',
      description: 'The database refused more than 1 login per 100 tenant requests for 3 of 5 minutes (a request that fails counts its login and its one fresh retry: an expired token, a user whose plugin changed, a revoked grant): the fresh-login retry is not recovering. Check the tenants function\'s error lines (each names the tenant), the /aws/rds/instance/<id>/iam-db-auth-error log group, and the tenant-access role\'s rds-db:connect grant.',
      metrics: { refused: tenants.metricApp(METRIC.loginFailures, 'Sum'), requests: tenants.metricApp(METRIC.requests, 'Sum') },
      // Reasoning: tokens are cached for less than their 15-minute life and a refused login is retried once with a fresh
      // token, so a stray refusal recovers; 1% sustained means a tenant's user or the grants are broken.
      expression: 'IF(requests > 0, 100 * FILL(refused, 0) / requests, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'tenants-sts-errors',
      description: `AssumeRole failed in 3 of 5 minutes, so tenants without cached credentials got 503 or 500. The metric names say why: ${Object.values(METRIC.stsErrors).join(', ')}. Denied: the tenant-access role's trust or policy (a deploy problem); throttled: the account's STS request rate; unavailable: STS or the NAT path. The log line names the tenant.`,
      metrics: stsErrors,
      // Reasoning: credentials are cached per tenant until shortly before they expire (one call per tenant per hour and
      // environment), so calls are few and a share would swing on a handful; failures in 3 separate minutes are not a blip.
      expression: Object.keys(stsErrors).map((reason) => `FILL(${reason}, 0)`).join(' + '),
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
  ];
}
