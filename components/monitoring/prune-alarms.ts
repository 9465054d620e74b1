import { PRUNE_PERIOD_SECONDS } from '../prune-job';
import type { AlarmSpec, Watched } from './catalogue';

/** The prune: failing runs, and no runs at all. */
export function pruneAlarms({ prune }: Watched): AlarmSpec[] {
  const fn = prune.function;
  return [
    {
      id: 'prune-errors',
      description: 'The prune failed in two consecutive 15-minute runs: expired hits accumulate. Check the prune log group ("prune failed").',
      metrics: { errors: fn.metricErrors({ periodSeconds: PRUNE_PERIOD_SECONDS }) },
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'prune-not-running',
      description: 'The prune was not invoked for an hour: the schedule or its role is broken and expired hits accumulate. Check the EventBridge Scheduler schedule and its role.',
      metrics: { invocations: fn.metricInvocations({ periodSeconds: 3600 }) },
      comparison: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      // Deliberately breaching: Lambda publishes Invocations only when there are some, so silence is the failure.
      treatMissingData: 'breaching',
    },
  ];
}
