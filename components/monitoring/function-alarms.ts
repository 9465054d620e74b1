import type { AlarmSpec, Watched } from './catalogue';
import { METRIC } from '../../contracts';
import type { NodeFunction } from '../../modules/node-function';

/**
 * More than 1% of `fn`'s invocations throttled, 3 of 5 minutes. Lambda does not count a throttled request
 * in `Invocations` (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), so a minute
 * in which every request was throttled can have no `Invocations` at all: FILL keeps that minute breaching
 * instead of missing (which counts as not breaching).
 */
export function throttleAlarm(id: string, fn: NodeFunction, description: string): AlarmSpec {
  return {
    id,
    description,
    metrics: { throttles: fn.metricThrottles(), invocations: fn.metricInvocations() },
    // Reasoning: a throttled request never reaches the function; 1% means the concurrency is the bottleneck, not a blip.
    expression: 'IF(FILL(invocations, 0) + FILL(throttles, 0) > 0, 100 * FILL(throttles, 0) / (FILL(invocations, 0) + FILL(throttles, 0)), 0)',
    comparison: 'GreaterThanThreshold',
    threshold: 1,
    datapointsToAlarm: 3,
    treatMissingData: 'notBreaching',
  };
}

/** The hits function: Lambda's own metrics, then the function's (EMF) metrics of what it answered. */
export function functionAlarms({ hits, cache, concurrencyCeiling }: Watched): AlarmSpec[] {
  const alarms: AlarmSpec[] = [
    {
      id: 'lambda-error-rate',
      description: 'More than 1% of invocations of the hits function failed (crash, timeout, out of memory) for 3 of 5 minutes. The handler answers 500 itself for ordinary errors, so check the log group for "Task timed out" or "Runtime exited".',
      metrics: { errors: hits.metricErrors(), invocations: hits.metricInvocations() },
      // Reasoning: the handler catches every error it can and answers it, so a Lambda error is a crash; 1% sustained is systemic.
      expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 1,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    throttleAlarm('lambda-throttles', hits, 'More than 1% of invocations of the hits function were throttled for 3 of 5 minutes: concurrency is exhausted. Check ConcurrentExecutions against the reservation and the account quota (aws lambda get-account-settings).'),
    {
      id: 'lambda-duration-p99',
      description: `Hits function p99 duration above 80% of its ${hits.timeoutSeconds} s timeout for 3 of 5 minutes: requests are about to time out. Check DbTime on the dashboard and the proxy's borrow latency.`,
      // Reasoning: the function answers 503 one second before its timeout (DEADLINE_MARGIN_MS); 80% leaves time to act before that.
      metrics: { duration: hits.metricDuration() },
      comparison: 'GreaterThanThreshold',
      threshold: 0.8 * hits.timeoutSeconds * 1000,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
  ];
  if (concurrencyCeiling !== undefined) {
    alarms.push({
      id: 'lambda-concurrency',
      description: `Hits function concurrency above 80% of its ceiling (${concurrencyCeiling}) for 3 of 5 minutes; at 100% requests are throttled. Check traffic on the API row before raising the reservation: each environment holds one proxy connection.`,
      // Reasoning: 80% leaves the headroom of a burst; the ceiling is the reservation, or the unreserved pool (quota - 100).
      metrics: { concurrency: hits.metricConcurrentExecutions() },
      comparison: 'GreaterThanThreshold',
      threshold: Math.floor(0.8 * concurrencyCeiling),
      datapointsToAlarm: 3,
      // A gauge Lambda reports only while something runs: no data is no concurrency.
      treatMissingData: 'notBreaching',
    });
  }
  alarms.push({
    id: 'fn-db-unavailable',
    description: 'More than 1% of requests answered 503 because the database was unavailable (saturated, unreachable or out of time) for 3 of 5 minutes. The reason is in the metric name and the log line\'s dbUnavailable field.',
    metrics: {
      saturated: hits.metricApp(METRIC.dbUnavailable.saturated, 'Sum'),
      unreachable: hits.metricApp(METRIC.dbUnavailable.unreachable, 'Sum'),
      deadline: hits.metricApp(METRIC.dbUnavailable.deadline, 'Sum'),
      requests: hits.metricApp(METRIC.requests, 'Sum'),
    },
    // Reasoning: each one is a user's request refused; 1% sustained is an outage of the data tier, not a blip.
    expression: 'IF(requests > 0, 100 * (FILL(saturated, 0) + FILL(unreachable, 0) + FILL(deadline, 0)) / requests, 0)',
    comparison: 'GreaterThanThreshold',
    threshold: 1,
    datapointsToAlarm: 3,
    treatMissingData: 'notBreaching',
  });
  if (cache) {
    const list = { route: 'list', statusClass: '2xx' };
    alarms.push({
      id: 'fn-cache-bypass',
      description: 'More than half of the cache-aside listings bypassed memcached for 10 minutes: the cache is failing and the database serves every read. Check the "cache call failed" lines and the cache row.',
      metrics: {
        hit: hits.metricApp(METRIC.cacheHit, 'Sum', {}, list),
        miss: hits.metricApp(METRIC.cacheMiss, 'Sum', {}, list),
        bypass: hits.metricApp(METRIC.cacheBypass, 'Sum', {}, list),
      },
      // Reasoning: a healthy cache serves most listings within its TTL; bypass means a failed call, never normal operation.
      expression: 'IF(FILL(hit, 0) + FILL(miss, 0) + FILL(bypass, 0) > 0, 100 * FILL(bypass, 0) / (FILL(hit, 0) + FILL(miss, 0) + FILL(bypass, 0)), 0)',
      comparison: 'GreaterThanThreshold',
      threshold: 50,
      evaluationPeriods: 10,
      treatMissingData: 'notBreaching',
    });
  }
  return alarms;
}
