import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { Profile } from '../config';
import { Vpc } from '../modules/vpc';
import { BaseStack, stackId } from './base-stack';

/** The VPC of one environment: three subnet tiers per AZ, one NAT gateway per AZ, the app security group. */
export class NetworkStack extends BaseStack {
  readonly vpc: Vpc;

  constructor(scope: Construct, profile: Profile) {
    super(scope, stackId('network', profile), profile);
    const n = profile.network;
    this.vpc = new Vpc(this, 'vpc', {
      name: this.resourcePrefix,
      cidrBlock: n.vpcCidr,
      availabilityZones: availabilityZones(profile),
      natGateways: n.natGateways,
      flowLogs: n.flowLogs,
      logRetentionDays: profile.logRetentionDays,
    });
    new TerraformOutput(this, 'vpc_id', { value: this.vpc.vpcId, description: 'VPC of this environment' });
    new TerraformOutput(this, 'nat_public_ips', { value: this.vpc.natPublicIps, description: 'Addresses outbound traffic from the private subnets leaves from (for allow-lists)' });
  }
}

/** The first `azCount` AZs of the region, by letter: literal names, so plans and scanners read them. */
export function availabilityZones(profile: Profile): string[] {
  return 'abcdef'.slice(0, profile.network.azCount).split('').map((letter) => `${profile.region}${letter}`);
}
