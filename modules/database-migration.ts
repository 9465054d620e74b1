import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { MysqlDatabase } from './mysql-database';
import { NodeFunction } from './node-function';
import { PropsError, requireIntIn, requireLogRetention, requireNonEmpty } from './validation';

export interface DatabaseMigrationProps {
  /** Name of the migration function (its log group `/aws/lambda/<name>`, role `<name>-lambda`, security group `<name>-…`). Required. */
  readonly functionName: string;
  /** TypeScript entry of the migration function: absolute, or relative to the working directory (see NodeFunctionProps.entry). Required. */
  readonly entry: string;
  /**
   * The database the migrations run against, straight to the instance (not through a proxy): the function
   * gets a security group of its own whose one path is to the database's port, may read the database's
   * RDS-managed master secret, and is invoked once the instance, that grant and those rules exist. Required.
   */
  readonly database: MysqlDatabase;
  /** VPC of the function's security group (the database's). Required. */
  readonly vpcId: string;
  /** Private subnets the function runs in (it reaches the database through them). Required. */
  readonly subnetIds: readonly string[];
  /** The function's environment (where and as whom to connect). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Timeout in seconds (60 to 900). The function retries connection and login errors for as long as its
   * invocation has left (a new instance, a grant still propagating), so this is also its retry window. @default 900
   */
  readonly timeoutSeconds?: number;
  /** Memory in MB. @default 256 */
  readonly memoryMb?: number;
  /** Retention in days of the function's log group. @default 14 */
  readonly logRetentionDays?: number;
}

const MODULE = 'DatabaseMigration';

/**
 * Database migrations run by Terraform at deploy time: a Lambda function (no API route, no invoke
 * permission for anyone but the deployer) that connects straight to the database instance as its master
 * user, and an `aws_lambda_invocation` of it, re-run when the function's bundle or its environment changes.
 *
 * The triggers are what Lambda runs: the sha256 of the bundle it receives (the migrations, their runner and
 * everything esbuild bundled with them: shared code, contracts, packages) and a sha256 of the function's
 * environment, which Terraform computes over the values (where to connect, as whom, the tenants). So any
 * change that reaches the deployed function re-runs it, and nothing else does (a comment, which
 * minification drops, or a file it does not import). The bundle carries no machine path, so the trigger is the same on every machine. A failed migration fails the invocation and so the apply; the function's answer (the applied
 * versions) is `result`.
 */
export class DatabaseMigration extends Construct {
  readonly function: NodeFunction;
  /** The function's own security group: egress to the database's port, nothing else. */
  readonly securityGroupId: string;
  /** The migration function's JSON answer of the last run (e.g. `{"applied":[],"versions":[1,2,3],…}`). */
  readonly result: string;

  constructor(scope: Construct, id: string, props: DatabaseMigrationProps) {
    super(scope, id);
    const timeout = props.timeoutSeconds ?? 900;
    requireNonEmpty(MODULE, 'functionName', props.functionName);
    requireNonEmpty(MODULE, 'entry', props.entry);
    requireNonEmpty(MODULE, 'vpcId', props.vpcId);
    requireIntIn(MODULE, 'timeoutSeconds', timeout, 60, 900);
    requireLogRetention(MODULE, 'logRetentionDays', props.logRetentionDays ?? 14);
    if (!(props.database instanceof MysqlDatabase)) throw new PropsError(MODULE, 'database', 'must be a MysqlDatabase');
    const { database } = props;

    // A group of its own: the database, and HTTPS for the master secret. Not the app group, which also reaches the cache.
    const securityGroup = new SecurityGroup(this, 'security-group', {
      namePrefix: `${props.functionName}-`,
      description: `Deploy-time migration function ${props.functionName}: to its database on ${database.port}, HTTPS to AWS APIs`,
      vpcId: props.vpcId,
      tags: { Name: props.functionName },
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    const toDatabase = database.allowConnectionsFrom(securityGroup.id, 'migration', 'The deploy-time migration function');
    // GetSecretValue goes to Secrets Manager's regional endpoint, which is outside the VPC: without this rule
    // (Terraform removes a new group's default allow-all egress) the secret read times out and the deploy fails.
    const toAwsApis = new VpcSecurityGroupEgressRule(this, 'egress-https', {
      securityGroupId: securityGroup.id,
      description: 'HTTPS to Secrets Manager (the master secret) through the NAT gateway of its AZ',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });

    this.function = new NodeFunction(this, 'function', {
      functionName: props.functionName,
      entry: props.entry,
      subnetIds: props.subnetIds,
      securityGroupIds: [securityGroup.id],
      environment: props.environment,
      memoryMb: props.memoryMb ?? 256,
      timeoutSeconds: timeout,
      logRetentionDays: props.logRetentionDays ?? 14,
    });
    // The function, like the hits function, exists only once its grant does; the invocation waits for both.
    const readSecret = database.grantMasterSecretRead(this.function);
    this.function.addDependency(readSecret);

    // "A failed invocation fails the apply", and `triggers` re-invoke on change (aws_lambda_invocation,
    // AWS provider 6.25). CREATE_ONLY (the default lifecycle scope): destroying the stack does not call it.
    const invocation = new LambdaInvocation(this, 'invocation', {
      functionName: this.function.functionName,
      input: JSON.stringify({ reason: 'deploy' }),
      // What the function runs: its bundle, and its environment, hashed by Terraform at plan time over the values
      // (a replaced instance's new address, a replaced secret's ARN, a new tenant count all re-run it).
      triggers: { migrations: this.function.bundleSha256, environment: Fn.sha256(Fn.jsonencode(props.environment ?? {})) },
      dependsOn: [database.instance, readSecret, toDatabase.ingress, toDatabase.egress, toAwsApis],
    });
    this.result = invocation.result;
  }
}
