import { ChangeAction, Risk } from '../types';
import { stripIndexes } from './replacement-attributes';

/** Types whose replacement or deletion loses data or history: rows, cached state, secrets, logs, keys. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  'aws_db_instance', 'aws_rds_cluster', 'aws_db_snapshot', 'aws_elasticache_cluster', 'aws_elasticache_replication_group',
  'aws_secretsmanager_secret', 'aws_secretsmanager_secret_version', 'aws_cloudwatch_log_group', 'aws_kms_key',
  'aws_s3_bucket', 'aws_dynamodb_table',
]);

/** Types that are access control in themselves: any change to them is a security change. */
const SECURITY_TYPES = /^aws_(iam_|security_group|default_security_group|vpc_security_group_|lambda_permission|kms_|sns_topic_policy|secretsmanager_secret_policy)/;

/** Attribute names that carry TLS, authentication, encryption or exposure settings. */
const SECURITY_ATTRIBUTES = /(^|[._])(iam|auth|tls|ssl|encrypt\w*|kms_key\w*|require_tls|transit_encryption\w*|publicly_accessible|policy|assume_role_policy|require_secure_transport|source_arn|principal|default_auth_scheme|authorization_type|map_public_ip_on_launch)($|[._])/i;

/** Values that name TLS or authentication settings inside generic blocks (a parameter group's `parameter`). */
const SECURITY_VALUES = /require_secure_transport|tls_version|ssl|auth/;

const AVAILABILITY_ATTRIBUTES = /(^|[._])(multi_az|deletion_protection|skip_final_snapshot|reserved_concurrent_executions|az_mode|preferred_availability_zones|availability_zone|backup_retention_period|nat_gateway_id)($|[._])/;

const COST_ATTRIBUTES = /(^|[._])(instance_class|node_type|num_cache_nodes|allocated_storage|max_allocated_storage|storage_type|iops|storage_throughput|memory_size|performance_insights_\w+|database_insights_mode|monitoring_interval|retention_in_days)($|[._])/;

/** Resources that cost by the hour whatever their settings: adding or removing one is a cost and layout change. */
const HOURLY_TYPES = new Set(['aws_nat_gateway', 'aws_eip', 'aws_db_instance', 'aws_elasticache_cluster', 'aws_db_proxy', 'aws_kms_key']);

/**
 * Risks of one change. Creates and deletes are judged by type; updates and replacements also by the
 * attributes that changed (and, for generic blocks, by what the changed values name).
 */
export function risksOf(type: string, action: ChangeAction, attributes: readonly string[], changedValues: readonly unknown[] = []): Risk[] {
  const risks = new Set<Risk>();
  const plain = attributes.map(stripIndexes);
  if ((action === 'replace' || action === 'delete') && STATEFUL_TYPES.has(type)) risks.add('data-loss');
  if (SECURITY_TYPES.test(type)) risks.add('security');
  if (action !== 'create' && action !== 'delete') {
    if (plain.some((p) => SECURITY_ATTRIBUTES.test(p))) risks.add('security');
    if (changedValues.some((v) => v !== undefined && SECURITY_VALUES.test(JSON.stringify(v)))) risks.add('security');
    if (plain.some((p) => AVAILABILITY_ATTRIBUTES.test(p))) risks.add('availability');
    if (plain.some((p) => COST_ATTRIBUTES.test(p))) risks.add('cost');
  }
  // A replacement swaps one for another at the same price; only adding or removing one changes the bill.
  if (HOURLY_TYPES.has(type) && (action === 'create' || action === 'delete')) risks.add('cost');
  if (type === 'aws_nat_gateway' && action !== 'update') risks.add('availability');
  if (type === 'aws_apigatewayv2_stage' || type === 'aws_lambda_function_url') {
    if (action === 'create' || plain.some((p) => /throttl|access_log/.test(p))) risks.add('security');
  }
  const order: Risk[] = ['data-loss', 'security', 'availability', 'cost'];
  return order.filter((r) => risks.has(r));
}

/** A stateful resource replaced or deleted: the red line of the review and the apply guard. */
export function isDestructive(change: { type: string; action: ChangeAction; drift?: boolean }): boolean {
  return !change.drift && (change.action === 'replace' || change.action === 'delete') && STATEFUL_TYPES.has(change.type);
}
