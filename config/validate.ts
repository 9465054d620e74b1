import { LAMBDA, RDS_PROXY_MYSQL_SUPPORT, SMALL_BURSTABLE } from '../aws/limits';
import { LAMBDA_UNRESERVED_CONCURRENCY as UNRESERVED_CONCURRENCY } from '../contracts';
import { directArmEnabled, type Profile } from './profile';
import { shapeProblems } from './schema';

/** One setting that cannot be deployed: the profile, the field and what is allowed. */
export interface ProfileProblem {
  readonly profile: string;
  readonly field: string;
  readonly detail: string;
}

const line = (p: ProfileProblem) => `profile "${p.profile}": ${p.field}${p.detail.startsWith('unknown setting') ? ':' : ''} ${p.detail}`;

/**
 * Every setting of the profiles that cannot be deployed, in one error: one line per problem, each naming its
 * profile and field (as AWS CDK's validateTree reports every construct's errors at once). `profile` and
 * `field` are the first problem's.
 */
export class ProfileError extends Error {
  readonly problems: readonly ProfileProblem[];
  readonly profile: string;
  readonly field: string;

  constructor(problems: readonly ProfileProblem[]) {
    if (problems.length === 0) throw new Error('a ProfileError needs at least one problem');
    super(problems.length === 1 ? line(problems[0]) : `${problems.length} problems in the profiles:\n${problems.map((p) => `  ${line(p)}`).join('\n')}`);
    this.name = 'ProfileError';
    this.problems = problems;
    this.profile = problems[0].profile;
    this.field = problems[0].field;
  }
}

/** Reserved concurrency of the prune function when the environment reserves concurrency: one run at a time. */
export const PRUNE_RESERVED_CONCURRENCY = 1;

/**
 * Returns the profile unchanged, or throws one ProfileError naming every setting that cannot be deployed.
 * Takes `unknown` on purpose: profiles are edited by hand and tsx runs them without a type check, so the
 * schema (shape, types and each setting's allowed values) runs first, then the rules that relate settings;
 * a rule is skipped when a setting it reads is already reported (its value cannot be trusted).
 */
export function validateProfile(input: unknown): Profile {
  const problems = profileProblems(input);
  if (problems.length > 0) throw new ProfileError(problems);
  return input as Profile;
}

/** Every problem of one profile: the schema's, then each relating rule whose settings passed the schema. */
export function profileProblems(input: unknown): ProfileProblem[] {
  const named = (input as { name?: unknown } | null)?.name;
  const profileName = typeof named === 'string' && named ? named : '(unnamed)';
  const shape = shapeProblems(input);
  const problems: ProfileProblem[] = shape.map((s) => ({ profile: profileName, field: s.path, detail: s.detail }));
  // A misspelt key stands for the setting it hides: that setting is reported too, under the misspelling.
  const reported = (path: string) =>
    shape.some((s) => [s.path, s.standsFor].some((at) => at !== undefined && (at === '(profile)' || at === path || at.startsWith(`${path}.`) || path.startsWith(`${at}.`))));
  const p = input as Profile;
  /** Runs `rule` when none of the settings it reads has a problem already. */
  const rule = (reads: readonly string[], check: (fail: (field: string, detail: string) => void) => void) => {
    if (reads.some(reported)) return;
    check((field, detail) => problems.push({ profile: profileName, field, detail }));
  };

  const page = `${RDS_PROXY_MYSQL_SUPPORT.url} (read ${RDS_PROXY_MYSQL_SUPPORT.read})`;
  rule(['region', 'database.engineVersion'], (fail) => {
    const proxySupport = RDS_PROXY_MYSQL_SUPPORT.regions[p.region];
    if (!proxySupport) {
      fail('region', `must be a region the RDS Proxy support table lists for RDS for MySQL (aws/limits.ts, from ${page}); if the page now lists "${p.region}", add its row, got "${p.region}"`);
    } else if (proxySupport.versions.length === 0) {
      fail('region', `must be a region where RDS Proxy supports RDS for MySQL: ${page} marks ${proxySupport.name} "Not available", got "${p.region}"`);
    } else if (!proxySupport.versions.includes(p.database.engineVersion)) {
      fail('database.engineVersion', `must be a MySQL major version RDS Proxy supports in ${p.region}: ${proxySupport.versions.join(', ')} (${page}), got "${p.database.engineVersion}"`);
    }
  });
  rule(['database.maxAllocatedStorageGb', 'database.allocatedStorageGb'], (fail) => {
    const d = p.database;
    if (d.maxAllocatedStorageGb !== 0 && (!Number.isInteger(d.maxAllocatedStorageGb) || d.maxAllocatedStorageGb <= d.allocatedStorageGb || d.maxAllocatedStorageGb > 65536)) {
      fail('database.maxAllocatedStorageGb', `must be 0 (no autoscaling) or an integer above allocatedStorageGb (${d.allocatedStorageGb}) up to 65536, got ${d.maxAllocatedStorageGb}`);
    }
  });
  rule(['database.performanceInsights', 'database.instanceClass'], (fail) => {
    const d = p.database;
    if (d.performanceInsights && SMALL_BURSTABLE.test(d.instanceClass)) {
      fail('database.performanceInsights', `must be false on ${d.instanceClass}: AWS offers no Performance Insights on db.t*.micro and db.t*.small`);
    }
  });
  rule(['database.appUsername', 'database.masterUsername'], (fail) => {
    const d = p.database;
    if (d.appUsername.toLowerCase() === d.masterUsername.toLowerCase()) {
      fail('database.appUsername', `must differ from database.masterUsername ("${d.masterUsername}"): the application must not hold the master user's rights, got "${d.appUsername}"`);
    }
  });
  rule(['database.deletionProtection', 'database.skipFinalSnapshot'], (fail) => {
    if (p.database.deletionProtection && p.database.skipFinalSnapshot) fail('database.skipFinalSnapshot', 'must be false when deletionProtection is true (a protected database keeps its final snapshot)');
  });
  rule(['proxy.maxIdleConnectionsPercent', 'proxy.maxConnectionsPercent'], (fail) => {
    const x = p.proxy;
    if (x.maxIdleConnectionsPercent > x.maxConnectionsPercent) {
      fail('proxy.maxIdleConnectionsPercent', `must be an integer from 0 to ${x.maxConnectionsPercent} (proxy.maxConnectionsPercent), got ${x.maxIdleConnectionsPercent}`);
    }
  });
  rule(['function.timeoutSeconds', 'proxy.connectionBorrowTimeoutSeconds'], (fail) => {
    const borrow = p.proxy.connectionBorrowTimeoutSeconds;
    if (p.function.timeoutSeconds <= borrow) {
      fail('function.timeoutSeconds', `must be greater than proxy.connectionBorrowTimeoutSeconds (${borrow}) so a saturated proxy answers before the function times out, got ${p.function.timeoutSeconds}`);
    }
  });
  // Checked offline from what the profile declares: synth cannot ask AWS for the quota.
  // The direct arm's hits function reserves as much as the proxy arm's, so the two compare under the same cap.
  rule(['function.reservedConcurrency', 'function.accountConcurrencyLimit', 'directArm'], (fail) => {
    const f = p.function;
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
  });
  return problems;
}
