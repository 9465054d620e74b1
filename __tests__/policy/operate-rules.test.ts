/**
 * The operating rules (alarms, topic encryption, managed log groups) can fail: each mutation breaks one
 * property of a passing environment's JSON and the rule must then report it. The environment is the first
 * profile whose alarms are enabled, found from the profiles' own settings.
 */
import { PROFILES } from '../../config';
import { type StackJson, type SynthesizedEnvironment, synthEnvironments } from '../support/synth';
import { RULES, type StackKind } from './rules';

const env = synthEnvironments().find((e) => e.profile.alarms.enabled);
const first = (json: StackJson, type: string) => Object.values(json.resource![type])[0] as any;
const named = (json: StackJson, type: string, pick: (body: any) => boolean) => Object.values(json.resource![type]).find(pick) as any;

const mutations: Array<[rule: string, kind: StackKind, mutate: (json: StackJson) => void]> = [
  ['alarms: every alarm notifies the alarm topic (actions enabled)', 'ops', (j) => (first(j, 'aws_cloudwatch_metric_alarm').actions_enabled = false)],
  ['alarms: every alarm notifies the alarm topic (actions enabled)', 'ops', (j) => (first(j, 'aws_cloudwatch_metric_alarm').alarm_actions = [])],
  ['alarms: every alarm notifies the alarm topic (actions enabled)', 'ops', (j) => (first(j, 'aws_cloudwatch_metric_alarm').alarm_actions = ['arn:aws:sns:eu-west-1:123456789012:elsewhere'])],
  ['sns: every topic encrypted with a customer-managed KMS key that CloudWatch may use', 'ops', (j) => (first(j, 'aws_sns_topic').kms_master_key_id = 'alias/aws/sns')],
  ['sns: every topic encrypted with a customer-managed KMS key that CloudWatch may use', 'ops', (j) => delete first(j, 'aws_sns_topic').kms_master_key_id],
  ['sns: every topic encrypted with a customer-managed KMS key that CloudWatch may use', 'ops', (j) => {
    const key = first(j, 'aws_kms_key');
    const doc = JSON.parse(key.policy);
    doc.Statement = doc.Statement.filter((s: any) => !s.Principal?.Service);
    key.policy = JSON.stringify(doc);
  }],
  ['logs: whatever writes logs has its log group, with retention, created first', 'data', (j) => {
    const db = first(j, 'aws_db_instance');
    db.enabled_cloudwatch_logs_exports = [...db.enabled_cloudwatch_logs_exports, 'general'];
  }],
  ['logs: whatever writes logs has its log group, with retention, created first', 'data', (j) => (first(j, 'aws_db_instance').depends_on = [])],
  ['logs: whatever writes logs has its log group, with retention, created first', 'data', (j) => (named(j, 'aws_cloudwatch_log_group', (g) => g.name.startsWith('/aws/rds/proxy/')).name = '/aws/rds/proxy/other')],
  ['logs: whatever writes logs has its log group, with retention, created first', 'data', (j) => delete named(j, 'aws_cloudwatch_log_group', (g) => g.name.endsWith('/slowquery')).retention_in_days],
  ['logs: whatever writes logs has its log group, with retention, created first', 'ops', (j) => (first(j, 'aws_lambda_function').depends_on = [])],
  ['logs: whatever writes logs has its log group, with retention, created first', 'api', (j) => (first(j, 'aws_lambda_function').function_name = 'renamed')],
  // proxy-pool-usage as it was: Sum(DatabaseConnections) / Maximum(MaxDatabaseConnectionsAllowed).
  ['alarms: ratio alarms use matching statistics', 'ops', (j) => {
    const pool = named(j, 'aws_cloudwatch_metric_alarm', (a) => a.alarm_name.endsWith('-proxy-pool-usage'));
    pool.metric_query.find((q: any) => q.id === 'allowed').metric.stat = 'Maximum';
  }],
  ['alarms: ratio alarms use matching statistics', 'ops', (j) => {
    const errors = named(j, 'aws_cloudwatch_metric_alarm', (a) => a.alarm_name.endsWith('-lambda-error-rate'));
    errors.metric_query.find((q: any) => q.id === 'errors').metric.stat = 'Average';
  }],
  ['events: event subscription ordered after topic and key policies', 'ops', (j) => delete first(j, 'aws_db_event_subscription').depends_on],
  ['events: event subscription ordered after topic and key policies', 'ops', (j) => {
    const sub = first(j, 'aws_db_event_subscription');
    sub.depends_on = sub.depends_on.filter((d: string) => !d.startsWith('aws_sns_topic_policy.'));
  }],
  ['events: event subscription ordered after topic and key policies', 'ops', (j) => {
    const sub = first(j, 'aws_db_event_subscription');
    sub.depends_on = sub.depends_on.filter((d: string) => !d.startsWith('aws_kms_key.'));
  }],
];

test('some profile enables alarms (the mutations start from it)', () => {
  expect(PROFILES.some((p) => p.alarms.enabled)).toBe(true);
  expect(env).toBeDefined();
});

test.each(mutations.map(([rule, kind, mutate], i) => [`${rule} [${kind}] #${i + 1}`, rule, kind, mutate] as const))('%s', (_t, ruleName, kind, mutate) => {
  const base = env as SynthesizedEnvironment;
  const rule = RULES.find((r) => r.name === ruleName)!;
  expect(rule.kinds).toContain(kind);
  const context = (e: SynthesizedEnvironment) => ({ env: e, kind, json: e[kind], id: e.stacks[kind].node.id });
  expect(rule.check(context(base))).toEqual([]);
  const mutated: SynthesizedEnvironment = { ...base, [kind]: structuredClone(base[kind]) };
  mutate(mutated[kind]);
  expect(rule.check(context(mutated)).length).toBeGreaterThan(0);
});
