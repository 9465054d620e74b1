import type { AlarmSpec, Watched } from './catalogue';

/**
 * The share of requests (%) answered 5xx above which a 5xx alarm fires: AWS's Recommended alarms watch API
 * Gateway 5XXError at Average > 0.05 (HTTP APIs name the metric 5xx).
 */
export const SERVER_ERROR_SHARE_PERCENT = 5;

/** The p99 latency the API alarm fires above (also drawn on the dashboard). */
export const API_LATENCY_ALARM_MS = 2500;

/** The API's alarms. Rates use metric math; a minute with no request is no error (notBreaching). */
export function apiAlarms({ api }: Watched): AlarmSpec[] {
  return [
    {
      id: 'api-5xx-rate',
      description: `More than ${SERVER_ERROR_SHARE_PERCENT}% of API requests answered 5xx for 3 of 5 minutes. First check the function log group for "level":"error" lines (dbUnavailable, errorCode).`,
      metrics: { errors: api.metricServerErrors(), requests: api.metricCount() },
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      comparison: 'GreaterThanThreshold',
      threshold: SERVER_ERROR_SHARE_PERCENT,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'api-latency-p99',
      description: 'API p99 latency above 2.5 s for 3 of 5 minutes. First check the dashboard\'s Lambda duration and proxy borrow latency rows.',
      // AWS's Recommended alarms watch API Gateway Latency at p90 > 2500 ms; we hold p99 to the same bound, since a healthy request here takes tens of ms.
      metrics: { latency: api.metricLatency() },
      comparison: 'GreaterThanThreshold',
      threshold: API_LATENCY_ALARM_MS,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    },
  ];
}
