import type { Construct } from 'constructs';
import { APP_METRICS_NAMESPACE } from '../contracts';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import type { HttpApi } from '../modules/http-api';
import { policyDocument } from '../modules/iam';
import { NodeFunction } from '../modules/node-function';
import type { DatabaseEndpoint } from '../modules/database-endpoint';
import { PropsError } from '../modules/validation';
import type { Vpc } from '../modules/vpc';
import { projectPath } from './project-path';

/** The tenants function's entry point. */
export const TENANTS_ENTRY = projectPath('functions/tenants/handler.ts');
/** The route it serves on the environment's HTTP API. */
export const TENANTS_ROUTE = 'GET /tenants/{tenantId}/items';

const MODULE = 'TenantsService';

/**
 * The tenants function's own security group, beside the function: the endpoint's port (by group reference,
 * through the endpoint's own helper, the pair of rules created here too) and HTTPS out through the NAT
 * gateway for STS, whose regional endpoint is outside the VPC
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_region-endpoints.html). Nothing else:
 * no cache, nothing the hits function's app group reaches.
 *
 * Group, rules and function share one scope, so one stack: turning tenants on or off is one ordinary deploy,
 * and Terraform, seeing the function use the group, deletes the function first. A group in an earlier stack
 * (the data stack, deployed first) would be deleted while the function still held network interfaces in it,
 * which AWS refuses (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
 */
function tenantsSecurityGroup(scope: Construct, props: Pick<TenantsServiceProps, 'namePrefix' | 'vpc' | 'endpoint' | 'clientDescription'>): string {
  const through = props.endpoint.kind === 'proxy' ? 'the RDS Proxy' : 'the database instance';
  const group = new SecurityGroup(scope, 'tenants-security-group', {
    namePrefix: `${props.namePrefix}-tenants-`,
    description: `The tenants function: ${through}, and HTTPS to STS`,
    vpcId: props.vpc.vpcId,
    tags: { Name: `${props.namePrefix}-tenants` },
    lifecycle: { createBeforeDestroy: true },
  });
  new VpcSecurityGroupEgressRule(scope, 'tenants-egress-https', {
    securityGroupId: group.id,
    description: 'HTTPS to STS (AssumeRole per tenant) through the NAT gateway of its AZ',
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    cidrIpv4: '0.0.0.0/0',
  });
  const rulesId = props.endpoint.kind === 'proxy' ? 'tenants-to-proxy' : 'tenants-to-database';
  props.endpoint.allowConnectionsFrom(group.id, rulesId, props.clientDescription ?? 'The tenants function', scope);
  return group.id;
}

export interface TenantsServiceProps {
  /** `<project>-<environment>`: the function is `<prefix>-tenants`, its group `<prefix>-tenants-…`, the role `<prefix>-tenant-access`. Required. */
  readonly namePrefix: string;
  /** Tenants served, ids 0 … count-1 (`TENANT_COUNT`); at least 1 (a count of 0 creates no service). Required. */
  readonly count: number;
  /** Prefix of the tenants' database and user names (`TENANT_PREFIX`). Required. */
  readonly prefix: string;
  /** The function runs in its private subnets, in a security group of its own in this VPC. Required. */
  readonly vpc: Vpc;
  /** Where it connects with a scoped IAM token per tenant: the RDS Proxy, or the instance (the direct arm). It admits the function's group on its port. Required. */
  readonly endpoint: DatabaseEndpoint;
  /** Who the endpoint's ingress rule admits, in its description. @default 'The tenants function' */
  readonly clientDescription?: string;
  /** The HTTP API the route is added to. Required. */
  readonly api: HttpApi;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** Retention of the function's log group. @default 14 */
  readonly logRetentionDays?: number;
}

/**
 * The bridge model's serving side: the `tenants` function behind `GET /tenants/{tenantId}/items` on the
 * environment's HTTP API, its own security group (and the rules to its endpoint), and the tenant-access
 * role it assumes per tenant. It writes its own metrics (EMF) in the application namespace, as the hits
 * function does, so `function.metricApp()` describes them for the alarms and the dashboard.
 *
 * The function's own role may do one thing beyond running in the VPC: `sts:AssumeRole` on the tenant-access
 * role. That role trusts the function's role alone and may `rds-db:connect` as `<prefix>*` through its
 * endpoint only (the proxy's `prx-…`, or on the direct arm the instance's `db-…`); the function narrows each session to one tenant's user with a session policy, so its credentials
 * never reach another tenant (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
 * The function's role has no `rds-db:connect` of its own.
 *
 * Not a Construct of its own, like HitsService: its children are created in `scope` with their own ids.
 */
