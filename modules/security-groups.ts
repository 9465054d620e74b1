import { Construct } from 'constructs';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';

export interface TcpAccess {
  /** The group that receives the traffic. */
  readonly securityGroupId: string;
  /** The group allowed to send it. */
  readonly clientSecurityGroupId: string;
  readonly port: number;
  /** What the server side is, for the rule descriptions (e.g. `the RDS Proxy`). */
  readonly serverDescription: string;
  /** What the client side is, for the ingress rule's description (e.g. `The deploy-time migration function`). @default 'Clients' */
  readonly clientDescription?: string;
}

/** The two rules of one client-to-server path. */
export interface TcpRules {
  readonly ingress: VpcSecurityGroupIngressRule;
  readonly egress: VpcSecurityGroupEgressRule;
}

/**
 * Opens `port` from members of one security group to members of another, by group reference on both
 * sides: an ingress rule on the server's group and the matching egress rule on the client's.
 *
 * Both rules are created in `scope`, so in its stack. A server module's `allowConnectionsFrom` uses itself
 * by default; a client whose group lives in a later stack (one that depends on the server's) passes its own
 * scope instead, so its group, its rules and the functions in the group come and go in one stack, where
 * Terraform deletes the functions before the group they use. A group left in the server's stack would be
 * deleted first, while the later stack's functions still hold network interfaces in it, which AWS refuses
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
 */
export function allowTcp(scope: Construct, id: string, access: TcpAccess): TcpRules {
  const { securityGroupId, clientSecurityGroupId, port, serverDescription } = access;
  const ingress = new VpcSecurityGroupIngressRule(scope, `ingress-${id}`, {
    securityGroupId,
    referencedSecurityGroupId: clientSecurityGroupId,
    ipProtocol: 'tcp',
    fromPort: port,
    toPort: port,
    description: `${access.clientDescription ?? 'Clients'} to ${serverDescription} on ${port}`,
  });
  const egress = new VpcSecurityGroupEgressRule(scope, `egress-${id}`, {
    securityGroupId: clientSecurityGroupId,
    referencedSecurityGroupId: securityGroupId,
    ipProtocol: 'tcp',
    fromPort: port,
    toPort: port,
    description: `To ${serverDescription} on ${port}`,
  });
  return { ingress, egress };
}
