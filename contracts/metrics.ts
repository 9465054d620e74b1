/**
 * The application's own metrics: what the functions write as Embedded Metric Format in their request log
 * line (functions/lib/metrics.ts) and what the alarms and the dashboard read (components/monitoring/).
 * Every metric carries the `service` dimension (the function's name); request metrics also carry
 * `[service, route, statusClass]`. No dimension ever carries an unbounded value such as a tenant id: each
 * distinct value is a separate metric, billed and kept.
 */

/** The CloudWatch namespace of every function's own metrics (POWERTOOLS_METRICS_NAMESPACE). */
export const APP_METRICS_NAMESPACE = 'hits';

/** Why the database was unavailable to a request: each answers 503 with Retry-After. */
export const DB_UNAVAILABLE_REASONS = ['saturated', 'unreachable', 'deadline'] as const;
export type DbUnavailableReason = (typeof DB_UNAVAILABLE_REASONS)[number];

/**
 * The `route` dimension value of the tenants function's requests (`GET /tenants/{tenantId}/items`), under
 * which its alarms and dashboard read `Requests` by status class.
 */
export const TENANTS_ROUTE_METRIC = 'items';

/** Metric names. A reason is part of the name, not a dimension, so it does not multiply the other metrics. */
export const METRIC = {
  requests: 'Requests',
  latency: 'Latency',
  dbTime: 'DbTime',
  cacheHit: 'CacheHit',
  cacheMiss: 'CacheMiss',
  cacheBypass: 'CacheBypass',
  dbUnavailable: { saturated: 'DbUnavailableSaturated', unreachable: 'DbUnavailableUnreachable', deadline: 'DbUnavailableDeadline' } satisfies Record<DbUnavailableReason, string>,
  pruned: 'PrunedRows',
  pruneBatches: 'PruneBatches',
  /** Tenants route: AssumeRole calls made (cache misses), and those that failed, by reason. */
  stsCalls: 'StsCalls',
  stsErrors: { throttled: 'StsThrottled', denied: 'StsDenied', unavailable: 'StsUnavailable' },
  /** Tenants route: per-tenant pools opened, closed to make room (evicted), and requests refused because every pool was busy at the bound. */
  poolsOpened: 'PoolsOpened',
  poolsEvicted: 'PoolsEvicted',
  poolsRefused: 'PoolsRefused',
  /** Tenants route: logins the database refused (expired token, changed plugin, revoked grant), before or after the one fresh retry. */
  loginFailures: 'LoginFailures',
} as const;