export class TenantsService {
  readonly function: NodeFunction;
  /** The function's own security group. */
  readonly securityGroupId: string;
  /** The role the function assumes per tenant, with a session policy naming that tenant's user. */
  readonly accessRole: IamRole;

  constructor(scope: Construct, props: TenantsServiceProps) {
    if (!Number.isInteger(props.count) || props.count < 1) throw new PropsError(MODULE, 'count', `must be an integer of at least 1 (0 means no service), got ${props.count}`);
    if (!/^[a-z][a-z0-9_]*$/.test(props.prefix)) throw new PropsError(MODULE, 'prefix', `must be lowercase letters, digits or underscores starting with a letter, got "${props.prefix}"`);
    const { endpoint } = props;
    this.securityGroupId = tenantsSecurityGroup(scope, props);
    this.function = new NodeFunction(scope, 'tenants', {
      functionName: `${props.namePrefix}-tenants`,
      entry: TENANTS_ENTRY,
      subnetIds: props.vpc.privateSubnetIds,
      securityGroupIds: [this.securityGroupId],
      memoryMb: props.memoryMb ?? 512,
      timeoutSeconds: props.timeoutSeconds ?? 10,
      logRetentionDays: props.logRetentionDays ?? 14,
      metricsNamespace: APP_METRICS_NAMESPACE,
    });
    const functionRole = this.function.role;

    this.accessRole = new IamRole(scope, 'tenant-access-role', {
      name: `${props.namePrefix}-tenant-access`,
      description: `Assumed by ${props.namePrefix}-tenants per tenant, narrowed to that tenant's database user by a session policy`,
      // The function's role ARN alone: no account root, no other principal.
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
      assumeRolePolicy: policyDocument([{ Effect: 'Allow', Principal: { AWS: functionRole.arn }, Action: 'sts:AssumeRole' }]),
    });
    const connect = new IamRolePolicy(scope, 'tenant-access-connect', {
      name: 'connect-as-tenant-users',
      role: this.accessRole.id,
      // rds-db:connect on the endpoint's dbuser ARN with a trailing wildcard covers every tenant user
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).
      policy: policyDocument([{ Sid: 'ConnectAsTenantUsers', Effect: 'Allow', Action: 'rds-db:connect', Resource: endpoint.connectArn(`${props.prefix}*`) }]),
    });
    const assume = new IamRolePolicy(scope, 'tenants-assume-tenant-access', {
      name: 'assume-tenant-access',
      role: functionRole.id,
      policy: policyDocument([{ Sid: 'AssumeTenantAccess', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: this.accessRole.arn }]),
    });

    // functions/tenants/config.ts's contract; the partition and account come from the role ARN, the region
    // from AWS_REGION, which Lambda sets. Never a password: TENANT_AUTH stays at its default, iam.
    this.function.addEnvironment({
      TENANT_COUNT: String(props.count),
      TENANT_PREFIX: props.prefix,
      TENANT_ACCESS_ROLE_ARN: this.accessRole.arn,
      // The endpoint's `prx-…` or `db-…` id: the function names `dbuser:<id>/<prefix><t>` in each session policy.
      DB_RESOURCE_ID: endpoint.resourceId,
      DB_HOST: endpoint.host,
      DB_PORT: String(endpoint.port),
      DB_TLS: 'verify',
      // Straight to an instance: its certificate chains to the RDS CA, not to a public root.
      ...(endpoint.kind === 'instance' ? { DB_CA_BUNDLE: 'rds' } : {}),
    });
    // Created after both grants: the first request's AssumeRole and login would otherwise be refused.
    this.function.addDependency(assume);
    this.function.addDependency(connect);

    props.api.addRoute('tenants', TENANTS_ROUTE, { functionName: this.function.functionName, functionInvokeArn: this.function.invokeArn });
  }
}
