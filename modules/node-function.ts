import { Construct } from 'constructs';
import * as fs from 'fs';
import * as path from 'path';
import { AssetType, dependable, Fn, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { bundleFunction, LAMBDA_RUNTIME } from './bundle';
import { accountId, assumeRolePolicy, awsManagedPolicyArn, GrantPolicy } from './iam';
import { metric, type Metric, type MetricOptions } from './metric';
import { LAMBDA } from '../aws/limits';
import { PropsError, requireIntIn, requireIntInRange, requireLogRetention, requireNonEmpty, requireNonEmptyList } from './validation';

export interface NodeFunctionProps {
  /** Function name, also its log group `/aws/lambda/<name>` and role `<name>-lambda`. Required. */
  readonly functionName: string;
  /**
   * TypeScript entry exporting `handler`: an absolute path, or one relative to the working directory (cdktf
   * and npm scripts run from the project root). Bundled by esbuild at synth from its package (the nearest
   * folder with a `package.json`). Required.
   */
  readonly entry: string;
  /** Private subnets the function's network interfaces live in. Required. */
  readonly subnetIds: readonly string[];
  /** Security groups of the function's network interfaces. Required. */
  readonly securityGroupIds: readonly string[];
  /** Environment variables. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Runtime; the bundle targets the same Node.js major (modules/bundle.ts). @default 'nodejs24.x' */
  readonly runtime?: typeof LAMBDA_RUNTIME;
  /** Instruction set. @default 'arm64' */
  readonly architecture?: 'arm64' | 'x86_64';
  /** Memory in MB (128 to 10240). @default 512 */
  readonly memoryMb?: number;
  /** Timeout in seconds (1 to 900). @default 10 */
  readonly timeoutSeconds?: number;
  /** Reserved concurrency: a ceiling on concurrent executions (and so on database connections). @default - unreserved */
  readonly reservedConcurrency?: number;
  /** Retention in days of the function's log group, which this module owns. @default 14 */
  readonly logRetentionDays?: number;
  /** X-Ray tracing mode. @default 'Active' */
  readonly tracingMode?: 'Active' | 'PassThrough';
  /**
   * CloudWatch namespace of the metrics the function writes as Embedded Metric Format: set as
   * `POWERTOOLS_METRICS_NAMESPACE`, with `POWERTOOLS_SERVICE_NAME` = the function name (the `service`
   * dimension), and read by `metricApp()`. @default - none: the function's own metrics are not described
   */
  readonly metricsNamespace?: string;
}

const MODULE = 'NodeFunction';

/**
 * A Node.js Lambda function in a VPC, bundled from TypeScript by esbuild at synth into a deterministic
 * archive, with its own log group (retention set by us, not left to Lambda), X-Ray tracing and a role
 * holding only the AWS-managed VPC-access policy and X-Ray write; grant more with the `grant…` helpers.
 */
export class NodeFunction extends Construct {
  readonly functionName: string;
  readonly functionArn: string;
  /** ARN API Gateway invokes. */
  readonly invokeArn: string;
  readonly role: IamRole;
  readonly logGroupName: string;
  /** sha256 of the bundle, hex; changes exactly when the bundled code does. */
  readonly bundleSha256: string;
  readonly timeoutSeconds: number;
  /** Absent when unreserved. */
  readonly reservedConcurrency?: number;
  /** Namespace of the function's EMF metrics, when it has any. */
  readonly metricsNamespace?: string;
  private readonly fn: LambdaFunction;
  private readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    const memory = props.memoryMb ?? 512;
    const timeout = props.timeoutSeconds ?? 10;
    const retention = props.logRetentionDays ?? 14;
    requireNonEmpty(MODULE, 'functionName', props.functionName);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(props.functionName)) throw new PropsError(MODULE, 'functionName', `must be 1-64 letters, digits, dashes or underscores, got "${props.functionName}"`);
    requireNonEmpty(MODULE, 'entry', props.entry);
    const entry = path.resolve(props.entry);
    if (!fs.existsSync(entry)) throw new PropsError(MODULE, 'entry', `must name an existing file (absolute, or relative to the working directory), got "${props.entry}"`);
    requireNonEmptyList(MODULE, 'subnetIds', props.subnetIds);
    requireNonEmptyList(MODULE, 'securityGroupIds', props.securityGroupIds);
    requireIntInRange(MODULE, 'memoryMb', memory, LAMBDA.memoryMb);
    requireIntInRange(MODULE, 'timeoutSeconds', timeout, LAMBDA.timeoutSeconds);
    if (props.reservedConcurrency !== undefined) requireIntIn(MODULE, 'reservedConcurrency', props.reservedConcurrency, 1, 10000);
    requireLogRetention(MODULE, 'logRetentionDays', retention);
    if (props.metricsNamespace !== undefined && !/^[A-Za-z0-9._/#:-]{1,255}$/.test(props.metricsNamespace)) {
      throw new PropsError(MODULE, 'metricsNamespace', `must be 1-255 letters, digits or . _ / # : - (a CloudWatch namespace), got "${props.metricsNamespace}"`);
    }
    if (props.metricsNamespace?.startsWith('AWS/')) throw new PropsError(MODULE, 'metricsNamespace', `must not start with "AWS/" (reserved for AWS services), got "${props.metricsNamespace}"`);

    const name = props.functionName;
    const bundle = bundleFunction(entry);
    // A file asset of the zip bundleFunction built in-process: cdktf copies it, with no archiver child process per stack.
    const asset = new TerraformAsset(this, 'code', { path: bundle.archivePath, type: AssetType.FILE });
    this.bundleSha256 = bundle.sha256;

    const logGroup = new CloudwatchLogGroup(this, 'log-group', { name: `/aws/lambda/${name}`, retentionInDays: retention });

    this.role = new IamRole(this, 'role', {
      name: `${name}-lambda`,
      description: `Execution role of the ${name} function`,
      // aws:SourceAccount only. Lambda's guide says aws:SourceArn "applies only to policies where your
      // Lambda function is the target resource", i.e. invoke permissions, not the execution role it
      // assumes (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html), so a
      // SourceArn condition here could never match.
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com', { sourceAccount: accountId(this) }),
    });
    const vpcAccess = new IamRolePolicyAttachment(this, 'vpc-access', {
      role: this.role.name,
      policyArn: awsManagedPolicyArn(this, 'service-role/AWSLambdaVPCAccessExecutionRole'),
    });
    const xray = new IamRolePolicyAttachment(this, 'xray-write', { role: this.role.name, policyArn: awsManagedPolicyArn(this, 'AWSXRayDaemonWriteAccess') });

    const environment: Record<string, string> = { ...props.environment };
    this.environment = environment;
    if (props.metricsNamespace) {
      environment.POWERTOOLS_METRICS_NAMESPACE = props.metricsNamespace;
      environment.POWERTOOLS_SERVICE_NAME = name;
    }
    const fn = new LambdaFunction(this, 'function', {
      functionName: name,
      role: this.role.arn,
      runtime: props.runtime ?? LAMBDA_RUNTIME,
      architectures: [props.architecture ?? 'arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: Fn.filebase64sha256(asset.path),
      memorySize: memory,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpcConfig: { subnetIds: [...props.subnetIds], securityGroupIds: [...props.securityGroupIds] },
      tracingConfig: { mode: props.tracingMode ?? 'Active' },
      loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      environment: Object.keys(environment).length > 0 ? { variables: environment } : undefined,
      // The role needs its ENI permissions before Lambda creates interfaces in the VPC.
      dependsOn: [logGroup, vpcAccess, xray],
    });
    this.functionName = fn.functionName;
    this.functionArn = fn.arn;
    this.invokeArn = fn.invokeArn;
    this.logGroupName = logGroup.name;
    this.timeoutSeconds = timeout;
    this.reservedConcurrency = props.reservedConcurrency;
    this.metricsNamespace = props.metricsNamespace;
    this.fn = fn;
  }

  /**
   * Adds environment variables after construction, for values that exist only once the function does
   * (e.g. the ARN of a role that trusts this function's role). A variable already set is refused, so no
   * caller silently overrides another's.
   */
  addEnvironment(variables: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(variables)) {
      if (key in this.environment) throw new PropsError(MODULE, `addEnvironment(${key})`, 'is already set');
      this.environment[key] = value;
    }
    this.fn.putEnvironment({ variables: { ...this.environment } });
  }

  /**
   * Creates the function only after `dependency` exists, e.g. the policy granting what its first request
   * needs (IAM is eventually consistent, but a grant that does not exist yet is certain to fail).
   */
  addDependency(dependency: ITerraformDependable): void {
    this.fn.dependsOn = [...(this.fn.dependsOn ?? []), dependable(dependency)];
  }

  /** A metric of this function in `AWS/Lambda` (dimension `FunctionName`). */
  metric(metricName: 'Invocations' | 'Errors' | 'Throttles' | 'Duration' | 'ConcurrentExecutions', statistic: Metric['statistic'], options: MetricOptions = {}): Metric {
    return metric('AWS/Lambda', metricName, { FunctionName: this.functionName }, { statistic }, options);
  }

  /** @default Sum per minute */
  metricInvocations(options?: MetricOptions): Metric {
    return this.metric('Invocations', 'Sum', options);
  }

  /** Invocations that ended in an error (uncaught exception, timeout, out of memory). @default Sum per minute */
  metricErrors(options?: MetricOptions): Metric {
    return this.metric('Errors', 'Sum', options);
  }

  /** Invocations refused for lack of concurrency. @default Sum per minute */
  metricThrottles(options?: MetricOptions): Metric {
    return this.metric('Throttles', 'Sum', options);
  }

  /** Run time in ms. @default p99 per minute */
  metricDuration(options?: MetricOptions): Metric {
    return this.metric('Duration', 'p99', options);
  }

  /** Environments running at once. @default Maximum per minute */
  metricConcurrentExecutions(options?: MetricOptions): Metric {
    return this.metric('ConcurrentExecutions', 'Maximum', options);
  }

  /**
   * A metric the function writes itself (EMF), under `[service]` or, with `breakdown`, under
   * `[service, …breakdown keys]` (e.g. `{ route: 'list', statusClass: '2xx' }`).
   */
  metricApp(metricName: string, statistic: Metric['statistic'], options: MetricOptions = {}, breakdown: Record<string, string> = {}): Metric {
    if (!this.metricsNamespace) throw new PropsError(MODULE, 'metricsNamespace', `must be set to describe the function's own metric ${metricName}`);
    return metric(this.metricsNamespace, metricName, { service: this.functionName, ...breakdown }, { statistic }, options);
  }

  /** Lets the function read one secret's value (e.g. for `DB_AUTH=secret`); nothing else in Secrets Manager. Grants merge into one `read-secret` policy. */
  grantSecretRead(secretArn: string): GrantPolicy {
    requireNonEmpty(MODULE, 'grantSecretRead(secretArn)', secretArn);
    return GrantPolicy.of(this, 'read-secret', 'read-database-secret').add({ Sid: 'ReadSecret', Action: 'secretsmanager:GetSecretValue', Resource: secretArn });
  }
}
