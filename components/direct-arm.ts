import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { MysqlDatabase } from '../modules/mysql-database';
import { PropsError, requireNonEmpty } from '../modules/validation';
import { HitsService, type HitsServiceProps } from './hits-service';
import { TenantsService, type TenantsServiceProps } from './tenants-service';

/**
 * The direct arm: the A/B comparison arm without RDS Proxy (profile setting `directArm`). A second HTTP API
 * whose functions are the proxy arm's (same bundles, same settings, same application and tenant users,
 * same cache) but connect straight to a database instance, an identical one of its own or the proxy arm's:
 * IAM tokens for `dbuser:<db-resource-id>/<user>`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html), TLS verified
 * against the RDS CA bundle. So the two arms differ in one thing only, the proxy, and a load test that
 * splits the same traffic between them measures what the proxy does.
 *
 * One construct, in the api stack: its security groups, the rules that open the database's and the cache's
 * groups to them (created here, referencing the data stack's groups: the api stack already depends on the
 * data stack), its functions, API and roles. So turning the arm on or off is one ordinary deploy that creates
 * or destroys only it, and Terraform, seeing the functions use the groups, deletes the functions first;
 * with the groups in the data stack, deployed first, AWS would refuse to delete them while the functions
 * still held network interfaces in them
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
 */

const MODULE = 'DirectArm';
/** Suffix of every name of the arm: `<project>-<env>-direct-hits`, `…-direct-tenants`. */
export const DIRECT_ARM_NAME = 'direct';

/** The prefix of the arm's names (and of its own instance's, in the data stack): `<project>-<env>-direct`. */
export const directArmNamePrefix = (namePrefix: string) => `${namePrefix}-${DIRECT_ARM_NAME}`;

export interface DirectArmProps extends Omit<HitsServiceProps, 'endpoint' | 'securityGroupId' | 'namePrefix'> {
  /** `<project>-<environment>`: the arm's names are `<prefix>-direct-…`. Required. */
  readonly namePrefix: string;
  /** The instance the arm connects to straight, not through the proxy (its database name too); it admits the arm's groups on its port. Required. */
  readonly database: MysqlDatabase;
  /** The proxy arm's tenant settings, when it serves tenants: the arm then serves the same route. @default - no tenants route */
  readonly tenants?: Pick<TenantsServiceProps, 'count' | 'prefix'>;
}

/**
 * The direct arm: the hits function in a group of its own that sends to the database instance on its port
 * only (and to the cache when there is one; it signs its IAM tokens locally and calls no AWS API, so no
 * HTTPS), and its HTTP API; with tenants, the tenants function on that API in a group of its own (the
 * database, and HTTPS to STS for AssumeRole per tenant) with a tenant-access role of its own, which trusts
 * this arm's tenants function alone and may connect as `<prefix>*` to the instance only. Neither group
 * reaches the proxy, and the proxy arm's roles keep their proxy-only rights: neither arm's functions may use
 * the other's way in.
 */
export class DirectArm extends Construct {
  /** The instance the arm connects to: its own, or the proxy arm's when the profile shares it. */
  readonly database: MysqlDatabase;
  readonly service: HitsService;
  /** Absent without tenants. */
  readonly tenants?: TenantsService;

  constructor(scope: Construct, id: string, props: DirectArmProps) {
    super(scope, id);
    requireNonEmpty(MODULE, 'namePrefix', props.namePrefix);
    if (!(props.database instanceof MysqlDatabase)) throw new PropsError(MODULE, 'database', 'must be a MysqlDatabase (the arm connects straight to the instance)');
    const { database, tenants, ...shared } = props;
    this.database = database;
    const namePrefix = directArmNamePrefix(props.namePrefix);
    const hits = new SecurityGroup(this, 'hits-security-group', {
      namePrefix: `${namePrefix}-hits-`,
      description: `The direct arm's hits function: the database instance on ${database.port}${props.cache ? ' and the memcached nodes' : ''}, nothing else`,
      vpcId: props.vpc.vpcId,
      tags: { Name: `${namePrefix}-hits` },
      lifecycle: { createBeforeDestroy: true },
    });
    // The rules on the database's and the cache's groups are created here, in this arm's stack (see allowTcp).
    database.allowConnectionsFrom(hits.id, 'hits-to-database', "The direct arm's hits function", this);
    props.cache?.allowConnectionsFrom(hits.id, 'hits-to-cache', "The direct arm's hits function", this);
    this.service = new HitsService(this, { ...shared, namePrefix, database, endpoint: database, securityGroupId: hits.id });
    if (tenants) {
      this.tenants = new TenantsService(this, {
        namePrefix,
        count: tenants.count,
        prefix: tenants.prefix,
        vpc: props.vpc,
        endpoint: database,
        clientDescription: "The direct arm's tenants function",
        api: this.service.api,
        memoryMb: props.memoryMb,
        timeoutSeconds: props.timeoutSeconds,
        logRetentionDays: props.logRetentionDays,
      });
    }
  }
}
