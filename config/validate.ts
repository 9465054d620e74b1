import { SMALL_BURSTABLE } from '../modules/mysql-database';
import { API_INTEGRATION_TIMEOUT_LIMIT_SECONDS, declaredWaivers, LOG_RETENTION_DAYS, Profile } from './profile';
import { shapeProblems } from './schema';

/** A profile setting that cannot be deployed. The message names the field and what is allowed. */
export class ProfileError extends Error {
  constructor(
    readonly profile: string,
    readonly field: string,
    detail: string,
    separator: '' | ':' = '',
  ) {
    super(`profile "${profile}": ${field}${separator} ${detail}`);
    this.name = 'ProfileError';
  }
}

const NAME = /^[a-z][a-z0-9-]{0,15}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const DB_IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** Concurrent executions AWS keeps unreserved in every account and region (Lambda quotas). */
export const UNRESERVED_CONCURRENCY = 100;
/** Reserved concurrency of the prune function when the environment reserves concurrency: one run at a time. */
export const PRUNE_RESERVED_CONCURRENCY = 1;
const RESERVED_DB_USERS = ['admin', 'root', 'rdsadmin', 'rdsrepladmin', 'mysql.sys', 'mysql.session'];

function parseCidr(cidr: string): { prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return { prefix: Number(m[5]) };
}

function versionAtLeast(version: string, min: [number, number, number]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const v = parts[i] ?? 0;
    if (v !== min[i]) return v > min[i];
  }
  return true;
}

/**
 * Throws a ProfileError for the first setting that cannot be deployed; returns the profile unchanged otherwise.
 * Takes `unknown` on purpose: profiles are edited by hand and tsx runs them without a type check, so the
 * shape (unknown keys, misspellings, wrong types) is checked here before any value.
 */
