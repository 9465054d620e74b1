import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import type { MemcachedCluster } from '../modules/memcached-cluster';
import { MysqlDatabase } from '../modules/mysql-database';
import { PropsError, requireNonEmpty } from '../modules/validation';
import type { Vpc } from '../modules/vpc';
import { HitsService, type HitsServiceProps } from './hits-service';
import { TenantsService, tenantsSecurityGroup, type TenantsServiceProps } from './tenants-service';

/**
 * The direct arm: the A/B comparison arm without RDS Proxy (profile setting `directArm`). A second HTTP API
 * whose functions are the proxy arm's (same bundles, same settings, same application and tenant users,
 * same cache) but connect straight to the database instance: IAM tokens for `dbuser:<db-resource-id>/<user>`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html), TLS verified
 * against the RDS CA bundle. So the two arms differ in one thing only, the proxy, and a load test that
 * splits the same traffic between them measures what the proxy does.
 *
 * Two halves, because security-group rules live beside the group they open (the database's, in the data
 * stack): `DirectArmNetwork` there, `DirectArm` (functions, API, roles) in the api stack. Everything is new
 * and under its own `direct-arm` construct, so turning the arm on or off creates or destroys only it.
 */

const MODULE = 'DirectArm';
/** Suffix of every name of the arm: `<project>-<env>-direct-hits`, `…-direct-tenants`. */
export const DIRECT_ARM_NAME = 'direct';

export interface DirectArmNetworkProps {
  /** `<project>-<environment>`: groups are named `<prefix>-direct-hits-…`, `<prefix>-direct-tenants-…`. Required. */
  readonly namePrefix: string;
  /** The VPC the functions run in. Required. */
  readonly vpc: Vpc;
  /** The instance the arm connects to: it admits the arm's groups on its port. Required. */
  readonly database: MysqlDatabase;
  /** The cache the proxy arm's hits function uses; the direct one uses it too, so the arms compare fairly. @default - no cache: no rule to it */
  readonly cache?: MemcachedCluster;
  /** Whether the arm serves tenants (then the tenants function gets its own group). @default false */
  readonly tenants?: boolean;
}

/**
 * The direct arm's security groups, in the data stack: the hits function's group sends to the database on
 * its port only (and to the cache when there is one; it signs its IAM tokens locally and calls no AWS API,
 * so no HTTPS); the tenants function's group sends to the database and HTTPS to STS (AssumeRole per tenant),
 * as the proxy arm's tenants group does for the proxy. Neither reaches the proxy.
 */
export class DirectArmNetwork extends Construct {
  readonly hitsSecurityGroupId: string;
  /** Absent without tenants. */
  readonly tenantsSecurityGroupId?: string;

  constructor(scope: Construct, id: string, props: DirectArmNetworkProps) {
    super(scope, id);
    requireNonEmpty(MODULE, 'namePrefix', props.namePrefix);
    if (!(props.database instanceof MysqlDatabase)) throw new PropsError(MODULE, 'database', 'must be a MysqlDatabase (the arm connects straight to the instance)');
    const namePrefix = `${props.namePrefix}-${DIRECT_ARM_NAME}`;
    const hits = new SecurityGroup(this, 'hits-security-group', {
      namePrefix: `${namePrefix}-hits-`,
      description: `The direct arm's hits function: the database instance on ${props.database.port}${props.cache ? ' and the memcached nodes' : ''}, nothing else`,
      vpcId: props.vpc.vpcId,
      tags: { Name: `${namePrefix}-hits` },
      lifecycle: { createBeforeDestroy: true },
    });
    props.database.allowConnectionsFrom(hits.id, 'direct-hits', "The direct arm's hits function");
    props.cache?.allowConnectionsFrom(hits.id, 'direct-hits');
    this.hitsSecurityGroupId = hits.id;
    if (props.tenants) {
      this.tenantsSecurityGroupId = tenantsSecurityGroup(this, {
        namePrefix,
        vpc: props.vpc,
        endpoint: props.database,
        endpointRulesId: 'direct-tenants',
        clientDescription: "The direct arm's tenants function",
      });
    }
  }
}

export interface DirectArmProps extends Omit<HitsServiceProps, 'endpoint' | 'securityGroupId' | 'namePrefix'> {
  /** `<project>-<environment>`: the arm's names are `<prefix>-direct-…`. Required. */
  readonly namePrefix: string;
  /** The instance the arm connects to straight, not through the proxy (its database name too). Required. */
  readonly database: MysqlDatabase;
  /** Its security groups (`DirectArmNetwork`, in the data stack). Required. */
  readonly network: Pick<DirectArmNetwork, 'hitsSecurityGroupId' | 'tenantsSecurityGroupId'>;
  /** The proxy arm's tenant settings, when it serves tenants: the arm then serves the same route. @default - no tenants route */
  readonly tenants?: Pick<TenantsServiceProps, 'count' | 'prefix'>;
}

/**
 * The direct arm's serving side, in the api stack: the hits function and its HTTP API, and with tenants the
 * tenants function on that API with a tenant-access role of its own, which trusts this arm's tenants
 * function alone and may connect as `<prefix>*` to the instance only. The proxy arm's roles keep their
 * proxy-only rights: neither arm's functions may use the other's way in.
 */
export class DirectArm extends Construct {
  readonly service: HitsService;
  /** Absent without tenants. */
  readonly tenants?: TenantsService;

  constructor(scope: Construct, id: string, props: DirectArmProps) {
    super(scope, id);
    if (!(props.database instanceof MysqlDatabase)) throw new PropsError(MODULE, 'database', 'must be a MysqlDatabase (the arm connects straight to the instance)');
    const { database, network, tenants, ...shared } = props;
    const namePrefix = `${props.namePrefix}-${DIRECT_ARM_NAME}`;
    this.service = new HitsService(this, { ...shared, namePrefix, database, endpoint: database, securityGroupId: network.hitsSecurityGroupId });
    if (tenants) {
      if (!network.tenantsSecurityGroupId) throw new PropsError(MODULE, 'network.tenantsSecurityGroupId', 'must be set when the arm serves tenants (DirectArmNetwork with tenants: true)');
      this.tenants = new TenantsService(this, {
        namePrefix,
        count: tenants.count,
        prefix: tenants.prefix,
        vpc: props.vpc,
        securityGroupId: network.tenantsSecurityGroupId,
        endpoint: database,
        api: this.service.api,
        memoryMb: props.memoryMb,
        timeoutSeconds: props.timeoutSeconds,
        logRetentionDays: props.logRetentionDays,
      });
    }
  }
}
