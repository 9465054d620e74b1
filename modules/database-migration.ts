import { Construct } from 'constructs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ITerraformDependable } from 'cdktf';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { NodeFunction } from './node-function';
import { PropsError, requireIntIn, requireLogRetention, requireNonEmpty, requireNonEmptyList } from './validation';

export interface DatabaseMigrationProps {
  /** Name of the migration function (its log group `/aws/lambda/<name>`, role `<name>-lambda`). Required. */
  readonly functionName: string;
  /** TypeScript entry of the migration function relative to the project root (e.g. `functions/migrate/handler.ts`). Required. */
  readonly entry: string;
  /**
   * Files, relative to the project root, whose content decides when the migrations run again (the
   * migrations and their runner): their sha256 is the invocation's trigger. Required, at least one.
   */
  readonly migrationSources: readonly string[];
  /** Private subnets the function runs in (it reaches the database through them). Required. */
  readonly subnetIds: readonly string[];
  /** Security groups of the function (one that may reach the database or its proxy). Required. */
  readonly securityGroupIds: readonly string[];
  /** The function's environment (where and as whom to connect). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Resources that must exist before the migrations run (e.g. the proxy target). @default [] */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Grants the function needs to run, made once it exists (e.g. `rds-db:connect`, which names its role);
   * returns them so the invocation waits for them. @default - none
   */
  readonly grant?: (migrationFunction: NodeFunction) => readonly ITerraformDependable[];
  /** More values whose change re-runs the migrations (e.g. the application user's name). @default {} */
  readonly rerunWhen?: Readonly<Record<string, string>>;
  /** Timeout in seconds (60 to 900): the first deploy waits for a new proxy's target to become available. @default 300 */
  readonly timeoutSeconds?: number;
  /** Memory in MB. @default 256 */
  readonly memoryMb?: number;
  /** Retention in days of the function's log group. @default 14 */
  readonly logRetentionDays?: number;
}

const MODULE = 'DatabaseMigration';
const PROJECT_ROOT = path.resolve(__dirname, '..');

/** sha256 (hex) over the names and contents (LF line endings) of `files` (relative to the project root), in the order given. */
export function migrationSourcesHash(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    const absolute = path.resolve(PROJECT_ROOT, file);
    if (!fs.existsSync(absolute)) throw new PropsError(MODULE, 'migrationSources', `must name existing files relative to the project root, got "${file}"`);
    // Line endings normalised: a Windows checkout (CRLF) must not re-run the migrations or change the plan.
    hash.update(`${file}\0`).update(fs.readFileSync(absolute, 'utf8').replace(/\r\n/g, '\n')).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Database migrations run by Terraform at deploy time: a Lambda function (no API route, no invoke
 * permission for anyone but the deployer) and an `aws_lambda_invocation` of it, re-run when the migration
 * sources' hash (or `rerunWhen`) changes. A failed migration fails the invocation and so the apply; the
 * function's answer (the applied versions) is `result`.
 */
export class DatabaseMigration extends Construct {
  readonly function: NodeFunction;
  /** The migration function's JSON answer of the last run (e.g. `{"applied":[],"versions":[1,2,3],…}`). */
  readonly result: string;
  /** sha256 of the migration sources at synth. */
  readonly sourcesSha256: string;

  constructor(scope: Construct, id: string, props: DatabaseMigrationProps) {
    super(scope, id);
    const timeout = props.timeoutSeconds ?? 300;
    requireNonEmpty(MODULE, 'functionName', props.functionName);
    requireNonEmpty(MODULE, 'entry', props.entry);
    requireNonEmptyList(MODULE, 'migrationSources', props.migrationSources);
    requireIntIn(MODULE, 'timeoutSeconds', timeout, 60, 900);
    requireLogRetention(MODULE, 'logRetentionDays', props.logRetentionDays ?? 14);
    for (const key of Object.keys(props.rerunWhen ?? {})) {
      if (key === 'migrations' || !/^[a-z][a-z0-9_]*$/.test(key)) throw new PropsError(MODULE, 'rerunWhen', `keys must be snake_case and not "migrations" (the sources' hash), got "${key}"`);
    }
    this.sourcesSha256 = migrationSourcesHash(props.migrationSources);

    this.function = new NodeFunction(this, 'function', {
      functionName: props.functionName,
      entry: props.entry,
      subnetIds: props.subnetIds,
      securityGroupIds: props.securityGroupIds,
      environment: props.environment,
      memoryMb: props.memoryMb ?? 256,
      timeoutSeconds: timeout,
      logRetentionDays: props.logRetentionDays ?? 14,
    });

    // The function, like the hits function, exists only once its grants do; the invocation waits for both.
    const grants = props.grant?.(this.function) ?? [];
    for (const grant of grants) this.function.addDependency(grant);

    // "A failed invocation fails the apply", and `triggers` re-invoke on change (aws_lambda_invocation,
    // AWS provider 6.25). CREATE_ONLY (the default lifecycle scope): destroying the stack does not call it.
    const invocation = new LambdaInvocation(this, 'invocation', {
      functionName: this.function.functionName,
      input: JSON.stringify({ reason: 'deploy' }),
      triggers: { migrations: this.sourcesSha256, ...props.rerunWhen },
      dependsOn: [...(props.dependsOn ?? []), ...grants],
    });
    this.result = invocation.result;
  }
}
