/**
 * Which attribute changes make Terraform destroy and re-create a resource instead of updating it.
 *
 * One entry per resource type the stacks synthesize (a test synthesizes every profile and fails on a type
 * without an entry). `forceNew` lists attribute paths without list indexes (`vpc_config.subnet_ids`); a change
 * at or below one of them is a replacement. `when` covers replacements that depend on values, which the
 * provider decides in a CustomizeDiff rather than with a plain ForceNew flag.
 *
 * Sources: the AWS provider's resource schemas (hashicorp/terraform-provider-aws, v6.25.0, the version
 * @cdktf/provider-aws 21.22.1 binds; `ForceNew: true` in SDKv2 schemas, `RequiresReplace()` plan modifiers in
 * framework resources) and the Terraform Registry pages, whose argument lists say "Forces new resource".
 * `terraform plan` remains the authority: the synth review is an early warning, `npm run plan` the proof.
 */

export interface ConditionalReplacement {
  readonly path: string;
  /** Why this value change forces a new resource, shown to the reviewer. */
  readonly why: string;
  readonly forcesNew: (before: unknown, after: unknown, resourceBefore: Record<string, unknown>, resourceAfter: Record<string, unknown>) => boolean;
}

export interface ReplacementEntry {
  readonly forceNew: readonly string[];
  readonly when?: readonly ConditionalReplacement[];
  /** Where the list comes from: provider source file and/or Registry page. */
  readonly source: string;
}

const provider = (file: string, doc: string) =>
  `terraform-provider-aws v6.25.0 ${file}; https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/${doc}`;

