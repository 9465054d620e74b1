/**
 * The operating modules alone: metric descriptions, the alarm topic, alarms, the dashboard and the Lambda
 * schedule; props validation naming the field, defaults as documented, and what they synthesize.
 */
import { TerraformStack, Testing } from 'cdktf';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { AlarmTopic, type AlarmTopicProps } from '../../modules/alarm-topic';
import { Dashboard, dashboardBody, type DashboardProps } from '../../modules/dashboard';
import { LambdaSchedule, type LambdaScheduleProps } from '../../modules/lambda-schedule';
import { metric } from '../../modules/metric';
import { MetricAlarm, type MetricAlarmProps } from '../../modules/metric-alarm';
import { defaultMaxConnections, INSTANCE_MEMORY_GIB } from '../../modules/mysql-database';
import { resources, single, type StackJson } from '../support/synth';

const synth = (f: (stack: TerraformStack) => void): StackJson => {
  const stack = new TerraformStack(Testing.app(), 'test');
  f(stack);
  return JSON.parse(Testing.synth(stack));
};
const inStack = (f: (stack: TerraformStack) => void) => () => f(new TerraformStack(Testing.app(), 'test'));

const errors = metric('AWS/Lambda', 'Errors', { FunctionName: 'fn' }, { statistic: 'Sum' });
const invocations = metric('AWS/Lambda', 'Invocations', { FunctionName: 'fn' }, { statistic: 'Sum' });

describe('metric()', () => {
  test('defaults: the helper statistic, 60 s, the metric name as label', () => {
    expect(errors).toEqual({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'fn' }, statistic: 'Sum', periodSeconds: 60, label: undefined });
    expect(metric('AWS/Lambda', 'Duration', {}, { statistic: 'p99' }, { statistic: 'p50', periodSeconds: 300 })).toMatchObject({ statistic: 'p50', periodSeconds: 300 });
  });
  test.each<[string, () => unknown, RegExp]>([
    ['a statistic CloudWatch does not know', () => metric('N', 'M', {}, { statistic: 'Median' as never }), /Metric: statistic/],
    ['a period that is not a multiple of 60', () => metric('N', 'M', {}, { statistic: 'Sum' }, { periodSeconds: 90 }), /Metric: periodSeconds/],
    ['no namespace', () => metric('', 'M', {}, { statistic: 'Sum' }), /Metric: namespace/],
  ])('refuses %s', (_c, f, message) => expect(f).toThrow(message));
});

