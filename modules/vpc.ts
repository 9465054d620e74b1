import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc as AwsVpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { AWS_AVAILABILITY_ZONE_PATTERN } from '../contracts';
import { accountId, assumeRolePolicy } from './iam';
import { PropsError, requireLogRetention } from './validation';

export interface VpcProps {
  /** Prefix of every resource name (e.g. `hits-dev`). Required. */
  readonly name: string;
  /** IPv4 CIDR of the VPC, /16 to /20; each AZ gets a public, a private and a data subnet of /(n+4). Required. */
  readonly cidrBlock: string;
  /** Availability zones, 2 to 4 (e.g. `["eu-west-1a","eu-west-1b"]`): one subnet of each tier in each. Required. */
  readonly availabilityZones: readonly string[];
  /** `per-az`: one NAT gateway in each AZ's public subnet, each private route table using its own AZ's NAT; `single`: one NAT in the first AZ for all. @default 'per-az' */
  readonly natGateways?: 'per-az' | 'single';
  /** VPC flow logs (all traffic) to a CloudWatch log group `/vpc/<name>/flow-logs`. @default true */
  readonly flowLogs?: boolean;
  /** Retention in days of the flow-log group. @default 365 */
  readonly logRetentionDays?: number;
}

const MODULE = 'Vpc';

