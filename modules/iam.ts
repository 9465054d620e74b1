/** IAM JSON documents, written literally so scanners and reviewers can read them in the synthesized JSON. */
import { Construct } from 'constructs';
import { Lazy, TerraformStack } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { PropsError } from './validation';

/**
 * Who may make a service assume a role, against the cross-service confused-deputy problem
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html): the service acting for
 * `sourceAccount` only, and, where the service sets it, for the resource `sourceArn` only.
 *
 * Put only keys the service documents that it sets when it assumes the role: a condition on a key the
 * service leaves out never matches, and the role becomes unusable. Each caller says which page it followed;
 * a service that documents no key (RDS Proxy) gets none.
 */
export interface TrustConditions {
  /** Account the service must act for (`aws:SourceAccount`, StringEquals). @default - no aws:SourceAccount condition (the service does not document it) */
  readonly sourceAccount?: string;
  /** Resource the service must act for (`aws:SourceArn`, ArnLike, so `*` may stand for a segment not known before creation). @default - no aws:SourceArn condition (the service does not set it) */
  readonly sourceArn?: string;
}

/**
 * Trust policy letting exactly one AWS service principal (e.g. `rds.amazonaws.com`) assume a role, under
 * the confused-deputy `conditions` that service documents (none when it documents none).
 */
export function assumeRolePolicy(servicePrincipal: string, conditions: TrustConditions = {}): string {
  if (!/^[a-z0-9.-]+\.amazonaws\.com$/.test(servicePrincipal)) throw new PropsError('assumeRolePolicy', 'servicePrincipal', `must be a service principal such as "rds.amazonaws.com", got "${servicePrincipal}"`);
  const condition: Record<string, Record<string, string>> = {};
  if (conditions.sourceAccount !== undefined) {
    if (typeof conditions.sourceAccount !== 'string' || conditions.sourceAccount.trim() === '') throw new PropsError('assumeRolePolicy', 'conditions.sourceAccount', 'must be the account id (e.g. from aws_caller_identity) when given');
    condition.StringEquals = { 'aws:SourceAccount': conditions.sourceAccount };
  }
  if (conditions.sourceArn !== undefined) {
    if (!conditions.sourceArn.startsWith('arn:')) throw new PropsError('assumeRolePolicy', 'conditions.sourceArn', `must be an ARN pattern, got "${conditions.sourceArn}"`);
    condition.ArnLike = { 'aws:SourceArn': conditions.sourceArn };
  }
  const statement = { Effect: 'Allow', Principal: { Service: servicePrincipal }, Action: 'sts:AssumeRole', ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}) };
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

/** An IAM policy document of `statements`, as the JSON string IAM resources take. */
export function policyDocument(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * The id of the account Terraform deploys into, from one `aws_caller_identity` data source per stack
 * (created on first use). Read at plan time, so no account id sits in code or configuration.
 */
export function accountId(scope: Construct): string {
  return perStack(scope, 'caller-identity', DataAwsCallerIdentity).accountId;
}

/** The stack's one data source of `type` named `id`, created on first use. */
function perStack<T>(scope: Construct, id: string, type: new (scope: Construct, id: string) => T): T {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(id);
  return existing instanceof type ? existing : new type(stack, id);
}

/**
 * The partition (`aws`, `aws-cn`, `aws-us-gov`) of the account Terraform deploys into, from one
 * `aws_partition` data source per stack, for ARNs this code writes itself: a literal `arn:aws:` would not
 * resolve in the China or GovCloud partitions.
 */
export function partition(scope: Construct): string {
  return perStack(scope, 'partition', DataAwsPartition).partition;
}

/** The region the stack's provider deploys into, from one `aws_region` data source per stack. */
export function region(scope: Construct): string {
  return perStack(scope, 'region', DataAwsRegion).region;
}

/** The ARN of an AWS-managed policy (e.g. `service-role/AWSLambdaVPCAccessExecutionRole`) in the deploying account's partition. */
export function awsManagedPolicyArn(scope: Construct, name: string): string {
  return `arn:${partition(scope)}:iam::aws:policy/${name}`;
}

/** Who a grant is for: a role, or a construct that has one (e.g. a `NodeFunction`). */
export type Grantee = IamRole | { readonly role: IamRole };

/** The role of `grantee`. */
export function roleOf(grantee: Grantee): IamRole {
  return grantee instanceof IamRole ? grantee : grantee.role;
}

/** One statement a grant adds to a role's GrantPolicy. */
export interface GrantStatement {
  /** Unique in the policy: grants with the same Sid (and the same actions and condition) merge their resources. */
  readonly Sid: string;
  readonly Action: string | readonly string[];
  readonly Resource: string;
  readonly Condition?: Readonly<Record<string, unknown>>;
}

/**
 * The inline policy one kind of grant keeps on one role, created beside the role (in the role's stack) at the
 * first grant as `<role id>-<id>`, and extended by every later grant of that kind: a second grant to the
 * same role merges into it instead of failing on a duplicate construct id. Its JSON stays literal, and a
 * policy holding one grant reads exactly as a single-statement policy would.
 */
export class GrantPolicy extends IamRolePolicy {
  /** The policy `id` of `grantee`'s role, created with `name` on first use. */
  static of(grantee: Grantee, id: string, name: string): GrantPolicy {
    const role = roleOf(grantee);
    const scope = role.node.scope;
    if (!scope) throw new PropsError('GrantPolicy', 'grantee', 'must be a role inside a stack');
    const existing = scope.node.tryFindChild(`${role.node.id}-${id}`);
    if (existing instanceof GrantPolicy) return existing;
    if (existing) throw new PropsError('GrantPolicy', 'id', `"${role.node.id}-${id}" is taken by a construct that is not a GrantPolicy`);
    return new GrantPolicy(scope, `${role.node.id}-${id}`, role, name);
  }

  private readonly statements: Array<{ Sid: string; Effect: 'Allow'; Action: string | readonly string[]; Resource: string[]; Condition?: Readonly<Record<string, unknown>> }> = [];

  private constructor(scope: Construct, id: string, role: IamRole, name: string) {
    super(scope, id, {
      name,
      role: role.id,
      policy: Lazy.stringValue({
        produce: () =>
          policyDocument(this.statements.map(({ Resource, Condition, ...rest }) => ({ ...rest, Resource: Resource.length === 1 ? Resource[0] : Resource, ...(Condition ? { Condition } : {}) }))),
      }),
    });
  }

  /** Adds `statement`, or its resource to the statement of the same Sid. */
  add(statement: GrantStatement): this {
    const same = this.statements.find((s) => s.Sid === statement.Sid);
    if (!same) {
      this.statements.push({ Sid: statement.Sid, Effect: 'Allow', Action: statement.Action, Resource: [statement.Resource], ...(statement.Condition ? { Condition: statement.Condition } : {}) });
    } else {
      if (JSON.stringify([same.Action, same.Condition]) !== JSON.stringify([statement.Action, statement.Condition])) {
        throw new PropsError('GrantPolicy', `add(${statement.Sid})`, 'must keep the actions and condition of the statement it merges into');
      }
      if (!same.Resource.includes(statement.Resource)) same.Resource.push(statement.Resource);
    }
    return this;
  }
}
