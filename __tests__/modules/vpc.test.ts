import { TerraformStack, Testing, Token } from 'cdktf';
import { cidrSubnet, Vpc, VpcProps } from '../../modules/vpc';
import { refName, resources, single, StackJson } from '../support/synth';

const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const BASE: VpcProps = { name: 'hits-test', cidrBlock: '10.10.0.0/16', availabilityZones: AZS };

/** Builds the module alone in a fresh app and stack; returns it with the stack's parsed JSON. */
function build(props: Partial<VpcProps> = {}): { vpc: Vpc; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const vpc = new Vpc(stack, 'vpc', { ...BASE, ...props });
  return { vpc, json: JSON.parse(Testing.synth(stack)) };
}

function construct(props: Partial<VpcProps>): () => void {
  return () => new Vpc(new TerraformStack(Testing.app(), 'test'), 'vpc', { ...BASE, ...props } as VpcProps);
}

const subnetsByTier = (json: StackJson, tier: string) => resources(json, 'aws_subnet').filter(([, s]) => s.tags.Tier === tier);

describe('cidrSubnet matches Terraform cidrsubnet()', () => {
  test.each([
    ['10.10.0.0/16', 4, 0, '10.10.0.0/20'],
    ['10.10.0.0/16', 4, 1, '10.10.16.0/20'],
    ['10.10.0.0/16', 4, 4, '10.10.64.0/20'],
    ['10.10.0.0/16', 4, 8, '10.10.128.0/20'],
    ['10.10.0.0/16', 4, 15, '10.10.240.0/20'],
    ['10.0.16.0/20', 4, 3, '10.0.19.0/24'],
    ['172.16.0.0/12', 8, 255, '172.31.240.0/20'],
    ['192.168.0.0/16', 8, 10, '192.168.10.0/24'],
    // Host bits in the base are dropped, as Terraform does.
    ['10.10.5.7/16', 4, 2, '10.10.32.0/20'],
  ])('cidrsubnet("%s", %d, %d) = %s', (cidr, bits, num, expected) => {
    expect(cidrSubnet(cidr, bits, num)).toBe(expected);
  });

  test.each([
    ['10.10.0.0/16', 4, 16],
    ['10.10.0.0/16', 4, -1],
    ['10.0.0.0/26', 4, 0],
  ])('cidrsubnet("%s", %d, %d) is refused naming cidrBlock', (cidr, bits, num) => {
    expect(() => cidrSubnet(cidr, bits, num)).toThrow(/cidrBlock/);
  });
});

