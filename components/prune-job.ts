import type { Construct } from 'constructs';
import { LambdaSchedule } from '../modules/lambda-schedule';
import { NodeFunction } from '../modules/node-function';
import type { RdsProxy } from '../modules/rds-proxy';
import type { Vpc } from '../modules/vpc';
import { APP_METRICS_NAMESPACE } from '../contracts';
import { projectPath } from './project-path';

/** The prune function's entry: deletes hits older than the retention. */
export const PRUNE_ENTRY = projectPath('functions/prune/handler.ts');
/** Every 15 minutes: at the API's full throttle a run removes ~450,000 rows, well within one run's budget. */
export const PRUNE_SCHEDULE = 'rate(15 minutes)';
/** Runs of the prune a schedule period holds, for metrics and alarms: one per 15 minutes. */
export const PRUNE_PERIOD_SECONDS = 900;

export interface PruneJobProps {
  /** `<project>-<environment>`: the function and its schedule are `<prefix>-prune`. Required. */
  readonly namePrefix: string;
  /** The function runs in its private subnets with its app security group. Required. */
  readonly vpc: Vpc;
  /** The DB_* contract of the application user (`HitsService.databaseEnvironment`). Required. */
  readonly databaseEnvironment: Readonly<Record<string, string>>;
  /** The proxy the function connects through; it is granted `rds-db:connect` as `username` there. Required. */
  readonly proxy: RdsProxy;
  /** The application user, whose grants (migration 3) include DELETE on hits for the prune. Required. */
  readonly username: string;
  /** Hits older than this many days are deleted. Required. */
  readonly retentionDays: number;
  /** Reserved concurrency. @default - none (set 1 where the environment reserves concurrency, so runs never overlap) */
  readonly reservedConcurrency?: number;
  /** @default 14 */
  readonly logRetentionDays?: number;
  /** Function timeout; the handler stops taking batches before it. @default 60 */
  readonly timeoutSeconds?: number;
}

/**
 * Bounds the hits table: a small function that deletes expired hits in short batches, invoked by
 * EventBridge Scheduler every 15 minutes, created after its grant.
 *
 * Not a Construct of its own, for the reason `HitsService` gives: its children keep the ids (`prune`,
 * `prune-schedule`) and so the Terraform addresses they had in the ops stack.
 */
export class PruneJob {
  readonly function: NodeFunction;
  readonly schedule: LambdaSchedule;
  readonly retentionDays: number;

  constructor(scope: Construct, props: PruneJobProps) {
    this.retentionDays = props.retentionDays;
    this.function = new NodeFunction(scope, 'prune', {
      functionName: `${props.namePrefix}-prune`,
      entry: PRUNE_ENTRY,
      subnetIds: props.vpc.privateSubnetIds,
      securityGroupIds: [props.vpc.appSecurityGroupId],
      environment: { ...props.databaseEnvironment, HITS_RETENTION_DAYS: String(props.retentionDays) },
      memoryMb: 256,
      timeoutSeconds: props.timeoutSeconds ?? 60,
      reservedConcurrency: props.reservedConcurrency,
      logRetentionDays: props.logRetentionDays ?? 14,
      metricsNamespace: APP_METRICS_NAMESPACE,
    });
    this.function.addDependency(props.proxy.grantConnect(this.function.role, props.username));
    this.schedule = new LambdaSchedule(scope, 'prune-schedule', {
      name: `${props.namePrefix}-prune`,
      functionArn: this.function.functionArn,
      scheduleExpression: PRUNE_SCHEDULE,
      description: `Deletes hits older than ${props.retentionDays} days`,
    });
  }
}
