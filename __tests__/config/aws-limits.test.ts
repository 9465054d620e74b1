/**
 * One table of AWS limits (aws/limits.ts) behind both the profile schema and the modules: a profile never
 * accepts a value AWS would refuse, the deliberate stricter choices are the only differences, and the RDS
 * Proxy engine-support table is enforced with a message naming its page.
 */
import { HTTP_API, LAMBDA, MYSQL_FAMILIES, RDS_MYSQL, RDS_PROXY, RDS_PROXY_MYSQL_SUPPORT, type IntRange } from '../../aws/limits';
import { PROFILES, type Profile, ProfileError, validateProfile } from '../../config';
import { integerBounds } from '../../config/schema';

/** Profile settings and the AWS range of the argument they become. */
const AWS_RANGE: Record<string, IntRange> = {
  'proxy.connectionBorrowTimeoutSeconds': RDS_PROXY.connectionBorrowTimeoutSeconds,
  'proxy.maxConnectionsPercent': RDS_PROXY.maxConnectionsPercent,
  'proxy.maxIdleConnectionsPercent': RDS_PROXY.maxIdleConnectionsPercent,
  'proxy.idleClientTimeoutSeconds': RDS_PROXY.idleClientTimeoutSeconds,
  'database.allocatedStorageGb': RDS_MYSQL.allocatedStorageGb,
  'database.backupRetentionDays': RDS_MYSQL.backupRetentionDays,
  'function.memoryMb': LAMBDA.memoryMb,
  'function.timeoutSeconds': LAMBDA.timeoutSeconds,
  'api.throttlingBurstLimit': HTTP_API.throttlingBurstLimit,
};

/** Where the profile is stricter than AWS on purpose (each has its reason beside the setting in config/schema.ts). */
const STRICTER: Record<string, { min?: number; max?: number }> = {
  'proxy.connectionBorrowTimeoutSeconds': { min: 1 },
  'proxy.idleClientTimeoutSeconds': { min: 60 },
  'database.backupRetentionDays': { min: 1 },
  'function.timeoutSeconds': { max: HTTP_API.integrationTimeoutMaxSeconds - 1 },
  'api.throttlingBurstLimit': { min: 1 },
};