describe('Vpc props validation names the field', () => {
  test.each<[string, Partial<VpcProps>, RegExp]>([
    ['empty name', { name: '' }, /Vpc: name/],
    ['a /24 VPC', { cidrBlock: '10.0.0.0/24' }, /cidrBlock.*\/16 to \/20/],
    ['a /8 VPC', { cidrBlock: '10.0.0.0/8' }, /cidrBlock/],
    ['not a CIDR', { cidrBlock: '10.0.0.0' }, /cidrBlock/],
    ['one AZ', { availabilityZones: ['eu-west-1a'] }, /availabilityZones.*2 to 4/],
    ['five AZs', { availabilityZones: ['a', 'b', 'c', 'd', 'e'] }, /availabilityZones/],
    ['duplicate AZs', { availabilityZones: ['eu-west-1a', 'eu-west-1a'] }, /availabilityZones.*distinct/],
    ['unknown NAT mode', { natGateways: 'none' as never }, /natGateways.*per-az.*single/],
    ['bad log retention', { logRetentionDays: 10 }, /logRetentionDays.*one of 1, 3, 5/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });
});

describe('Vpc defaults (per its props doc comments)', () => {
  const { vpc, json } = build();

  test('three tiers per AZ with literal CIDRs: public n, private 4+n, data 8+n of /(prefix+4)', () => {
    for (const [tier, offset] of [['public', 0], ['private', 4], ['data', 8]] as const) {
      const subnets = subnetsByTier(json, tier).map(([, s]) => [s.availability_zone, s.cidr_block]);
      expect(subnets).toEqual(AZS.map((az, i) => [az, cidrSubnet('10.10.0.0/16', 4, offset + i)]));
    }
    expect(subnetsByTier(json, 'public').every(([, s]) => s.map_public_ip_on_launch === false)).toBe(true);
  });

  test('natGateways defaults to per-az: one NAT + EIP per AZ, each in its own AZ public subnet', () => {
    expect(resources(json, 'aws_nat_gateway')).toHaveLength(AZS.length);
    expect(resources(json, 'aws_eip')).toHaveLength(AZS.length);
    const subnets = Object.fromEntries(resources(json, 'aws_subnet'));
    const natAzs = resources(json, 'aws_nat_gateway').map(([, n]) => subnets[refName(n.subnet_id)!]);
    expect(natAzs.map((s) => s.tags.Tier)).toEqual(AZS.map(() => 'public'));
    expect(natAzs.map((s) => s.availability_zone).sort()).toEqual([...AZS].sort());
  });

  test('each private route table sends 0.0.0.0/0 to the NAT gateway of its own AZ', () => {
    const subnets = Object.fromEntries(resources(json, 'aws_subnet'));
    const nats = Object.fromEntries(resources(json, 'aws_nat_gateway'));
    const associations = resources(json, 'aws_route_table_association').map(([, a]) => a);
    const routes = resources(json, 'aws_route').map(([, r]) => r);
    const privateSubnets = subnetsByTier(json, 'private');
    expect(privateSubnets).toHaveLength(AZS.length);
    const tables = new Set<string>();
    for (const [name, subnet] of privateSubnets) {
      const table = associations.find((a) => refName(a.subnet_id) === name)!.route_table_id;
      tables.add(table);
      const defaults = routes.filter((r) => r.route_table_id === table);
      expect(defaults).toHaveLength(1);
      expect(defaults[0].destination_cidr_block).toBe('0.0.0.0/0');
      const nat = nats[refName(defaults[0].nat_gateway_id)!];
      expect(subnets[refName(nat.subnet_id)!].availability_zone).toBe(subnet.availability_zone);
    }
    expect(tables.size).toBe(AZS.length);
  });

  test('public subnets route to the internet gateway; data subnets have no route at all', () => {
    const igw = resources(json, 'aws_internet_gateway');
    expect(igw).toHaveLength(1);
    const associations = resources(json, 'aws_route_table_association').map(([, a]) => a);
    const routes = resources(json, 'aws_route').map(([, r]) => r);
    const tableOf = (tier: string) => new Set(subnetsByTier(json, tier).map(([n]) => associations.find((a) => refName(a.subnet_id) === n)!.route_table_id));
    const publicTables = [...tableOf('public')];
    expect(publicTables).toHaveLength(1);
    expect(routes.filter((r) => r.route_table_id === publicTables[0])).toEqual([
      expect.objectContaining({ destination_cidr_block: '0.0.0.0/0', gateway_id: `\${aws_internet_gateway.${igw[0][0]}.id}` }),
    ]);
    const dataTables = tableOf('data');
    expect(dataTables.size).toBe(1);
    expect(routes.filter((r) => dataTables.has(r.route_table_id))).toEqual([]);
  });

  test('flowLogs defaults to on: ALL traffic to /vpc/<name>/flow-logs kept 365 days, role trusted by vpc-flow-logs only', () => {
    const group = single(json, 'aws_cloudwatch_log_group');
    expect(group).toMatchObject({ name: '/vpc/hits-test/flow-logs', retention_in_days: 365 });
    const [groupName] = resources(json, 'aws_cloudwatch_log_group')[0];
    expect(single(json, 'aws_flow_log')).toMatchObject({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs', log_destination: `\${aws_cloudwatch_log_group.${groupName}.arn}` });
    const trust = JSON.parse(single(json, 'aws_iam_role').assume_role_policy);
    expect(trust.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' })]);
    const policy = JSON.parse(single(json, 'aws_iam_role_policy').policy);
    for (const s of policy.Statement) {
      expect([s.Resource].flat().every((r: string) => r.startsWith(`\${aws_cloudwatch_log_group.${groupName}.arn}`))).toBe(true);
      expect([s.Action].flat().every((a: string) => a.startsWith('logs:') && !a.includes('*'))).toBe(true);
    }
     const [policyName] = resources(json, 'aws_iam_role_policy')[0];
    expect(single(json, 'aws_flow_log').depends_on).toEqual([`aws_iam_role_policy.${policyName}`]);
  });

  test('the default security group is managed with no rules', () => {
    const sg = single(json, 'aws_default_security_group');
    expect(sg.vpc_id).toMatch(/^\$\{aws_vpc\.[^.]+\.id\}$/);
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  test('the app security group has a description and only HTTPS egress', () => {
    const app = single(json, 'aws_security_group');
    expect(app.description).toBeTruthy();
    expect(resources(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    expect(resources(json, 'aws_vpc_security_group_egress_rule').map(([, r]) => r)).toEqual([
      expect.objectContaining({ ip_protocol: 'tcp', from_port: 443, to_port: 443, description: expect.any(String) }),
    ]);
  });

  test('typed attributes: ids are tokens, one per AZ, cidr and AZs as given', () => {
    expect(Token.isUnresolved(vpc.vpcId)).toBe(true);
    expect(Token.isUnresolved(vpc.appSecurityGroupId)).toBe(true);
    for (const list of [vpc.publicSubnetIds, vpc.privateSubnetIds, vpc.dataSubnetIds, vpc.natGatewayIds, vpc.natPublicIps]) {
      expect(list).toHaveLength(AZS.length);
      expect(list.every((id) => typeof id === 'string' && Token.isUnresolved(id))).toBe(true);
    }
    expect(new Set(vpc.privateSubnetIds).size).toBe(AZS.length);
    expect(vpc.cidrBlock).toBe('10.10.0.0/16');
    expect(vpc.availabilityZones).toEqual(AZS);
  });
});

describe('Vpc options', () => {
  test('single NAT mode: one NAT in the first AZ, every private route table uses it', () => {
    const { vpc, json } = build({ natGateways: 'single' });
    const nats = resources(json, 'aws_nat_gateway');
    expect(nats).toHaveLength(1);
    expect(resources(json, 'aws_eip')).toHaveLength(1);
    expect(vpc.natGatewayIds).toHaveLength(1);
    const subnets = Object.fromEntries(resources(json, 'aws_subnet'));
    expect(subnets[refName(nats[0][1].subnet_id)!]).toMatchObject({ availability_zone: AZS[0], tags: expect.objectContaining({ Tier: 'public' }) });
    const natRoutes = resources(json, 'aws_route').filter(([, r]) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(AZS.length);
    expect(new Set(natRoutes.map(([, r]) => r.route_table_id)).size).toBe(AZS.length);
    expect(natRoutes.every(([, r]) => r.nat_gateway_id === `\${aws_nat_gateway.${nats[0][0]}.id}`)).toBe(true);
  });

  test('flowLogs off: no flow log, log group or flow-log role', () => {
    const { json } = build({ flowLogs: false });
    for (const type of ['aws_flow_log', 'aws_cloudwatch_log_group', 'aws_iam_role', 'aws_iam_role_policy']) expect(resources(json, type)).toEqual([]);
  });

  test('logRetentionDays reaches the flow-log group', () => {
    expect(single(build({ logRetentionDays: 30 }).json, 'aws_cloudwatch_log_group').retention_in_days).toBe(30);
  });

  test('two AZs with a /20 VPC give /24 subnets', () => {
    const { json } = build({ cidrBlock: '10.0.16.0/20', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
    expect(subnetsByTier(json, 'data').map(([, s]) => s.cidr_block)).toEqual(['10.0.24.0/24', '10.0.25.0/24']);
    expect(resources(json, 'aws_nat_gateway')).toHaveLength(2);
  });
});