export function validateProfile(input: unknown): Profile {
  const named = (input as { name?: unknown } | null)?.name;
  const profileName = typeof named === 'string' && named ? named : '(unnamed)';
  const [problem] = shapeProblems(input);
  if (problem) throw new ProfileError(profileName, problem.path, problem.detail, problem.detail.startsWith('unknown setting') ? ':' : '');
  const p = input as Profile;
  const fail = (field: string, detail: string): never => {
    throw new ProfileError(profileName, field, detail);
  };
  const intIn = (field: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) fail(field, `must be an integer from ${min} to ${max}, got ${value}`);
  };

  if (!p.name || !NAME.test(p.name)) fail('name', `must be 1-16 lowercase letters, digits or dashes starting with a letter, got "${p.name}"`);
  if (!p.project || !NAME.test(p.project)) fail('project', `must be 1-16 lowercase letters, digits or dashes starting with a letter, got "${p.project}"`);
  if (!REGION.test(p.region)) fail('region', `must be an AWS region such as "eu-west-1", got "${p.region}"`);
  if (!LOG_RETENTION_DAYS.includes(p.logRetentionDays)) fail('logRetentionDays', `must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${p.logRetentionDays}`);

  const n = p.network;
  const cidr = parseCidr(n.vpcCidr);
  if (!cidr || cidr.prefix < 16 || cidr.prefix > 20) fail('network.vpcCidr', `must be an IPv4 CIDR from /16 to /20, got "${n.vpcCidr}"`);
  intIn('network.azCount', n.azCount, 2, 4);

  const d = p.database;
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(d.instanceClass)) fail('database.instanceClass', `must look like "db.t4g.micro", got "${d.instanceClass}"`);
  intIn('database.allocatedStorageGb', d.allocatedStorageGb, 20, 65536);
  if (d.maxAllocatedStorageGb !== 0 && (!Number.isInteger(d.maxAllocatedStorageGb) || d.maxAllocatedStorageGb <= d.allocatedStorageGb || d.maxAllocatedStorageGb > 65536)) {
    fail('database.maxAllocatedStorageGb', `must be 0 (no autoscaling) or an integer above allocatedStorageGb (${d.allocatedStorageGb}) up to 65536, got ${d.maxAllocatedStorageGb}`);
  }
  intIn('database.backupRetentionDays', d.backupRetentionDays, 1, 35);
  if (d.performanceInsights && SMALL_BURSTABLE.test(d.instanceClass)) {
    fail('database.performanceInsights', `must be false on ${d.instanceClass}: AWS offers no Performance Insights on db.t*.micro and db.t*.small`);
  }
  if (!MONITORING_INTERVALS.includes(d.monitoringIntervalSeconds)) fail('database.monitoringIntervalSeconds', `must be one of ${MONITORING_INTERVALS.join(', ')}, got ${d.monitoringIntervalSeconds}`);
  if (!DB_IDENTIFIER.test(d.databaseName)) fail('database.databaseName', `must be 1-16 letters, digits or underscores starting with a letter, got "${d.databaseName}"`);
  if (!DB_IDENTIFIER.test(d.masterUsername) || RESERVED_DB_USERS.includes(d.masterUsername.toLowerCase())) {
    fail('database.masterUsername', `must be 1-16 letters, digits or underscores starting with a letter and not one of ${RESERVED_DB_USERS.join(', ')}, got "${d.masterUsername}"`);
  }
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(d.appUsername) || RESERVED_DB_USERS.includes(d.appUsername.toLowerCase())) {
    fail('database.appUsername', `must be 1-32 letters, digits or underscores starting with a letter and not one of ${RESERVED_DB_USERS.join(', ')}, got "${d.appUsername}"`);
  }
  if (d.appUsername.toLowerCase() === d.masterUsername.toLowerCase()) {
    fail('database.appUsername', `must differ from database.masterUsername ("${d.masterUsername}"): the application must not hold the master user's rights, got "${d.appUsername}"`);
  }
  if (d.deletionProtection && d.skipFinalSnapshot) fail('database.skipFinalSnapshot', 'must be false when deletionProtection is true (a protected database keeps its final snapshot)');

  const x = p.proxy;
  intIn('proxy.connectionBorrowTimeoutSeconds', x.connectionBorrowTimeoutSeconds, 1, 3600);
  intIn('proxy.maxConnectionsPercent', x.maxConnectionsPercent, 1, 100);
  intIn('proxy.maxIdleConnectionsPercent', x.maxIdleConnectionsPercent, 0, x.maxConnectionsPercent);
  intIn('proxy.idleClientTimeoutSeconds', x.idleClientTimeoutSeconds, 60, 28800);

  const c = p.cache;
  if (c.enabled) {
    if (!/^1\.6\.\d+$/.test(c.engineVersion) || !versionAtLeast(c.engineVersion, [1, 6, 12])) fail('cache.engineVersion', `must be memcached 1.6.12 or later (TLS in transit), e.g. "1.6.22", got "${c.engineVersion}"`);
    if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(c.nodeType)) fail('cache.nodeType', `must look like "cache.t4g.micro", got "${c.nodeType}"`);
    if (!Number.isInteger(c.numCacheNodes) || c.numCacheNodes < 2 || c.numCacheNodes > 40) fail('cache.numCacheNodes', `must be an integer from 2 to 40 (nodes are spread across AZs), got ${c.numCacheNodes}`);
    intIn('cache.ttlSeconds', c.ttlSeconds, 1, 3600);
  }

  const f = p.function;
  intIn('function.memoryMb', f.memoryMb, 128, 10240);
  if (!Number.isInteger(f.timeoutSeconds) || f.timeoutSeconds < 1 || f.timeoutSeconds >= API_INTEGRATION_TIMEOUT_LIMIT_SECONDS) {
    fail('function.timeoutSeconds', `must be an integer from 1 to ${API_INTEGRATION_TIMEOUT_LIMIT_SECONDS - 1} (below the API's ${API_INTEGRATION_TIMEOUT_LIMIT_SECONDS} s integration limit), got ${f.timeoutSeconds}`);
  }
  if (f.timeoutSeconds <= x.connectionBorrowTimeoutSeconds) {
    fail('function.timeoutSeconds', `must be greater than proxy.connectionBorrowTimeoutSeconds (${x.connectionBorrowTimeoutSeconds}) so a saturated proxy answers before the function times out, got ${f.timeoutSeconds}`);
  }
  if (f.reservedConcurrency !== undefined) {
    intIn('function.reservedConcurrency', f.reservedConcurrency, 1, 10000);
    // Checked offline from what the profile declares: synth cannot ask AWS for the quota.
    if (f.accountConcurrencyLimit === undefined) {
      fail('function.accountConcurrencyLimit', `must be declared when function.reservedConcurrency is set: AWS keeps ${UNRESERVED_CONCURRENCY} concurrent executions unreserved per account and region, so reserving ${f.reservedConcurrency} (+${PRUNE_RESERVED_CONCURRENCY} for the prune) needs a quota of at least ${f.reservedConcurrency + PRUNE_RESERVED_CONCURRENCY + UNRESERVED_CONCURRENCY}. Read it with \`aws lambda get-account-settings\` (AccountLimit.ConcurrentExecutions); new accounts may have less than 1000`);
    }
  }
  if (f.accountConcurrencyLimit !== undefined) {
    intIn('function.accountConcurrencyLimit', f.accountConcurrencyLimit, 10, 1_000_000);
    const reserved = f.reservedConcurrency === undefined ? 0 : f.reservedConcurrency + PRUNE_RESERVED_CONCURRENCY;
    if (reserved > f.accountConcurrencyLimit - UNRESERVED_CONCURRENCY) {
      fail('function.reservedConcurrency', `reserves ${reserved} concurrent executions with the prune, but the account quota (function.accountConcurrencyLimit) is ${f.accountConcurrencyLimit} and AWS keeps ${UNRESERVED_CONCURRENCY} unreserved: at most ${f.accountConcurrencyLimit - UNRESERVED_CONCURRENCY - PRUNE_RESERVED_CONCURRENCY} fits. Lower it, or raise the quota in Service Quotas ("Concurrent executions", L-B99A9384) and declare the new value`);
    }
  }

  intIn('api.throttlingBurstLimit', p.api.throttlingBurstLimit, 1, 100000);
  if (!(p.api.throttlingRateLimit > 0 && p.api.throttlingRateLimit <= 100000)) fail('api.throttlingRateLimit', `must be a number above 0 up to 100000, got ${p.api.throttlingRateLimit}`);

  for (const { setting, reason } of declaredWaivers(p)) {
    const [section, key] = setting.split('.');
    if (reason.trim().length < 10) fail(`${section}.waivers.${key}`, `must give the reason the policy is waived (at least 10 characters), got "${reason}"`);
  }
  if (p.alarms.email !== undefined && !EMAIL.test(p.alarms.email)) fail('alarms.email', `must be an e-mail address such as "oncall@example.com", got "${p.alarms.email}"`);
  intIn('hits.retentionDays', p.hits.retentionDays, 1, 3650);

  const s = p.stateBackend;
  if (s) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.bucket)) fail('stateBackend.bucket', `must be an S3 bucket name, got "${s.bucket}"`);
    if (!REGION.test(s.region)) fail('stateBackend.region', `must be an AWS region such as "eu-west-1", got "${s.region}"`);
    if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(s.keyPrefix) || s.keyPrefix.startsWith('/') || s.keyPrefix.endsWith('/')) {
      fail('stateBackend.keyPrefix', `must be a non-empty S3 key prefix without leading or trailing "/", got "${s.keyPrefix}"`);
    }
  }
  return p;
}