describe('AlarmTopic', () => {
  const BASE: AlarmTopicProps = { name: 'hits-test-alarms', rdsEventSourcePrefix: 'hits-test' };
  test.each<[string, Partial<AlarmTopicProps>, RegExp]>([
    ['a name with spaces', { name: 'a b' }, /AlarmTopic: name/],
    ['no publisher', { cloudWatchAlarms: false, rdsEventSourcePrefix: undefined }, /AlarmTopic: cloudWatchAlarms/],
    ['an RDS prefix no DB identifier can start with', { rdsEventSourcePrefix: '1-db' }, /AlarmTopic: rdsEventSourcePrefix/],
    ['a bad e-mail', { email: 'not-an-address' }, /AlarmTopic: email/],
    ['a 3-day key deletion window', { keyDeletionWindowDays: 3 }, /AlarmTopic: keyDeletionWindowDays/],
  ])('refuses %s', (_c, props, message) => expect(inStack((s) => new AlarmTopic(s, 't', { ...BASE, ...props }))).toThrow(message));

  const statements = (policy: string) => JSON.parse(policy).Statement as any[];
  const byService = (policy: string, service: string) => statements(policy).find((st) => st.Principal?.Service === service);
  const PARTITION = '${data.aws_partition.partition.partition}';
  const REGION = '${data.aws_region.region.region}';
  const ACCOUNT = '${data.aws_caller_identity.caller-identity.account_id}';

  test('own rotating key; the account administers it in its own partition, no literal aws partition anywhere', () => {
    const json = synth((s) => new AlarmTopic(s, 't', BASE));
    const [keyName, key] = resources(json, 'aws_kms_key')[0];
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(single(json, 'aws_sns_topic')).toMatchObject({ name: 'hits-test-alarms', kms_master_key_id: `\${aws_kms_key.${keyName}.arn}` });
    expect(statements(key.policy).find((st) => st.Sid === 'AccountAdministers').Principal).toEqual({ AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` });
    expect(JSON.stringify(json)).not.toMatch(/arn:aws:/);
    expect(resources(json, 'aws_sns_topic_subscription')).toEqual([]);
    expect(single(json, 'aws_kms_alias').name).toBe('alias/hits-test-alarms');
  });

  test('CloudWatch: alarms of this account and region only, in the key policy and the topic policy', () => {
    const json = synth((s) => new AlarmTopic(s, 't', BASE));
    const condition = { ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` }, StringEquals: { 'aws:SourceAccount': ACCOUNT } };
    expect(byService(single(json, 'aws_kms_key').policy, 'cloudwatch.amazonaws.com')).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: condition });
    expect(byService(single(json, 'aws_sns_topic_policy').policy, 'cloudwatch.amazonaws.com')).toMatchObject({ Action: 'sns:Publish', Condition: condition });
  });

  test('RDS events: the topic policy admits DB instances named <prefix>* of this account; the key statement carries no key RDS is not documented to send', () => {
    const json = synth((s) => new AlarmTopic(s, 't', BASE));
    expect(byService(single(json, 'aws_sns_topic_policy').policy, 'events.rds.amazonaws.com').Condition).toEqual({
      ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:rds:${REGION}:${ACCOUNT}:db:hits-test*` },
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
    });
    const keyStatement = byService(single(json, 'aws_kms_key').policy, 'events.rds.amazonaws.com');
    expect(keyStatement).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] });
    expect(keyStatement.Condition).toBeUndefined();
  });

  test('without an RDS prefix RDS may not publish; without CloudWatch alarms CloudWatch may not', () => {
    const alarmsOnly = synth((s) => new AlarmTopic(s, 't', { name: 'a' }));
    expect(byService(single(alarmsOnly, 'aws_sns_topic_policy').policy, 'events.rds.amazonaws.com')).toBeUndefined();
    expect(byService(single(alarmsOnly, 'aws_kms_key').policy, 'events.rds.amazonaws.com')).toBeUndefined();
    const rdsOnly = synth((s) => new AlarmTopic(s, 't', { name: 'a', cloudWatchAlarms: false, rdsEventSourcePrefix: 'db' }));
    expect(byService(single(rdsOnly, 'aws_sns_topic_policy').policy, 'cloudwatch.amazonaws.com')).toBeUndefined();
    expect(byService(single(rdsOnly, 'aws_kms_key').policy, 'cloudwatch.amazonaws.com')).toBeUndefined();
  });

  test('publishPermissions names the key and the topic policy, for whatever publishes on creation to depend on', () => {
    const json = synth((s) => {
      const topic = new AlarmTopic(s, 't', BASE);
      new SnsTopicSubscription(s, 'publisher', { topicArn: topic.topicArn, protocol: 'email', endpoint: 'x@example.com', dependsOn: [...topic.publishPermissions] });
    });
    const publisher = resources(json, 'aws_sns_topic_subscription').find(([n]) => n.startsWith('publisher'))![1];
    expect(publisher.depends_on).toEqual([`aws_kms_key.${resources(json, 'aws_kms_key')[0][0]}`, `aws_sns_topic_policy.${resources(json, 'aws_sns_topic_policy')[0][0]}`]);
  });

  test('an e-mail address subscribes', () => {
    const json = synth((s) => new AlarmTopic(s, 't', { ...BASE, email: 'ops@example.com' }));
    expect(single(json, 'aws_sns_topic_subscription')).toMatchObject({ protocol: 'email', endpoint: 'ops@example.com' });
  });
});

describe('MetricAlarm', () => {
  const BASE: MetricAlarmProps = { name: 'a', description: 'what it means', metrics: { errors }, comparison: 'GreaterThanThreshold', threshold: 1, treatMissingData: 'notBreaching' };
  test.each<[string, Partial<MetricAlarmProps>, RegExp]>([
    ['no metric', { metrics: {} }, /MetricAlarm: metrics/],
    ['an id CloudWatch refuses', { metrics: { Errors: errors } }, /MetricAlarm: metrics ids/],
    ['two metrics and no expression', { metrics: { errors, invocations } }, /MetricAlarm: expression is required/],
    ['metrics of different periods', { metrics: { errors, slow: { ...invocations, periodSeconds: 300 } }, expression: 'errors' }, /MetricAlarm: metrics must share one period/],
    ['more datapoints than periods', { evaluationPeriods: 2, datapointsToAlarm: 3 }, /MetricAlarm: datapointsToAlarm/],
    ['an infinite threshold', { threshold: Infinity }, /MetricAlarm: threshold/],
    ['no description', { description: '' }, /MetricAlarm: description/],
  ])('refuses %s', (_c, props, message) => expect(inStack((s) => new MetricAlarm(s, 'x', { ...BASE, ...props }))).toThrow(message));

  test('one metric: it returns the data; defaults 5 of 5 periods, actions on, ALARM and OK to the same topics', () => {
    const alarm = single(synth((s) => new MetricAlarm(s, 'x', { ...BASE, actionArns: ['arn:topic'] })), 'aws_cloudwatch_metric_alarm');
    expect(alarm).toMatchObject({ evaluation_periods: 5, datapoints_to_alarm: 5, actions_enabled: true, alarm_actions: ['arn:topic'], ok_actions: ['arn:topic'], treat_missing_data: 'notBreaching' });
    expect(alarm.metric_query).toEqual([{ id: 'errors', label: 'Errors', return_data: true, metric: { namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: { FunctionName: 'fn' }, stat: 'Sum', period: 60 } }]);
  });

  test('metric math: only the expression returns data', () => {
    const alarm = single(synth((s) => new MetricAlarm(s, 'x', { ...BASE, metrics: { errors, invocations }, expression: '100 * errors / invocations' })), 'aws_cloudwatch_metric_alarm');
    expect(alarm.metric_query.map((q: any) => [q.id, q.return_data])).toEqual([['errors', false], ['invocations', false], ['result', true]]);
    expect(alarm.metric_query[2].expression).toBe('100 * errors / invocations');
  });
});

describe('Dashboard', () => {
  const BASE: DashboardProps = { name: 'd', region: 'eu-west-1', rows: [{ title: 'Lambda', graphs: [{ title: 'errors', metrics: [errors] }] }] };
  test.each<[string, Partial<DashboardProps>, RegExp]>([
    ['no rows', { rows: [] }, /Dashboard: rows/],
    ['five graphs in a row', { rows: [{ title: 'r', graphs: Array.from({ length: 5 }, (_, i) => ({ title: `${i}`, metrics: [errors] })) }] }, /Dashboard: rows "r" must hold 1 to 4/],
    ['a graph without metrics', { rows: [{ title: 'r', graphs: [{ title: 'empty', metrics: [] }] }] }, /Dashboard: rows graph "empty"/],
    ['a name with spaces', { name: 'a b' }, /Dashboard: name/],
  ])('refuses %s', (_c, props, message) => expect(inStack((s) => new Dashboard(s, 'x', { ...BASE, ...props }))).toThrow(message));

  test('rows stack under headings on the 24-column grid; graphs share the row; metric lines carry dimensions and stat', () => {
    const body = dashboardBody('eu-west-1', [
      { title: 'A', graphs: [{ title: 'one', metrics: [errors] }, { title: 'two', metrics: [invocations], annotations: [{ label: 'limit', value: 3 }] }] },
      { title: 'B', graphs: [{ title: 'three', metrics: [errors, invocations] }] },
    ]);
    expect(body.widgets.map((w: any) => [w.type, w.x, w.y, w.width])).toEqual([
      ['text', 0, 0, 24],
      ['metric', 0, 1, 12],
      ['metric', 12, 1, 12],
      ['text', 0, 7, 24],
      ['metric', 0, 8, 24],
    ]);
    const two = body.widgets[2] as any;
    expect(two.properties.metrics).toEqual([['AWS/Lambda', 'Invocations', 'FunctionName', 'fn', { stat: 'Sum', period: 60, label: 'Invocations' }]]);
    expect(two.properties.annotations).toEqual({ horizontal: [{ label: 'limit', value: 3 }] });
    const json = synth((s) => new Dashboard(s, 'x', BASE));
    expect(JSON.parse(single(json, 'aws_cloudwatch_dashboard').dashboard_body)).toEqual(dashboardBody('eu-west-1', BASE.rows));
  });
});

describe('LambdaSchedule', () => {
  const BASE: LambdaScheduleProps = { name: 'hits-test-prune', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:prune', scheduleExpression: 'rate(15 minutes)' };
  test.each<[string, Partial<LambdaScheduleProps>, RegExp]>([
    ['a crontab line', { scheduleExpression: '*/15 * * * *' }, /LambdaSchedule: scheduleExpression/],
    ['no function', { functionArn: '' }, /LambdaSchedule: functionArn/],
    ['a 60-character name', { name: 'x'.repeat(60) }, /LambdaSchedule: name/],
    ['200 retries', { maximumRetryAttempts: 200 }, /LambdaSchedule: maximumRetryAttempts/],
  ])('refuses %s', (_c, props, message) => expect(inStack((s) => new LambdaSchedule(s, 'x', { ...BASE, ...props }))).toThrow(message));

  test('a role only the scheduler assumes, allowed to invoke only that function; no flexible window; 2 retries within an hour', () => {
    const json = synth((s) => new LambdaSchedule(s, 'x', BASE));
    const [roleName, role] = resources(json, 'aws_iam_role')[0];
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([expect.objectContaining({ Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' })]);
    expect(JSON.parse(single(json, 'aws_iam_role_policy').policy).Statement).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: BASE.functionArn })]);
    const schedule = single(json, 'aws_scheduler_schedule');
    expect(schedule).toMatchObject({
      schedule_expression: 'rate(15 minutes)',
      flexible_time_window: { mode: 'OFF' },
      target: { arn: BASE.functionArn, role_arn: `\${aws_iam_role.${roleName}.arn}`, retry_policy: { maximum_retry_attempts: 2, maximum_event_age_in_seconds: 3600 } },
    });
    expect(schedule.depends_on).toEqual([`aws_iam_role_policy.${resources(json, 'aws_iam_role_policy')[0][0]}`]);
  });
});

test("default max_connections follows RDS's formula {DBInstanceClassMemory/12582880} for every class with a known memory size", () => {
  for (const [cls, gib] of Object.entries(INSTANCE_MEMORY_GIB)) expect(defaultMaxConnections(cls)).toBe(Math.floor((gib * 1024 ** 3) / 12582880));
  expect(defaultMaxConnections('db.x9.huge')).toBeUndefined();
});
