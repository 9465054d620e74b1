import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { accountId, assumeRolePolicy, policyDocument } from './iam';
import { PropsError, requireIntIn, requireNonEmpty } from './validation';

export interface LambdaScheduleProps {
  /** Schedule name, also its role `<name>-scheduler`. Required. */
  readonly name: string;
  /** ARN of the function invoked. Required. */
  readonly functionArn: string;
  /** `rate(…)` or `cron(…)` (EventBridge Scheduler syntax). Required. */
  readonly scheduleExpression: string;
  /** Shown in the console. @default '' */
  readonly description?: string;
  /** Retries of a failed invocation (0 to 185). @default 2 */
  readonly maximumRetryAttempts?: number;
  /** Seconds after which a missed invocation is dropped rather than retried (60 to 86400). @default 3600 */
  readonly maximumEventAgeSeconds?: number;
}

const MODULE = 'LambdaSchedule';

/**
 * Invokes a function on a schedule with EventBridge Scheduler, through a role that may invoke only that
 * function and that only the scheduler service may assume.
 */
export class LambdaSchedule extends Construct {
  readonly scheduleArn: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: LambdaScheduleProps) {
    super(scope, id);
    const retries = props.maximumRetryAttempts ?? 2;
    const maxAge = props.maximumEventAgeSeconds ?? 3600;
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[0-9a-zA-Z._-]{1,55}$/.test(props.name)) throw new PropsError(MODULE, 'name', `must be 1-55 letters, digits, dots, dashes or underscores (the role adds "-scheduler"), got "${props.name}"`);
    requireNonEmpty(MODULE, 'functionArn', props.functionArn);
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)|at\(.+\))$/.test(props.scheduleExpression)) {
      throw new PropsError(MODULE, 'scheduleExpression', `must be rate(…), cron(…) or at(…), got "${props.scheduleExpression}"`);
    }
    requireIntIn(MODULE, 'maximumRetryAttempts', retries, 0, 185);
    requireIntIn(MODULE, 'maximumEventAgeSeconds', maxAge, 60, 86400);

    const role = new IamRole(this, 'role', {
      name: `${props.name}-scheduler`,
      description: `EventBridge Scheduler invoking ${props.name}`,
      // EventBridge Scheduler passes the schedule group's ARN (our schedules use the `default` group) and
      // the account: https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
      assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com', { sourceAccount: accountId(this), sourceArn: `arn:*:scheduler:*:${accountId(this)}:schedule-group/default` }),
    });
    const invoke = new IamRolePolicy(this, 'invoke', {
      name: 'invoke-function',
      role: role.id,
      policy: policyDocument([{ Sid: 'InvokeTheScheduledFunction', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: props.functionArn }]),
    });
    const schedule = new SchedulerSchedule(this, 'schedule', {
      name: props.name,
      description: props.description,
      scheduleExpression: props.scheduleExpression,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: props.functionArn,
        roleArn: role.arn,
        retryPolicy: { maximumRetryAttempts: retries, maximumEventAgeInSeconds: maxAge },
      },
      // The scheduler checks nothing at create time, but the first run fails without the permission.
      dependsOn: [invoke],
    });
    this.scheduleArn = schedule.arn;
    this.roleArn = role.arn;
  }
}
