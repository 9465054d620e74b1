import { Construct } from 'constructs';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { Metric } from './metric';
import { PropsError, requireIntIn, requireNonEmpty } from './validation';

export type Comparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
/** What a period without data counts as: CloudWatch's `treat_missing_data`. */
export type MissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export interface MetricAlarmProps {
  /** Alarm name, unique in the account and region. Required. */
  readonly name: string;
  /** What the alarm means and the first thing to check; shown in every notification. Required. */
  readonly description: string;
  /** The metrics, by expression id (lowercase letter first, e.g. `errors`). One metric and no `expression`: the alarm watches it. Required. */
  readonly metrics: Readonly<Record<string, Metric>>;
  /** Metric math over the ids (e.g. `100 * errors / invocations`). @default - the single metric itself */
  readonly expression?: string;
  /** Label of the expression. @default the alarm name */
  readonly expressionLabel?: string;
  /** Required. */
  readonly comparison: Comparison;
  /** Required. */
  readonly threshold: number;
  /** Periods evaluated. @default 5 */
  readonly evaluationPeriods?: number;
  /** Breaching periods among them that raise the alarm. @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** Chosen per alarm on purpose, so there is no default. Required. */
  readonly treatMissingData: MissingData;
  /** Topics notified on ALARM and on OK. @default [] */
  readonly actionArns?: readonly string[];
  /** Whether the actions run. @default true */
  readonly actionsEnabled?: boolean;
}

const MODULE = 'MetricAlarm';
const ID = /^[a-z][a-zA-Z0-9_]*$/;

/** A CloudWatch alarm on one metric or on metric math, written as `metric_query` blocks either way. */
export class MetricAlarm extends Construct {
  readonly alarmName: string;
  readonly alarmArn: string;

  constructor(scope: Construct, id: string, props: MetricAlarmProps) {
    super(scope, id);
    const entries = Object.entries(props.metrics);
    const evaluationPeriods = props.evaluationPeriods ?? 5;
    const datapoints = props.datapointsToAlarm ?? evaluationPeriods;
    requireNonEmpty(MODULE, 'name', props.name);
    requireNonEmpty(MODULE, 'description', props.description);
    if (entries.length === 0) throw new PropsError(MODULE, 'metrics', 'must name at least one metric');
    const badId = entries.find(([k]) => !ID.test(k));
    if (badId) throw new PropsError(MODULE, 'metrics', `ids must start with a lowercase letter and hold letters, digits or _, got "${badId[0]}"`);
    if (!props.expression && entries.length !== 1) throw new PropsError(MODULE, 'expression', `is required when more than one metric is given (${entries.map(([k]) => k).join(', ')})`);
    if (!Number.isFinite(props.threshold)) throw new PropsError(MODULE, 'threshold', `must be a finite number, got ${props.threshold}`);
    requireIntIn(MODULE, 'evaluationPeriods', evaluationPeriods, 1, 100);
    requireIntIn(MODULE, 'datapointsToAlarm', datapoints, 1, evaluationPeriods);
    const periods = new Set(entries.map(([, m]) => m.periodSeconds));
    if (periods.size !== 1) throw new PropsError(MODULE, 'metrics', `must share one period, got ${[...periods].join(', ')} s`);

    const alarm = new CloudwatchMetricAlarm(this, 'alarm', {
      alarmName: props.name,
      alarmDescription: props.description,
      comparisonOperator: props.comparison,
      threshold: props.threshold,
      evaluationPeriods,
      datapointsToAlarm: datapoints,
      treatMissingData: props.treatMissingData,
      actionsEnabled: props.actionsEnabled ?? true,
      alarmActions: [...(props.actionArns ?? [])],
      okActions: [...(props.actionArns ?? [])],
      metricQuery: [
        ...entries.map(([queryId, m]) => ({
          id: queryId,
          label: m.label ?? m.metricName,
          returnData: !props.expression,
          metric: { namespace: m.namespace, metricName: m.metricName, dimensions: { ...m.dimensions }, stat: m.statistic, period: m.periodSeconds },
        })),
        ...(props.expression ? [{ id: 'result', expression: props.expression, label: props.expressionLabel ?? props.name, returnData: true }] : []),
      ],
    });
    this.alarmName = alarm.alarmName;
    this.alarmArn = alarm.arn;
  }
}