/** Splits an IPv4 CIDR like Terraform's cidrsubnet(), at synth time, so the JSON holds literal CIDRs scanners can read. */
export function cidrSubnet(cidr: string, newBits: number, netNum: number): string {
  const [base, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  const newPrefix = prefix + newBits;
  if (newPrefix > 28 || netNum < 0 || netNum >= 2 ** newBits) throw new PropsError(MODULE, 'cidrBlock', `cannot hold subnet ${netNum} of /${newPrefix}`);
  const ip = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const network = ip - (ip % 2 ** (32 - prefix));
  const subnet = network + netNum * 2 ** (32 - newPrefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(subnet / 2 ** shift) % 256);
  return `${octets.join('.')}/${newPrefix}`;
}

/**
 * A three-tier VPC: public subnets (internet gateway, NAT gateways), private application subnets whose
 * default route goes to the NAT gateway of the same AZ, and isolated data subnets with no internet route.
 * Also locks down the default security group and provides the `app` security group for compute.
 */
export class Vpc extends Construct {
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly availabilityZones: readonly string[];
  readonly publicSubnetIds: string[];
  /** Private application subnets, one per AZ, in `availabilityZones` order. */
  readonly privateSubnetIds: string[];
  /** Isolated data subnets (database, proxy, cache), one per AZ. */
  readonly dataSubnetIds: string[];
  readonly natGatewayIds: string[];
  /** Public addresses of the NAT gateways: where the private subnets' outbound traffic comes from. */
  readonly natPublicIps: string[];
  /** Security group for compute that talks to the data tier; data modules open their ports to it. */
  readonly appSecurityGroupId: string;

  constructor(scope: Construct, id: string, props: VpcProps) {
    super(scope, id);
    const natMode = props.natGateways ?? 'per-az';
    const flowLogs = props.flowLogs ?? true;
    const retention = props.logRetentionDays ?? 365;
    const azs = props.availabilityZones;
    if (!props.name) throw new PropsError(MODULE, 'name', 'must be a non-empty string');
    const m = /^(\d{1,3}\.){3}\d{1,3}\/(\d{1,2})$/.exec(props.cidrBlock);
    const octets = props.cidrBlock.split('/')[0].split('.').map(Number);
    if (!m || octets.some((o) => o > 255) || Number(m[2]) < 16 || Number(m[2]) > 20) throw new PropsError(MODULE, 'cidrBlock', `must be an IPv4 CIDR from /16 to /20, got "${props.cidrBlock}"`);
    // Construct ids use the AZ letter, so names must be `<region><letter>` with distinct letters.
    if (!Array.isArray(azs) || azs.length < 2 || azs.length > 4 || azs.some((az) => !AWS_AVAILABILITY_ZONE_PATTERN.test(az)) || new Set(azs.map((az) => az.slice(-1))).size !== azs.length) {
      throw new PropsError(MODULE, 'availabilityZones', `must list 2 to 4 AZ names with distinct letters, like ["eu-west-1a","eu-west-1b"], got ${JSON.stringify(azs)}`);
    }
    if (natMode !== 'per-az' && natMode !== 'single') throw new PropsError(MODULE, 'natGateways', `must be "per-az" or "single", got "${natMode}"`);
    requireLogRetention(MODULE, 'logRetentionDays', retention);

    const name = props.name;
    const tag = (suffix: string) => ({ Name: `${name}-${suffix}` });
    this.cidrBlock = props.cidrBlock;
    this.availabilityZones = [...azs];

    const vpc = new AwsVpc(this, 'vpc', { cidrBlock: props.cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, tags: tag('vpc') });
    this.vpcId = vpc.id;

    // Terraform takes over the default group and, with no rule blocks, removes its rules: nothing can use it by accident.
    new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id, tags: tag('default-deny-all') });

    const igw = new InternetGateway(this, 'internet-gateway', { vpcId: vpc.id, tags: tag('igw') });
    const publicRoutes = new RouteTable(this, 'public-route-table', { vpcId: vpc.id, tags: tag('public') });
    new Route(this, 'public-default-route', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
    const dataRoutes = new RouteTable(this, 'data-route-table', { vpcId: vpc.id, tags: tag('data') });

    this.publicSubnetIds = [];
    this.privateSubnetIds = [];
    this.dataSubnetIds = [];
    this.natGatewayIds = [];
    this.natPublicIps = [];
    const nats: NatGateway[] = [];
    azs.forEach((az, i) => {
      const suffix = az.slice(-1);
      const publicSubnet = new Subnet(this, `public-subnet-${suffix}`, {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrSubnet(props.cidrBlock, 4, i),
        mapPublicIpOnLaunch: false,
        tags: { ...tag(`public-${suffix}`), Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-route-association-${suffix}`, { subnetId: publicSubnet.id, routeTableId: publicRoutes.id });
      this.publicSubnetIds.push(publicSubnet.id);

      if (natMode === 'per-az' || i === 0) {
        const eip = new Eip(this, `nat-eip-${suffix}`, { domain: 'vpc', tags: tag(`nat-${suffix}`) });
        const nat = new NatGateway(this, `nat-gateway-${suffix}`, {
          allocationId: eip.allocationId,
          subnetId: publicSubnet.id,
          connectivityType: 'public',
          tags: tag(`nat-${suffix}`),
          dependsOn: [igw],
        });
        nats.push(nat);
        this.natGatewayIds.push(nat.id);
        this.natPublicIps.push(eip.publicIp);
      }
      const nat = nats[natMode === 'per-az' ? i : 0];

      const privateSubnet = new Subnet(this, `private-subnet-${suffix}`, {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrSubnet(props.cidrBlock, 4, 4 + i),
        tags: { ...tag(`private-${suffix}`), Tier: 'private' },
      });
      const privateRoutes = new RouteTable(this, `private-route-table-${suffix}`, { vpcId: vpc.id, tags: tag(`private-${suffix}`) });
      new Route(this, `private-default-route-${suffix}`, { routeTableId: privateRoutes.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });
      new RouteTableAssociation(this, `private-route-association-${suffix}`, { subnetId: privateSubnet.id, routeTableId: privateRoutes.id });
      this.privateSubnetIds.push(privateSubnet.id);

      const dataSubnet = new Subnet(this, `data-subnet-${suffix}`, {
        vpcId: vpc.id,
        availabilityZone: az,
        cidrBlock: cidrSubnet(props.cidrBlock, 4, 8 + i),
        tags: { ...tag(`data-${suffix}`), Tier: 'data' },
      });
      new RouteTableAssociation(this, `data-route-association-${suffix}`, { subnetId: dataSubnet.id, routeTableId: dataRoutes.id });
      this.dataSubnetIds.push(dataSubnet.id);
    });

    const app = new SecurityGroup(this, 'app-security-group', {
      // A prefix, not a name: create_before_destroy needs the replacement to coexist with the old group.
      namePrefix: `${name}-app-`,
      description: 'Compute in the private subnets that talks to the data tier',
      vpcId: vpc.id,
      tags: tag('app'),
      lifecycle: { createBeforeDestroy: true },
    });
    this.appSecurityGroupId = app.id;
    new VpcSecurityGroupEgressRule(this, 'app-egress-https', {
      securityGroupId: app.id,
      description: 'HTTPS to AWS APIs and the internet through the NAT gateway of its AZ',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
      tags: tag('app-egress-https'),
    });

    if (flowLogs) {
      const group = new CloudwatchLogGroup(this, 'flow-log-group', { name: `/vpc/${name}/flow-logs`, retentionInDays: retention, tags: tag('flow-logs') });
      const role = new IamRole(this, 'flow-log-role', {
        name: `${name}-vpc-flow-logs`,
        description: 'Lets VPC flow logs write to their log group',
        // VPC flow logs set both keys; the source ARN is the flow log's, whose id does not exist before
        // the role, hence the wildcard AWS suggests for it:
        // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
        assumeRolePolicy: assumeRolePolicy('vpc-flow-logs.amazonaws.com', {
          sourceAccount: accountId(this),
          sourceArn: `arn:*:ec2:*:${accountId(this)}:vpc-flow-log/*`,
        }),
      });
      const flowLogPolicy = new IamRolePolicy(this, 'flow-log-policy', {
        name: 'write-flow-logs',
        role: role.id,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
              Resource: [group.arn, `${group.arn}:*`],
            },
          ],
        }),
      });
      new FlowLog(this, 'flow-log', {
        vpcId: vpc.id,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: group.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags: tag('flow-log'),
        dependsOn: [flowLogPolicy],
      });
    }
  }
}
