/** IAM JSON documents, written literally so scanners and reviewers can read them in the synthesized JSON. */
import { Construct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { PropsError } from './validation';

/**
 * Who may make a service assume a role, against the cross-service confused-deputy problem
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html): the service acting for
 * `sourceAccount` only, and, where the service sets it, for the resource `sourceArn` only.
 *
 * Put only keys the service documents that it sets when it assumes the role: a condition on a key the
 * service leaves out never matches, and the role becomes unusable. Each caller says which page it followed.
 */
export interface TrustConditions {
  /** Account the service must act for (`aws:SourceAccount`, StringEquals). Required: every service role here is assumed for this account only. */
  readonly sourceAccount: string;
  /** Resource the service must act for (`aws:SourceArn`, ArnLike, so `*` may stand for a segment not known before creation). @default - no aws:SourceArn condition (the service does not set it) */
  readonly sourceArn?: string;
}

/**
 * Trust policy letting exactly one AWS service principal (e.g. `rds.amazonaws.com`) assume a role, for
 * `conditions.sourceAccount` (and `conditions.sourceArn` when given) only.
 */
export function assumeRolePolicy(servicePrincipal: string, conditions: TrustConditions): string {
  if (!/^[a-z0-9.-]+\.amazonaws\.com$/.test(servicePrincipal)) throw new PropsError('assumeRolePolicy', 'servicePrincipal', `must be a service principal such as "rds.amazonaws.com", got "${servicePrincipal}"`);
  if (typeof conditions?.sourceAccount !== 'string' || conditions.sourceAccount.trim() === '') throw new PropsError('assumeRolePolicy', 'conditions.sourceAccount', 'must be the account id (e.g. from aws_caller_identity)');
  const condition: Record<string, Record<string, string>> = { StringEquals: { 'aws:SourceAccount': conditions.sourceAccount } };
  if (conditions.sourceArn !== undefined) {
    if (!conditions.sourceArn.startsWith('arn:')) throw new PropsError('assumeRolePolicy', 'conditions.sourceArn', `must be an ARN pattern, got "${conditions.sourceArn}"`);
    condition.ArnLike = { 'aws:SourceArn': conditions.sourceArn };
  }
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: servicePrincipal }, Action: 'sts:AssumeRole', Condition: condition }],
  });
}

/** An IAM policy document of `statements`, as the JSON string IAM resources take. */
export function policyDocument(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const CALLER_IDENTITY_ID = 'caller-identity';

/**
 * The id of the account Terraform deploys into, from one `aws_caller_identity` data source per stack
 * (created on first use). Read at plan time, so no account id sits in code or configuration.
 */
export function accountId(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(CALLER_IDENTITY_ID);
  const identity = existing instanceof DataAwsCallerIdentity ? existing : new DataAwsCallerIdentity(stack, CALLER_IDENTITY_ID);
  return identity.accountId;
}
