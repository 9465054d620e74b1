import type { Construct } from 'constructs';
import type { GrantPolicy, Grantee } from './iam';
import type { TcpRules } from './security-groups';

/**
 * A way into the database for IAM-authenticated clients: the RDS Proxy (`RdsProxy`) or the instance itself
 * (`MysqlDatabase`). Functions take one, so the same code connects through the proxy or, for the A/B
 * comparison arm, straight to the instance; what differs is written here once per way in.
 */
export interface DatabaseEndpoint {
  /**
   * `proxy` or `instance`. It decides which CAs a client must trust: a proxy's certificate chains to Amazon
   * Trust Services (Node's public roots), an instance's to the RDS CA of its region
   * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), so a client of an
   * instance verifies against the RDS CA bundle (`DB_CA_BUNDLE=rds`).
   */
  readonly kind: 'proxy' | 'instance';
  /** Host name clients connect to, and sign their IAM tokens for. */
  readonly host: string;
  readonly port: number;
  /** The resource id `rds-db:connect` names: the proxy's `prx-…` or the instance's `db-…`. */
  readonly resourceId: string;
  /** Lets `grantee` open connections through this endpoint as `dbUser` (`rds-db:connect` on exactly `dbuser:<resourceId>/<dbUser>`); returns the policy, to depend on. */
  grantConnect(grantee: Grantee, dbUser: string): GrantPolicy;
  /** The `rds-db:connect` resource ARN of `dbUser` (or a `name*` pattern) on this endpoint. */
  connectArn(dbUser: string): string;
  /**
   * Opens the endpoint's port to members of `clientSecurityGroupId` (ingress on the endpoint's group, egress on
   * the client's, both by reference), the rules named by `id`; the ingress rule is described as from
   * `clientDescription` (an instance requires one). The rules are created in `scope` (@default the endpoint's
   * own construct, in its stack); a client in a later stack passes its own (see `allowTcp`).
   */
  allowConnectionsFrom(clientSecurityGroupId: string, id: string, clientDescription?: string, scope?: Construct): TcpRules;
}