/** Compares dotted numeric versions (`1.6.22` < `1.6.6` is false). Non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export const REPLACEMENT_ATTRIBUTES: Readonly<Record<string, ReplacementEntry>> = {
  // --- network
  aws_vpc: {
    forceNew: ['cidr_block', 'ipv4_ipam_pool_id', 'ipv4_netmask_length'],
    source: provider('internal/service/ec2/vpc_.go', 'vpc'),
  },
  aws_subnet: {
    forceNew: ['vpc_id', 'cidr_block', 'availability_zone', 'availability_zone_id', 'outpost_arn'],
    source: provider('internal/service/ec2/vpc_subnet.go', 'subnet'),
  },
  aws_internet_gateway: {
    // vpc_id is updatable: the provider detaches and re-attaches the same gateway.
    forceNew: [],
    source: provider('internal/service/ec2/vpc_internet_gateway.go', 'internet_gateway'),
  },
  aws_eip: {
    forceNew: ['address', 'customer_owned_ipv4_pool', 'domain', 'ipam_pool_id', 'network_border_group', 'public_ipv4_pool'],
    source: provider('internal/service/ec2/ec2_eip.go', 'eip'),
  },
  aws_nat_gateway: {
    forceNew: ['allocation_id', 'subnet_id', 'connectivity_type', 'private_ip'],
    source: provider('internal/service/ec2/vpc_nat_gateway.go', 'nat_gateway'),
  },
  aws_route_table: {
    forceNew: ['vpc_id'],
    source: provider('internal/service/ec2/vpc_route_table.go', 'route_table'),
  },
  aws_route: {
    // The target (nat_gateway_id, gateway_id, …) is updated with ReplaceRoute; the destination is the identity.
    forceNew: ['route_table_id', 'destination_cidr_block', 'destination_ipv6_cidr_block', 'destination_prefix_list_id'],
    source: provider('internal/service/ec2/vpc_route.go', 'route'),
  },
  aws_route_table_association: {
    // route_table_id is updatable (ReplaceRouteTableAssociation).
    forceNew: ['subnet_id', 'gateway_id'],
    source: provider('internal/service/ec2/vpc_route_table_association.go', 'route_table_association'),
  },
  aws_flow_log: {
    // The resource has no update besides tags: every argument is ForceNew.
    forceNew: [
      'vpc_id', 'subnet_id', 'eni_id', 'transit_gateway_id', 'transit_gateway_attachment_id', 'traffic_type',
      'log_destination', 'log_destination_type', 'log_format', 'iam_role_arn', 'deliver_cross_account_role',
      'max_aggregation_interval', 'destination_options',
    ],
    source: provider('internal/service/ec2/vpc_flow_log.go', 'flow_log'),
  },
  aws_security_group: {
    // A changed description replaces the group: AWS has no API to edit it.
    forceNew: ['name', 'name_prefix', 'description', 'vpc_id'],
    source: provider('internal/service/ec2/vpc_security_group.go', 'security_group'),
  },
  aws_default_security_group: {
    forceNew: ['vpc_id'],
    source: provider('internal/service/ec2/vpc_default_security_group.go', 'default_security_group'),
  },
  aws_vpc_security_group_ingress_rule: {
    // Framework resource: only the group is RequiresReplace; the rest is ModifySecurityGroupRules.
    forceNew: ['security_group_id'],
    source: provider('internal/service/ec2/vpc_security_group_ingress_rule.go', 'vpc_security_group_ingress_rule'),
  },
  aws_vpc_security_group_egress_rule: {
    forceNew: ['security_group_id'],
    source: provider('internal/service/ec2/vpc_security_group_egress_rule.go', 'vpc_security_group_egress_rule'),
  },

  // --- data
  aws_db_instance: {
    // Checked against the schema in instance.go. Not identifier (renamed in place since provider 5.0), not
    // instance_class, not engine_version upgrades; s3_import's fields are each ForceNew.
    forceNew: [
      'engine', 'kms_key_id', 'storage_encrypted', 'db_name', 'username', 'availability_zone', 'backup_target',
      'character_set_name', 'nchar_character_set_name', 'timezone', 'snapshot_identifier', 'restore_to_point_in_time',
      's3_import', 'custom_iam_instance_profile',
    ],
    source: provider('internal/service/rds/instance.go', 'db_instance'),
  },
  aws_db_parameter_group: {
    forceNew: ['name', 'name_prefix', 'family', 'description'],
    source: provider('internal/service/rds/parameter_group.go', 'db_parameter_group'),
  },
  aws_db_subnet_group: {
    forceNew: ['name', 'name_prefix'],
    source: provider('internal/service/rds/subnet_group.go', 'db_subnet_group'),
  },
  aws_db_proxy: {
    // Not name: the provider renames a proxy in place (new_name).
    forceNew: ['engine_family', 'vpc_subnet_ids'],
    source: provider('internal/service/rds/proxy.go', 'db_proxy'),
  },
  aws_db_proxy_default_target_group: {
    forceNew: ['db_proxy_name'],
    source: provider('internal/service/rds/proxy_default_target_group.go', 'db_proxy_default_target_group'),
  },
  aws_db_proxy_target: {
    // No update function: every argument is ForceNew.
    forceNew: ['db_proxy_name', 'target_group_name', 'db_instance_identifier', 'db_cluster_identifier'],
    source: provider('internal/service/rds/proxy_target.go', 'db_proxy_target'),
  },
  aws_db_event_subscription: {
    forceNew: ['name', 'name_prefix'],
    source: provider('internal/service/rds/event_subscription.go', 'db_event_subscription'),
  },
  aws_elasticache_subnet_group: {
    forceNew: ['name'],
    source: provider('internal/service/elasticache/subnet_group.go', 'elasticache_subnet_group'),
  },
  aws_elasticache_cluster: {
    forceNew: [
      'cluster_id', 'engine', 'port', 'subnet_group_name', 'transit_encryption_enabled', 'availability_zone',
      'replication_group_id', 'snapshot_arns', 'snapshot_name', 'outpost_mode', 'preferred_outpost_arn', 'network_type',
    ],
    when: [
      {
        path: 'node_type',
        why: 'memcached clusters cannot change node type in place',
        forcesNew: (_b, _a, before, after) => (after.engine ?? before.engine) === 'memcached',
      },
      {
        path: 'engine_version',
        why: 'an engine version downgrade needs a new cluster',
        forcesNew: (b, a) => typeof b === 'string' && typeof a === 'string' && compareVersions(a, b) < 0,
      },
    ],
    source: provider('internal/service/elasticache/cluster.go (CustomizeDiff: node_type for memcached, engine_version downgrade)', 'elasticache_cluster'),
  },
  aws_secretsmanager_secret: {
    forceNew: ['name', 'name_prefix'],
    source: provider('internal/service/secretsmanager/secret.go', 'secretsmanager_secret'),
  },
  aws_kms_key: {
    forceNew: ['customer_master_key_spec', 'key_usage', 'multi_region', 'custom_key_store_id', 'xks_key_id'],
    source: provider('internal/service/kms/key.go', 'kms_key'),
  },
  aws_kms_alias: {
    // target_key_id is updatable (UpdateAlias).
    forceNew: ['name', 'name_prefix'],
    source: provider('internal/service/kms/alias.go', 'kms_alias'),
  },

  // --- api and function
  aws_iam_role: {
    forceNew: ['name', 'name_prefix', 'path'],
    source: provider('internal/service/iam/role.go', 'iam_role'),
  },
  aws_iam_role_policy: {
    forceNew: ['name', 'name_prefix', 'role'],
    source: provider('internal/service/iam/role_policy.go', 'iam_role_policy'),
  },
  aws_iam_role_policy_attachment: {
    forceNew: ['role', 'policy_arn'],
    source: provider('internal/service/iam/role_policy_attachment.go', 'iam_role_policy_attachment'),
  },
  aws_iam_policy: {
    forceNew: ['name', 'name_prefix', 'path', 'description'],
    source: provider('internal/service/iam/policy.go', 'iam_policy'),
  },
  aws_cloudwatch_log_group: {
    forceNew: ['name', 'name_prefix', 'log_group_class'],
    source: provider('internal/service/logs/group.go', 'cloudwatch_log_group'),
  },
  aws_lambda_function: {
    forceNew: ['function_name', 'package_type'],
    source: provider('internal/service/lambda/function.go', 'lambda_function'),
  },
  aws_lambda_permission: {
    // No update function: every argument is ForceNew.
    forceNew: [
      'action', 'event_source_token', 'function_name', 'function_url_auth_type', 'principal', 'principal_org_id',
      'qualifier', 'source_account', 'source_arn', 'statement_id', 'statement_id_prefix',
    ],
    source: provider('internal/service/lambda/permission.go', 'lambda_permission'),
  },
  aws_lambda_invocation: {
    // input is updatable (it re-invokes with lifecycle_scope CRUD); triggers re-invoke by replacement.
    forceNew: ['function_name', 'qualifier', 'triggers'],
    source: provider('internal/service/lambda/invocation.go', 'lambda_invocation'),
  },
  aws_apigatewayv2_api: {
    forceNew: ['protocol_type'],
    source: provider('internal/service/apigatewayv2/api.go', 'apigatewayv2_api'),
  },
  aws_apigatewayv2_integration: {
    forceNew: ['api_id', 'integration_type'],
    source: provider('internal/service/apigatewayv2/integration.go', 'apigatewayv2_integration'),
  },
  aws_apigatewayv2_route: {
    forceNew: ['api_id'],
    source: provider('internal/service/apigatewayv2/route.go', 'apigatewayv2_route'),
  },
  aws_apigatewayv2_stage: {
    forceNew: ['api_id', 'name'],
    source: provider('internal/service/apigatewayv2/stage.go', 'apigatewayv2_stage'),
  },

  // --- operations
  aws_cloudwatch_metric_alarm: {
    forceNew: ['alarm_name'],
    source: provider('internal/service/cloudwatch/metric_alarm.go', 'cloudwatch_metric_alarm'),
  },
  aws_cloudwatch_dashboard: {
    forceNew: ['dashboard_name'],
    source: provider('internal/service/cloudwatch/dashboard.go', 'cloudwatch_dashboard'),
  },
  aws_sns_topic: {
    forceNew: ['name', 'name_prefix', 'fifo_topic'],
    source: provider('internal/service/sns/topic.go', 'sns_topic'),
  },
  aws_sns_topic_subscription: {
    forceNew: ['topic_arn', 'protocol', 'endpoint', 'endpoint_auto_confirms', 'confirmation_timeout_in_minutes'],
    source: provider('internal/service/sns/topic_subscription.go', 'sns_topic_subscription'),
  },
  aws_sns_topic_policy: {
    forceNew: ['arn'],
    source: provider('internal/service/sns/topic_policy.go', 'sns_topic_policy'),
  },
  aws_scheduler_schedule: {
    forceNew: ['name', 'name_prefix', 'group_name'],
    source: provider('internal/service/scheduler/schedule.go', 'scheduler_schedule'),
  },

  // Types the stacks may grow into (migrations, log routing, scheduling): listed ahead so a new one is covered.
  aws_secretsmanager_secret_version: {
    // Only version_stages is updated in place; new content is a new version, which Terraform plans as a replace.
    forceNew: ['secret_id', 'secret_string', 'secret_binary'],
    source: provider('internal/service/secretsmanager/secret_version.go', 'secretsmanager_secret_version'),
  },
  aws_kms_key_policy: {
    forceNew: ['key_id'],
    source: provider('internal/service/kms/key_policy.go', 'kms_key_policy'),
  },
  aws_cloudwatch_log_metric_filter: {
    forceNew: ['name', 'log_group_name'],
    source: provider('internal/service/logs/metric_filter.go', 'cloudwatch_log_metric_filter'),
  },
  aws_cloudwatch_log_resource_policy: {
    forceNew: ['policy_name'],
    source: provider('internal/service/logs/resource_policy.go', 'cloudwatch_log_resource_policy'),
  },
  aws_cloudwatch_event_rule: {
    forceNew: ['name', 'name_prefix', 'event_bus_name'],
    source: provider('internal/service/events/rule.go', 'cloudwatch_event_rule'),
  },
  aws_cloudwatch_event_target: {
    forceNew: ['rule', 'target_id', 'event_bus_name'],
    source: provider('internal/service/events/target.go', 'cloudwatch_event_target'),
  },
  aws_scheduler_schedule_group: {
    forceNew: ['name', 'name_prefix'],
    source: provider('internal/service/scheduler/schedule_group.go', 'scheduler_schedule_group'),
  },

  // --- Terraform's builtin provider (the review's own test fixture)
  terraform_data: {
    forceNew: ['triggers_replace'],
    source: 'Terraform 1.11 builtin provider; https://developer.hashicorp.com/terraform/language/resources/terraform-data (triggers_replace: "will force replacement when the value changes")',
  },
};

/** The attribute paths of `changed` that force a new `type`, with the reason for conditional ones. */
export function forcedReplacements(
  type: string,
  changed: readonly string[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { paths: string[]; reasons: string[] } | undefined {
  const entry = REPLACEMENT_ATTRIBUTES[type];
  if (!entry) return undefined;
  const paths: string[] = [];
  const reasons: string[] = [];
  for (const p of changed) {
    const plain = stripIndexes(p);
    if (entry.forceNew.some((f) => plain === f || plain.startsWith(`${f}.`))) paths.push(p);
    for (const c of entry.when ?? []) {
      if (plain === c.path && c.forcesNew(before[c.path], after[c.path], before, after)) {
        paths.push(p);
        reasons.push(`${c.path}: ${c.why}`);
      }
    }
  }
  return { paths: [...new Set(paths)], reasons };
}

/** `ingress[0].from_port` → `ingress.from_port`: the table names attributes, not list positions. */
export function stripIndexes(attributePath: string): string {
  return attributePath.replace(/\[[^\]]*\]/g, '');
}
