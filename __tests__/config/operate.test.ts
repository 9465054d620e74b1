/**
 * The profile settings for operating an environment: alarms, data retention, and the account concurrency
 * quota that a reservation must fit in (AWS keeps 100 executions unreserved). Bad values fail with a
 * message naming the field and the rule.
 */
import { PROFILES, type Profile, ProfileError, validateProfile } from '../../config';
import { PRUNE_RESERVED_CONCURRENCY } from '../../config/validate';
import { LAMBDA_UNRESERVED_CONCURRENCY as UNRESERVED_CONCURRENCY } from '../../contracts';

type Patch = (p: Profile) => Profile;

describe.each(PROFILES.map((p) => [p.name, p] as const))('%s', (_name, base) => {
  const fails = (patch: Patch, message: RegExp) => {
    const run = () => validateProfile(patch(structuredClone(base) as Profile));
    expect(run).toThrow(ProfileError);
    expect(run).toThrow(message);
  };

  // With the direct arm its hits function reserves as much as the proxy arm's, so they compare under the same cap.
  const hitsFunctions = base.directArm?.enabled ? 2 : 1;

  test('declares its operating settings: alarms on or off, a retention, and a quota when it reserves concurrency', () => {
    expect(typeof base.alarms.enabled).toBe('boolean');
    expect(Number.isInteger(base.hits.retentionDays)).toBe(true);
    if (base.function.reservedConcurrency !== undefined) {
      expect(base.function.accountConcurrencyLimit! - UNRESERVED_CONCURRENCY).toBeGreaterThanOrEqual(hitsFunctions * base.function.reservedConcurrency + PRUNE_RESERVED_CONCURRENCY);
    }
  });

  test('a reservation without a declared quota is refused, explaining the 100-unreserved rule, the quota it needs (the direct arm counted) and how to read the quota', () => {
    const needs = hitsFunctions * 50 + PRUNE_RESERVED_CONCURRENCY + UNRESERVED_CONCURRENCY;
    fails((p) => ({ ...p, function: { ...p.function, reservedConcurrency: 50, accountConcurrencyLimit: undefined } }), new RegExp(`function\\.accountConcurrencyLimit must be declared when function\\.reservedConcurrency is set: AWS keeps 100 concurrent executions unreserved.*needs a quota of at least ${needs}\\..*aws lambda get-account-settings`));
  });

  test('a reservation that leaves less than 100 unreserved is refused, naming what fits (counting the direct arm\'s hits function when it is on)', () => {
    const reserved = hitsFunctions * 100 + PRUNE_RESERVED_CONCURRENCY;
    const fitsAt150 = Math.floor((150 - UNRESERVED_CONCURRENCY - PRUNE_RESERVED_CONCURRENCY) / hitsFunctions);
    fails((p) => ({ ...p, function: { ...p.function, reservedConcurrency: 100, accountConcurrencyLimit: 150 } }), new RegExp(`function\\.reservedConcurrency reserves ${reserved} .*quota \\(function\\.accountConcurrencyLimit\\) is 150 .*at most ${fitsAt150} fits`));
    // The boundary: (quota - 100 - the prune's 1) / hits functions still fits, one more does not.
    const most = Math.floor((200 - UNRESERVED_CONCURRENCY - PRUNE_RESERVED_CONCURRENCY) / hitsFunctions);
    const fits = structuredClone(base) as Profile;
    expect(validateProfile({ ...fits, function: { ...fits.function, reservedConcurrency: most, accountConcurrencyLimit: 200 } }).function.reservedConcurrency).toBe(most);
    fails((p) => ({ ...p, function: { ...p.function, reservedConcurrency: most + 1, accountConcurrencyLimit: 200 } }), /function\.reservedConcurrency reserves/);
  });

  test('turning the direct arm on or off moves the quota check by one hits function\'s reservation', () => {
    const withArm = (p: Profile, enabled: boolean): Profile => ({ ...p, directArm: { enabled }, function: { ...p.function, reservedConcurrency: 60, accountConcurrencyLimit: 200 } });
    // 60 + 1 fits in 200 - 100; 2 x 60 + 1 does not, and the message says the direct arm is why.
    expect(validateProfile(withArm(structuredClone(base) as Profile, false)).function.reservedConcurrency).toBe(60);
    fails((p) => withArm(p, true), /reserves 121 concurrent executions with the direct arm's hits function .*at most 49 fits/);
  });

  test.each<[string, Patch, RegExp]>([
    ['retention of 0 days', (p) => ({ ...p, hits: { retentionDays: 0 } }), /hits\.retentionDays must be an integer from 1 to 3650, got 0/],
    ['retention of 1.5 days', (p) => ({ ...p, hits: { retentionDays: 1.5 } }), /hits\.retentionDays must be an integer/],
    ['alarms.enabled not a boolean', (p) => ({ ...p, alarms: { enabled: 'yes' as never } }), /alarms\.enabled must be a boolean, got "yes"/],
    ['an alarm e-mail without a domain', (p) => ({ ...p, alarms: { ...p.alarms, email: 'oncall' } }), /alarms\.email must be an e-mail address/],
    ['a quota below 10', (p) => ({ ...p, function: { ...p.function, accountConcurrencyLimit: 5 } }), /function\.accountConcurrencyLimit must be an integer from 10/],
  ])('%s', (_c, patch, message) => fails(patch, message));
});