describe.each(Object.entries(AWS_RANGE))('%s', (path, aws) => {
  const bounds = integerBounds(path)!;

  test('the profile accepts nothing AWS refuses', () => {
    expect(bounds).toBeDefined();
    expect(bounds.min).toBeGreaterThanOrEqual(aws.min);
    expect(bounds.max).toBeLessThanOrEqual(aws.max);
    expect(aws.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  test('it differs from AWS only where a stricter choice is declared', () => {
    expect(bounds).toEqual({ min: STRICTER[path]?.min ?? aws.min, max: STRICTER[path]?.max ?? aws.max });
  });
});

const at = (p: Profile, path: string, value: unknown): Profile => {
  const copy = structuredClone(p) as any;
  const keys = path.split('.');
  keys.slice(0, -1).reduce((o, k) => o[k], copy)[keys[keys.length - 1]] = value;
  return copy;
};

describe.each(PROFILES.map((p) => [p.name, p] as const))('%s', (_name, profile) => {
  test.each(Object.keys(AWS_RANGE))('%s: each bound is accepted and one past it refused, naming the field', (path) => {
    const { min, max } = integerBounds(path)!;
    // Cross-field rules (borrow < function timeout, idle ≤ max connections) are kept satisfied around the bound.
    const consistent = (p: Profile): Profile => {
      let q = p;
      if (path === 'function.timeoutSeconds') q = at(q, 'proxy.connectionBorrowTimeoutSeconds', Math.max(1, Math.min(q.proxy.connectionBorrowTimeoutSeconds, q.function.timeoutSeconds - 1)));
      if (path === 'proxy.connectionBorrowTimeoutSeconds') q = at(q, 'function.timeoutSeconds', Math.min(HTTP_API.integrationTimeoutMaxSeconds - 1, Math.max(q.function.timeoutSeconds, q.proxy.connectionBorrowTimeoutSeconds + 1)));
      if (path === 'proxy.maxIdleConnectionsPercent') q = at(q, 'proxy.maxConnectionsPercent', RDS_PROXY.maxConnectionsPercent.max);
      if (path === 'proxy.maxConnectionsPercent') q = at(q, 'proxy.maxIdleConnectionsPercent', 0);
      if (path === 'database.allocatedStorageGb') q = at(q, 'database.maxAllocatedStorageGb', 0);
      return q;
    };
    // Bounds no profile can reach, because a cross-field rule refuses them first: a function timeout of 1 s
    // leaves no borrow timeout below it, and a borrow timeout above 28 s none below the API's limit.
    const reachable = (value: number) =>
      !(path === 'function.timeoutSeconds' && value === 1) && !(path === 'proxy.connectionBorrowTimeoutSeconds' && value >= HTTP_API.integrationTimeoutMaxSeconds - 1);
    for (const ok of [min, max].filter(reachable)) expect(() => validateProfile(consistent(at(profile, path, ok)))).not.toThrow();
    for (const bad of [min - 1, max + 1]) {
      expect(() => validateProfile(consistent(at(profile, path, bad)))).toThrow(new RegExp(`${path.replace('.', '\\.')} must be an integer from ${min} to ${max}`));
    }
  });

  test(`database.databaseName takes up to ${RDS_MYSQL.databaseNameMaxLength} characters, as RDS for MySQL does`, () => {
    expect(() => validateProfile(at(profile, 'database.databaseName', `d${'b'.repeat(RDS_MYSQL.databaseNameMaxLength - 1)}`))).not.toThrow();
    expect(() => validateProfile(at(profile, 'database.databaseName', `d${'b'.repeat(RDS_MYSQL.databaseNameMaxLength)}`))).toThrow(/database\.databaseName must be 1-64 letters/);
  });

  test('its region and engine version are a combination the RDS Proxy support table lists', () => {
    expect(RDS_PROXY_MYSQL_SUPPORT.regions[profile.region].versions).toContain(profile.database.engineVersion);
  });

  test('a region the support table has no row for is refused, naming the page', () => {
    const unlisted = ['xx-test-1', 'xx-test-2'].find((r) => !(r in RDS_PROXY_MYSQL_SUPPORT.regions))!;
    expect(unlisted).toBeDefined();
    const run = () => validateProfile({ ...profile, region: unlisted });
    expect(run).toThrow(ProfileError);
    expect(run).toThrow(`profile "${profile.name}": region must be a region the RDS Proxy support table lists for RDS for MySQL`);
    expect(run).toThrow(RDS_PROXY_MYSQL_SUPPORT.url);
  });

  test.each(Object.entries(RDS_PROXY_MYSQL_SUPPORT.regions).filter(([, row]) => row.versions.length === 0))(
    'a region the page marks "Not available" (%s) is refused, naming the page',
    (region, row) => {
      const run = () => validateProfile({ ...profile, region });
      expect(run).toThrow(`profile "${profile.name}": region must be a region where RDS Proxy supports RDS for MySQL`);
      expect(run).toThrow(`marks ${row.name} "Not available"`);
      expect(run).toThrow(RDS_PROXY_MYSQL_SUPPORT.url);
    },
  );

  test('an engine version the table does not list for the region is refused, naming the page and what is listed', () => {
    const row = RDS_PROXY_MYSQL_SUPPORT.regions[profile.region];
    const listed = row.versions.filter((version) => version !== profile.database.engineVersion);
    const restore = jest.replaceProperty(RDS_PROXY_MYSQL_SUPPORT, 'regions', { ...RDS_PROXY_MYSQL_SUPPORT.regions, [profile.region]: { ...row, versions: listed } });
    try {
      const run = () => validateProfile(profile);
      expect(run).toThrow(`profile "${profile.name}": database.engineVersion must be a MySQL major version RDS Proxy supports in ${profile.region}: ${listed.join(', ')}`);
      expect(run).toThrow(RDS_PROXY_MYSQL_SUPPORT.url);
    } finally {
      restore.restore();
    }
    expect(validateProfile(profile)).toBe(profile);
  });
});

test('the default MySQL version is the newest major the proxy table lists for every profile region', () => {
  const [newest] = Object.keys(MYSQL_FAMILIES);
  expect(newest).toBe('8.4');
  for (const region of new Set(PROFILES.map((p) => p.region))) expect(RDS_PROXY_MYSQL_SUPPORT.regions[region].versions).toContain(newest);
  expect(RDS_PROXY_MYSQL_SUPPORT.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
});
