import { TerraformOutput, TerraformStack, Testing, Token } from 'cdktf';
import { MEMCACHED_PORT, MemcachedCluster, MemcachedClusterProps } from '../../modules/memcached-cluster';
import { resources, single, StackJson } from '../support/synth';

const BASE: MemcachedClusterProps = { name: 'hits-test', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'], availabilityZones: ['eu-west-1a', 'eu-west-1b'] };

function build(props: Partial<MemcachedClusterProps> = {}, extra?: (cache: MemcachedCluster, stack: TerraformStack) => void): { cache: MemcachedCluster; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const cache = new MemcachedCluster(stack, 'memcached', { ...BASE, ...props });
  extra?.(cache, stack);
  return { cache, json: JSON.parse(Testing.synth(stack)) };
}

const construct = (props: Partial<MemcachedClusterProps>) => () =>
  new MemcachedCluster(new TerraformStack(Testing.app(), 'test'), 'memcached', { ...BASE, ...props } as MemcachedClusterProps);
const sgRef = (json: StackJson) => `\${aws_security_group.${resources(json, 'aws_security_group')[0][0]}.id}`;

describe('MemcachedCluster props validation names the field', () => {
  test.each<[string, Partial<MemcachedClusterProps>, RegExp]>([
    ['empty name', { name: '' }, /MemcachedCluster: name/],
    ['upper-case name', { name: 'Hits' }, /name.*lowercase/],
    ['41-character name', { name: 'a'.repeat(41) }, /name/],
    ['name ending with a dash', { name: 'hits-' }, /name/],
    ['empty vpcId', { vpcId: '' }, /vpcId/],
    ['one subnet', { subnetIds: ['subnet-a'] }, /subnetIds.*at least 2/],
    ['one AZ', { availabilityZones: ['eu-west-1a'] }, /availabilityZones.*at least 2/],
    ['one node', { numCacheNodes: 1 }, /numCacheNodes.*2 to 40.*got 1/],
    ['41 nodes', { numCacheNodes: 41 }, /numCacheNodes/],
    ['memcached 1.5', { engineVersion: '1.5.16' }, /engineVersion.*1\.6\.x/],
    ['1.6.6 with TLS', { engineVersion: '1.6.6' }, /engineVersion.*1\.6\.12 or later/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });

  test('1.6.6 is accepted once TLS in transit is off (the version floor is for TLS)', () => {
    expect(construct({ engineVersion: '1.6.6', transitEncryption: false })).not.toThrow();
  });
});

describe('MemcachedCluster defaults (per its props doc comments)', () => {
  const { cache, json } = build();
  const cluster = single(json, 'aws_elasticache_cluster');

  test('memcached 1.6.22, 2 × cache.t4g.micro, cross-AZ, TLS in transit, port 11211', () => {
    expect(cluster).toMatchObject({
      cluster_id: 'hits-test',
      engine: 'memcached',
      engine_version: '1.6.22',
      node_type: 'cache.t4g.micro',
      num_cache_nodes: 2,
      az_mode: 'cross-az',
      transit_encryption_enabled: true,
      port: 11211,
      preferred_availability_zones: ['eu-west-1a', 'eu-west-1b'],
    });
  });

  test('in the given subnets, behind its own described group with no client rules by default', () => {
    const [subnetGroupName, subnetGroup] = resources(json, 'aws_elasticache_subnet_group')[0];
    expect(subnetGroup.subnet_ids).toEqual(['subnet-a', 'subnet-b']);
    expect(cluster.subnet_group_name).toBe(`\${aws_elasticache_subnet_group.${subnetGroupName}.name}`);
    expect(cluster.security_group_ids).toEqual([sgRef(json)]);
    expect(single(json, 'aws_security_group').description).toMatch(/\S/);
    expect(resources(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    expect(resources(json, 'aws_vpc_security_group_egress_rule')).toEqual([]);
  });

  test('typed attributes: nodeEndpoints and ids are tokens, port and TLS flag literal', () => {
    for (const token of [cache.nodeEndpoints, cache.clusterId, cache.securityGroupId]) {
      expect(typeof token).toBe('string');
      expect(Token.isUnresolved(token)).toBe(true);
    }
    expect(cache.port).toBe(MEMCACHED_PORT);
    expect(MEMCACHED_PORT).toBe(11211);
    expect(cache.transitEncryption).toBe(true);
  });

  test('nodeEndpoints is a comma-joined host:port list over the cluster cache_nodes', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const c = new MemcachedCluster(stack, 'memcached', BASE);
    new TerraformOutput(stack, 'nodes', { value: c.nodeEndpoints });
    const out: StackJson = JSON.parse(Testing.synth(stack));
    const local = /^\$\{local\.([^}]+)\}$/.exec(out.output!.nodes.value)![1];
    const [clusterName] = resources(out, 'aws_elasticache_cluster')[0];
    // A for expression straight over the list: node order, and the same text under either engine.
    expect(out.locals![local]).toBe(`\${join(",", [ for key, val in aws_elasticache_cluster.${clusterName}.cache_nodes: "\${val.address}:\${val.port}"])}`);
  });
});

describe('MemcachedCluster options and helpers', () => {
  test('nodes are spread round robin over the AZs', () => {
    const cluster = single(build({ numCacheNodes: 5, availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'], subnetIds: ['a', 'b', 'c'] }).json, 'aws_elasticache_cluster');
    expect(cluster.num_cache_nodes).toBe(5);
    expect(cluster.preferred_availability_zones).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c', 'eu-west-1a', 'eu-west-1b']);
  });

  test('transitEncryption false is passed through', () => {
    const { cache, json } = build({ transitEncryption: false });
    expect(single(json, 'aws_elasticache_cluster').transit_encryption_enabled).toBe(false);
    expect(cache.transitEncryption).toBe(false);
  });

  test('allowConnectionsFrom writes an ingress + egress pair on 11211, by group reference', () => {
    const { json } = build({}, (cache) => cache.allowConnectionsFrom('sg-app', 'app'));
    const cacheSg = sgRef(json);
    expect(resources(json, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r)).toEqual([
      expect.objectContaining({ security_group_id: cacheSg, referenced_security_group_id: 'sg-app', ip_protocol: 'tcp', from_port: 11211, to_port: 11211, description: expect.stringMatching(/\S/) }),
    ]);
    expect(resources(json, 'aws_vpc_security_group_egress_rule').map(([, r]) => r)).toEqual([
      expect.objectContaining({ security_group_id: 'sg-app', referenced_security_group_id: cacheSg, ip_protocol: 'tcp', from_port: 11211, to_port: 11211, description: expect.stringMatching(/\S/) }),
    ]);
  });

  test('allowConnectionsFrom with a scope: the pair in the scope\'s stack, on this group read across stacks; none in the cache\'s stack', () => {
    const app = Testing.app();
    const data = new TerraformStack(app, 'data');
    const api = new TerraformStack(app, 'api');
    const cache = new MemcachedCluster(data, 'memcached', BASE);
    cache.allowConnectionsFrom('sg-client', 'client-rules', 'A later client', api);
    for (const stack of [data, api]) stack.prepareStack();
    const dataJson: StackJson = JSON.parse(Testing.synth(data));
    const apiJson: StackJson = JSON.parse(Testing.synth(api));
    for (const direction of ['ingress', 'egress']) expect(resources(dataJson, `aws_vpc_security_group_${direction}_rule`)).toEqual([]);
    const [[ingressName, ingress]] = resources(apiJson, 'aws_vpc_security_group_ingress_rule');
    const [[, egress]] = resources(apiJson, 'aws_vpc_security_group_egress_rule');
    expect(ingressName).toMatch(/^ingress-client-rules/);
    const cacheGroup = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-data\.outputs\.([^}]+)\}$/.exec(ingress.security_group_id)!;
    expect(dataJson.output?.[cacheGroup[1]].value).toBe(sgRef(dataJson));
    expect(ingress).toMatchObject({ referenced_security_group_id: 'sg-client', from_port: 11211, to_port: 11211, description: 'A later client to the memcached nodes on 11211' });
    expect(egress).toMatchObject({ security_group_id: 'sg-client', referenced_security_group_id: ingress.security_group_id, from_port: 11211, to_port: 11211 });
  });

  test('clientSecurityGroupIds opens one pair per client group and nothing by CIDR', () => {
    const { json } = build({ clientSecurityGroupIds: ['sg-one', 'sg-two'] });
    const rules = [...resources(json, 'aws_vpc_security_group_ingress_rule'), ...resources(json, 'aws_vpc_security_group_egress_rule')].map(([, r]) => r);
    expect(rules).toHaveLength(4);
    expect(rules.every((r) => r.cidr_ipv4 === undefined && r.cidr_ipv6 === undefined && r.referenced_security_group_id)).toBe(true);
  });
});
