import { LAMBDA, RDS_PROXY_MYSQL_SUPPORT, SMALL_BURSTABLE } from '../aws/limits';
import { LAMBDA_UNRESERVED_CONCURRENCY as UNRESERVED_CONCURRENCY } from '../contracts';
import { directArmEnabled, type Profile } from './profile';
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

/** Reserved concurrency of the prune function when the environment reserves concurrency: one run at a time. */
export const PRUNE_RESERVED_CONCURRENCY = 1;

/**
 * Throws a ProfileError for the first setting that cannot be deployed; returns the profile unchanged otherwise.
 * Takes `unknown` on purpose: profiles are edited by hand and tsx runs them without a type check, so the
 * schema (shape, types and each setting's allowed values) runs first, then the rules that relate settings.
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

  const d = p.database;
  const proxySupport = RDS_PROXY_MYSQL_SUPPORT.regions[p.region];
  const page = `${RDS_PROXY_MYSQL_SUPPORT.url} (read ${RDS_PROXY_MYSQL_SUPPORT.read})`;
  if (!proxySupport) {
    fail('region', `must be a region the RDS Proxy support table lists for RDS for MySQL (aws/limits.ts, from ${page}); if the page now lists "${p.region}", add its row, got "${p.region}"`);
  } else if (proxySupport.versions.length === 0) {
    fail('region', `must be a region where RDS Proxy supports RDS for MySQL: ${page} marks ${proxySupport.name} "Not available", got "${p.region}"`);
  } else if (!proxySupport.versions.includes(d.engineVersion)) {
    fail('database.engineVersion', `must be a MySQL major version RDS Proxy supports in ${p.region}: ${proxySupport.versions.join(', ')} (${page}), got "${d.engineVersion}"`);
  }
  if (d.maxAllocatedStorageGb !== 0 && (!Number.isInteger(d.maxAllocatedStorageGb) || d.maxAllocatedStorageGb <= d.allocatedStorageGb || d.maxAllocatedStorageGb > 65536)) {
    fail('database.maxAllocatedStorageGb', `must be 0 (no autoscaling) or an integer above allocatedStorageGb (${d.allocatedStorageGb}) up to 65536, got ${d.maxAllocatedStorageGb}`);
  }
  if (d.performanceInsights && SMALL_BURSTABLE.test(d.instanceClass)) {
    fail('database.performanceInsights', `must be false on ${d.instanceClass}: AWS offers no Performance Insights on db.t*.micro and db.t*.small`);
  }
  if (d.appUsername.toLowerCase() === d.masterUsername.toLowerCase()) {
    fail('database.appUsername', `must differ from database.masterUsername ("${d.masterUsername}"): the application must not hold the master user's rights, got "${d.appUsername}"`);
  }
  if (d.deletionProtection && d.skipFinalSnapshot) fail('database.skipFinalSnapshot', 'must be false when deletionProtection is true (a protected database keeps its final snapshot)');

  const x = p.proxy;
  if (x.maxIdleConnectionsPercent > x.maxConnectionsPercent) {
    fail('proxy.maxIdleConnectionsPercent', `must be an integer from 0 to ${x.maxConnectionsPercent} (proxy.maxConnectionsPercent), got ${x.maxIdleConnectionsPercent}`);
  }

  const f = p.function;
  if (f.timeoutSeconds <= x.connectionBorrowTimeoutSeconds) {
    fail('function.timeoutSeconds', `must be greater than proxy.connectionBorrowTimeoutSeconds (${x.connectionBorrowTimeoutSeconds}) so a saturated proxy answers before the function times out, got ${f.timeoutSeconds}`);
  }
  // Checked offline from what the profile declares: synth cannot ask AWS for the quota.
  // The direct arm's hits function reserves as much as the proxy arm's, so the two compare under the same cap.
  const hitsFunctions = directArmEnabled(p) ? 2 : 1;
  const withWhat = hitsFunctions === 2 ? "the direct arm's hits function (directArm.enabled reserves it twice) and the prune" : 'the prune';
  const reserved = f.reservedConcurrency === undefined ? 0 : hitsFunctions * f.reservedConcurrency + PRUNE_RESERVED_CONCURRENCY;
  if (f.reservedConcurrency !== undefined && f.accountConcurrencyLimit === undefined) {
    fail('function.accountConcurrencyLimit', `must be declared when function.reservedConcurrency is set: AWS keeps ${UNRESERVED_CONCURRENCY} concurrent executions unreserved per account and region, so reserving ${reserved} with ${withWhat} needs a quota of at least ${reserved + UNRESERVED_CONCURRENCY}. Read it with \`aws lambda get-account-settings\` (AccountLimit.ConcurrentExecutions); new accounts may have less than 1000`);
  }
  if (f.accountConcurrencyLimit !== undefined && reserved > f.accountConcurrencyLimit - UNRESERVED_CONCURRENCY) {
    const fits = Math.floor((f.accountConcurrencyLimit - UNRESERVED_CONCURRENCY - PRUNE_RESERVED_CONCURRENCY) / hitsFunctions);
    fail('function.reservedConcurrency', `reserves ${reserved} concurrent executions with ${withWhat}, but the account quota (function.accountConcurrencyLimit) is ${f.accountConcurrencyLimit} and AWS keeps ${UNRESERVED_CONCURRENCY} unreserved: at most ${fits} fits. Lower it, or raise the quota in Service Quotas ("Concurrent executions", ${LAMBDA.concurrencyQuotaCode}) and declare the new value`);
  }
  return p;
}
