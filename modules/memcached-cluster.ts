import { Construct } from 'constructs';
import { Fn, forExpression, TerraformLocal, Token } from 'cdktf';
import { ElasticacheCluster } from '@cdktf/provider-aws/lib/elasticache-cluster';
import { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { metric, type Metric, type MetricOptions } from './metric';
import { allowTcp } from './security-groups';
import { PropsError, requireIntIn, requireNonEmpty, requireNonEmptyList } from './validation';

export interface MemcachedClusterProps {
  /** Cluster id and prefix of related names (e.g. `hits-dev`); at most 40 characters. Required. */
  readonly name: string;
  /** VPC of the cache's security group. Required. */
  readonly vpcId: string;
  /** Subnets of the nodes (the data subnets), at least two AZs. Required. */
  readonly subnetIds: readonly string[];
  /** AZs the nodes are spread over, round robin, in node order (`preferred_availability_zones`). Required. */
  readonly availabilityZones: readonly string[];
  /** Security groups whose members may reach port 11211. @default [] */
  readonly clientSecurityGroupIds?: readonly string[];
  /** Memcached version; 1.6.12 or later for TLS in transit. @default '1.6.22' */
  readonly engineVersion?: string;
  /** Node type. @default 'cache.t4g.micro' */
  readonly nodeType?: string;
  /** Number of nodes, 2 to 40 (spread across AZs, so losing an AZ loses part of the cache, not all). @default 2 */
  readonly numCacheNodes?: number;
  /** TLS in transit (`transit_encryption_enabled`); clients must then speak TLS. @default true */
  readonly transitEncryption?: boolean;
}

const MODULE = 'MemcachedCluster';
export const MEMCACHED_PORT = 11211;

/** An ElastiCache memcached cluster with nodes across AZs, TLS in transit, reachable only from given security groups. */
export class MemcachedCluster extends Construct {
  readonly clusterId: string;
  readonly securityGroupId: string;
  readonly port = MEMCACHED_PORT;
  readonly transitEncryption: boolean;
  /** Comma-separated `host:port` of every node, in node order: the function's `CACHE_NODES`. */
  readonly nodeEndpoints: string;
  readonly numCacheNodes: number;
  private readonly cluster: ElasticacheCluster;

  constructor(scope: Construct, id: string, props: MemcachedClusterProps) {
    super(scope, id);
    const engineVersion = props.engineVersion ?? '1.6.22';
    const nodes = props.numCacheNodes ?? 2;
    const tls = props.transitEncryption ?? true;
    requireNonEmpty(MODULE, 'name', props.name);
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(props.name) || props.name.endsWith('-') || props.name.includes('--')) {
      throw new PropsError(MODULE, 'name', `must be 1-40 lowercase letters, digits or single dashes starting with a letter, got "${props.name}"`);
    }
    requireNonEmpty(MODULE, 'vpcId', props.vpcId);
    requireNonEmptyList(MODULE, 'subnetIds', props.subnetIds, 2);
    requireNonEmptyList(MODULE, 'availabilityZones', props.availabilityZones, 2);
    requireIntIn(MODULE, 'numCacheNodes', nodes, 2, 40);
    const v = /^1\.6\.(\d+)$/.exec(engineVersion);
    if (!v) throw new PropsError(MODULE, 'engineVersion', `must be a memcached 1.6.x version, got "${engineVersion}"`);
    if (tls && Number(v[1]) < 12) throw new PropsError(MODULE, 'engineVersion', `must be 1.6.12 or later when transitEncryption is on, got "${engineVersion}"`);

    const name = props.name;
    const securityGroup = new SecurityGroup(this, 'security-group', {
      namePrefix: `${name}-memcached-`,
      description: `ElastiCache memcached ${name}: port ${MEMCACHED_PORT} from clients only`,
      vpcId: props.vpcId,
      tags: { Name: `${name}-memcached` },
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = securityGroup.id;
    (props.clientSecurityGroupIds ?? []).forEach((client, i) => this.allowConnectionsFrom(client, `client-${i}`));

    const subnetGroup = new ElasticacheSubnetGroup(this, 'subnet-group', {
      name: `${name}-memcached`,
      description: `Data subnets of ${name}`,
      subnetIds: [...props.subnetIds],
    });

    const azs = props.availabilityZones;
    const cluster = new ElasticacheCluster(this, 'cluster', {
      clusterId: name,
      engine: 'memcached',
      engineVersion,
      nodeType: props.nodeType ?? 'cache.t4g.micro',
      numCacheNodes: nodes,
      azMode: 'cross-az',
      preferredAvailabilityZones: Array.from({ length: nodes }, (_, i) => azs[i % azs.length]),
      port: MEMCACHED_PORT,
      parameterGroupName: 'default.memcached1.6',
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [securityGroup.id],
      transitEncryptionEnabled: tls,
      tags: { Name: name },
    });
    this.clusterId = cluster.clusterId;
    this.cluster = cluster;
    this.numCacheNodes = nodes;
    this.transitEncryption = tls;
    // A plain for expression over the list, in node order. Not TerraformIterator.fromComplexList: cdktf 0.21
    // first turns the list into a map keyed by node id and CDK Terrain does not, so the two engines would
    // write different text for the same value.
    const endpoints = forExpression(cluster.cacheNodes, '"${val.address}:${val.port}"');
    this.nodeEndpoints = new TerraformLocal(this, 'node-endpoints', Fn.join(',', Token.asList(endpoints))).asString;
  }

  /**
   * One metric per node in `AWS/ElastiCache` (dimensions `CacheClusterId`, `CacheNodeId`): memcached
   * metrics are per node. Node ids come from the cluster's `cache_nodes`, so they always name real nodes.
   */
  metricPerNode(metricName: 'CPUUtilization' | 'Evictions' | 'CurrConnections' | 'GetHits' | 'GetMisses' | 'FreeableMemory', statistic: Metric['statistic'], options: MetricOptions = {}): Metric[] {
    return Array.from({ length: this.numCacheNodes }, (_, i) =>
      metric('AWS/ElastiCache', metricName, { CacheClusterId: this.clusterId, CacheNodeId: this.cluster.cacheNodes.get(i).id }, { statistic }, { label: `${metricName} node ${i + 1}`, ...options }),
    );
  }

  /**
   * Opens port 11211 to members of `clientSecurityGroupId` (ingress on the cache's group, egress on the
   * client's), by group reference. `id` names the pair of rules, unique in `scope`; the ingress rule is
   * described as from `clientDescription`. `scope`: where the rules are created (see `allowTcp`).
   * @default clientDescription 'Clients'; scope this construct, in the cache's stack
   */
  allowConnectionsFrom(clientSecurityGroupId: string, id: string, clientDescription?: string, scope: Construct = this): void {
    allowTcp(scope, id, { securityGroupId: this.securityGroupId, clientSecurityGroupId, port: MEMCACHED_PORT, serverDescription: 'the memcached nodes', clientDescription });
  }
}
