/**
 * A CloudWatch metric as modules describe it, in the manner of AWS CDK's `metricX()` helpers: which
 * metric, which dimensions, and how to aggregate it. Alarms and dashboards are built from these, so a
 * metric name or dimension is written once, in the module that knows the resource.
 */
import { PropsError, requireNonEmpty } from './validation';
import { CLOUDWATCH_PERIOD_SECONDS } from '../contracts';

/** A statistic CloudWatch accepts for alarms and dashboards: the five basic ones or a percentile such as `p99`. */
export type Statistic = 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount' | `p${number}`;

export interface Metric {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name -> value (values are often references to the resource). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: Statistic;
  /** Aggregation period in seconds (60 or a multiple of 60). */
  readonly periodSeconds: number;
  /** Legend and alarm-description label. @default the metric name */
  readonly label?: string;
}

/** Overrides a `metricX()` helper takes. */
export interface MetricOptions {
  /** @default the helper's statistic, chosen for what the metric means */
  readonly statistic?: Statistic;
  /** @default 60 */
  readonly periodSeconds?: number;
  /** @default the metric name */
  readonly label?: string;
}

const STATISTIC = /^(Sum|Average|Maximum|Minimum|SampleCount|p\d{1,2}(\.\d+)?)$/;

/** Builds a Metric, checking what CloudWatch would refuse at apply time. */
export function metric(namespace: string, metricName: string, dimensions: Record<string, string>, defaults: { statistic: Statistic }, options: MetricOptions = {}): Metric {
  const statistic = options.statistic ?? defaults.statistic;
  const periodSeconds = options.periodSeconds ?? CLOUDWATCH_PERIOD_SECONDS;
  requireNonEmpty('Metric', 'namespace', namespace);
  requireNonEmpty('Metric', 'metricName', metricName);
  if (!STATISTIC.test(statistic)) throw new PropsError('Metric', 'statistic', `must be Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99, got "${statistic}"`);
  if (!Number.isInteger(periodSeconds) || periodSeconds < CLOUDWATCH_PERIOD_SECONDS || periodSeconds % CLOUDWATCH_PERIOD_SECONDS !== 0) throw new PropsError('Metric', 'periodSeconds', `must be ${CLOUDWATCH_PERIOD_SECONDS} or a multiple of it, got ${periodSeconds}`);
  return { namespace, metricName, dimensions: { ...dimensions }, statistic, periodSeconds, label: options.label };
}
