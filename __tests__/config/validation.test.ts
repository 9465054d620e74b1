import { API_INTEGRATION_TIMEOUT_LIMIT_SECONDS, directArmDatabase, directArmEnabled, loadProfiles, Profile, ProfileError, PROFILES, stateBackendFromEnv, validateProfile } from '../../config';
import { DIRECT_ARM_DATABASE_DEFAULT, settingDocs } from '../../config/schema';
import { synthEnvironments } from '../support/synth';
import { DIRECT_ARM_DATABASES, MAX_TENANT_COUNT, MYSQL_USER_NAME_MAX_LENGTH, TENANT_ID_MAX_DIGITS, TENANT_PREFIX_MAX_LENGTH, TENANT_PREFIX_PATTERN } from '../../contracts';
import { variantProfiles } from '../support/variants';

type Patch = (p: Profile) => Profile;
const patch = (base: Profile, f: Patch) => f(structuredClone(base) as Profile);

/** The configuration under test for the error cases: a valid profile of the test's own, so no shipped profile's edit moves these expectations. */
const fixture: Profile = {
  name: 'fixture',
  project: 'hits',
  region: 'eu-west-1',
  tags: {},
  network: { vpcCidr: '10.30.0.0/16', azCount: 2, natGateways: 'per-az', flowLogs: true },
  database: {
    engineVersion: '8.4',
    instanceClass: 'db.t4g.micro',
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 0,
    multiAz: false,
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionDays: 1,
    performanceInsights: false,
    monitoringIntervalSeconds: 0,
    databaseName: 'hits',
    masterUsername: 'hits_admin',
    appUsername: 'hits_app',
  },
  proxy: { connectionBorrowTimeoutSeconds: 5, maxConnectionsPercent: 90, maxIdleConnectionsPercent: 50, idleClientTimeoutSeconds: 1800, debugLogging: false },
  cache: { enabled: true, engineVersion: '1.6.22', nodeType: 'cache.t4g.micro', numCacheNodes: 2, ttlSeconds: 5 },
  function: { memoryMb: 512, timeoutSeconds: 10 },
  api: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
  alarms: { enabled: true },
  hits: { retentionDays: 7 },
  tenants: { count: 0, prefix: 'tenant_', rowsPerTenant: 1000 },
  logRetentionDays: 14,
};

const other: Profile = { ...fixture, name: 'other' };

describe('valid profiles', () => {
  test.each(PROFILES.map((p) => [p.name, p] as const))('%s passes validation unchanged', (_n, profile) => {
    expect(validateProfile(profile)).toBe(profile);
  });

  test.each(variantProfiles().map((v) => [v.label, v.profile] as const))('generated variant %s passes validation', (_n, profile) => {
    expect(validateProfile(profile)).toBe(profile);
  });

  test('loadProfiles keeps every profile, in order, with local state when no bucket is set', () => {
    const loaded = loadProfiles({});
    expect(loaded.map((p) => p.name)).toEqual(PROFILES.map((p) => p.name));
    expect(loaded.map((p) => p.stateBackend)).toEqual(PROFILES.map((p) => p.stateBackend));
  });

  test.each(PROFILES.map((p) => [p.name, p] as const))('%s keeps the request-path invariants: borrow timeout < Lambda timeout < the API limit, cache ≥ 2 nodes', (_n, p) => {
    expect(p.proxy.connectionBorrowTimeoutSeconds).toBeLessThan(p.function.timeoutSeconds);
    expect(p.function.timeoutSeconds).toBeLessThan(API_INTEGRATION_TIMEOUT_LIMIT_SECONDS);
    if (p.cache.enabled) expect(p.cache.numCacheNodes).toBeGreaterThanOrEqual(2);
  });

  test('profiles share no object: editing one in place can never change another', () => {
    const objects = new Map<object, string>();
    const walk = (value: unknown, where: string) => {
      if (value === null || typeof value !== 'object') return;
      expect({ where, sharedWith: objects.get(value) }).toEqual({ where, sharedWith: undefined });
      objects.set(value, where);
      for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
    };
    for (const p of PROFILES) walk(p, p.name);
  });
});

describe('strict profiles: unknown keys, misspellings and wrong types fail with the path', () => {
  const broken = (f: (p: any) => void): unknown => {
    const p = structuredClone(fixture) as any;
    f(p);
    return p;
  };
  test.each<[string, unknown, string]>([
    ['a misspelt key', broken((p) => (p.network.flowlogs = true)), 'profile "fixture": network.flowlogs: unknown setting, did you mean flowLogs?'],
    ['a misspelt key replacing the right one', broken((p) => ((p.network.flowlogs = p.network.flowLogs), delete p.network.flowLogs)), 'profile "fixture": network.flowlogs: unknown setting, did you mean flowLogs?'],
    ['a misspelt section', broken((p) => ((p.databse = p.database), delete p.database)), 'profile "fixture": databse: unknown setting, did you mean database?'],
    ['a wrong-case key', broken((p) => (p.cache.TTLSeconds = 5)), 'profile "fixture": cache.TTLSeconds: unknown setting, did you mean ttlSeconds?'],
    ['a misspelt direct-arm switch', broken((p) => (p.directArm = { enable: true })), 'profile "fixture": directArm.enable: unknown setting, did you mean enabled?'],
    ['a misspelt direct-arm section', broken((p) => (p.directArms = { enabled: true })), 'profile "fixture": directArms: unknown setting, did you mean directArm?'],
    ['an unknown key with no near match', broken((p) => (p.api.stageName = 'v1')), 'profile "fixture": api.stageName: unknown setting; valid settings here: throttlingBurstLimit, throttlingRateLimit'],
    ['a misspelt waiver', broken((p) => (p.database.waivers = { multiAZ: 'standby costs double in this environment' })), 'profile "fixture": database.waivers.multiAZ: unknown setting, did you mean multiAz?'],
    ['a number given as text', broken((p) => (p.network.azCount = '3')), 'profile "fixture": network.azCount must be a number, got "3"'],
    ['a boolean given as text', broken((p) => (p.database.multiAz = 'yes')), 'profile "fixture": database.multiAz must be a boolean, got "yes"'],
    ['a missing setting', broken((p) => delete p.proxy.debugLogging), 'profile "fixture": proxy.debugLogging is required (a boolean)'],
    ['a missing section', broken((p) => delete p.cache), 'profile "fixture": cache is required (an object)'],
    ['a tag that is not text', broken((p) => (p.tags = { CostCenter: 42 })), 'profile "fixture": tags.CostCenter must be a string, got number 42'],
    ['an unknown NAT mode', broken((p) => (p.network.natGateways = 'none')), 'profile "fixture": network.natGateways must be one of "per-az", "single", got "none"'],
    ['an unknown MySQL version', broken((p) => (p.database.engineVersion = '5.7')), 'profile "fixture": database.engineVersion must be one of "8.4", "8.0", got "5.7"'],
    ['a waiver without a reason', broken((p) => (p.network.waivers = { flowLogs: '' })), 'profile "fixture": network.waivers.flowLogs must give the reason the policy is waived (at least 10 characters), got ""'],
  ])('%s', (_case, input, message) => {
    expect(() => validateProfile(input)).toThrow(ProfileError);
    expect(() => validateProfile(input)).toThrow(message);
  });
});

test('the direct arm is off unless a profile turns it on: the section may be left out', () => {
  expect(fixture.directArm).toBeUndefined();
  expect(directArmEnabled(validateProfile(fixture))).toBe(false);
  expect(directArmEnabled(validateProfile({ ...fixture, directArm: { enabled: false } }))).toBe(false);
  expect(directArmEnabled(validateProfile({ ...fixture, directArm: { enabled: true } }))).toBe(true);
});

test("directArm.database: the schema's default is an instance of the arm's own; 'shared' is the proxy arm's; anything else names the field", () => {
  // Issue 21: left out, the arm gets an identical instance of its own.
  expect(directArmDatabase(validateProfile({ ...fixture, directArm: { enabled: true } }))).toBe('own');
  for (const database of DIRECT_ARM_DATABASES) expect(directArmDatabase(validateProfile({ ...fixture, directArm: { enabled: true, database } }))).toBe(database);
  // No arm, no database of it, whatever the section says.
  expect(directArmDatabase(validateProfile({ ...fixture, directArm: { enabled: false, database: 'own' } }))).toBeUndefined();
  const bad = { ...fixture, directArm: { enabled: true, database: 'separate' } };
  expect(() => validateProfile(bad)).toThrow('profile "fixture": directArm.database must be one of "own", "shared", got "separate"');
  // The settings table says what leaving it out means, from the same constant.
  expect(settingDocs().find((d) => d.path === 'directArm.database')).toMatchObject({ required: false, absent: `\`${DIRECT_ARM_DATABASE_DEFAULT}\`` });
});

test('the shipped profiles that turn the direct arm on say which database it uses', () => {
  for (const profile of PROFILES.filter(directArmEnabled)) expect([profile.name, profile.directArm?.database]).toEqual([profile.name, expect.stringMatching(/^(own|shared)$/)]);
});

test('the tenants section accepts a thousand tenants and more (end-to-end IAM: no per-tenant secret), and the prefixes the tenants function accepts', () => {
  for (const count of [0, 1000, MAX_TENANT_COUNT]) expect(() => validateProfile({ ...fixture, tenants: { ...fixture.tenants, count } })).not.toThrow();
  // The widest prefix with the widest id is still a MySQL user name (at most 32 characters).
  const widest = `${'t'.repeat(TENANT_PREFIX_MAX_LENGTH)}${MAX_TENANT_COUNT - 1}`;
  expect(String(MAX_TENANT_COUNT - 1)).toHaveLength(TENANT_ID_MAX_DIGITS);
  expect(widest.length).toBeLessThanOrEqual(MYSQL_USER_NAME_MAX_LENGTH);
  for (const prefix of ['t', 'tenant_', 'a1_b2', 't'.repeat(TENANT_PREFIX_MAX_LENGTH)]) {
    expect(() => validateProfile({ ...fixture, tenants: { ...fixture.tenants, prefix } })).not.toThrow();
    expect(TENANT_PREFIX_PATTERN.test(prefix)).toBe(true);
  }
  for (const prefix of ['T', 'tenant-', '_t', 't'.repeat(TENANT_PREFIX_MAX_LENGTH + 1)]) expect(TENANT_PREFIX_PATTERN.test(prefix)).toBe(false);
});

describe('invalid profiles fail with a message naming the field and what is allowed', () => {
  test.each<[string, Patch, RegExp]>([
    ['the direct arm switched on with a string', (p) => ({ ...p, directArm: { enabled: 'yes' as never } }), /directArm\.enabled must be a boolean, got "yes"/],
    ['a direct-arm section without its switch', (p) => ({ ...p, directArm: {} as never }), /directArm\.enabled is required/],
    ['one AZ', (p) => ({ ...p, network: { ...p.network, azCount: 1 } }), /^profile "fixture": network\.azCount must be an integer from 2 to 4, got 1$/],
    ['a negative tenant count', (p) => ({ ...p, tenants: { ...p.tenants, count: -1 } }), /tenants\.count must be an integer from 0 to 1000000 .*got -1/],
    ['a fractional tenant count', (p) => ({ ...p, tenants: { ...p.tenants, count: 2.5 } }), /tenants\.count must be an integer/],
    ['a tenant prefix with a dash', (p) => ({ ...p, tenants: { ...p.tenants, prefix: 'tenant-' } }), new RegExp(`tenants\\.prefix must be 1-${TENANT_PREFIX_MAX_LENGTH} lowercase letters, digits or underscores starting with a letter .*got "tenant-"`)],
    ['a tenant prefix starting with a digit', (p) => ({ ...p, tenants: { ...p.tenants, prefix: '1t_' } }), /tenants\.prefix must be/],
    [`a ${TENANT_PREFIX_MAX_LENGTH + 1}-character tenant prefix`, (p) => ({ ...p, tenants: { ...p.tenants, prefix: 't'.repeat(TENANT_PREFIX_MAX_LENGTH + 1) } }), new RegExp(`tenants\\.prefix must be 1-${TENANT_PREFIX_MAX_LENGTH}\\b`)],
    ['no rows setting', (p) => ({ ...p, tenants: { count: 1, prefix: 'tenant_' } as never }), /tenants\.rowsPerTenant is required/],
    ['five AZs', (p) => ({ ...p, network: { ...p.network, azCount: 5 } }), /network\.azCount must be an integer from 2 to 4, got 5/],
    ['Lambda timeout of 30 s', (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 30 } }), /function\.timeoutSeconds must be an integer from 1 to 29 \(below the API's 30 s integration limit\), got 30/],
    ['Lambda timeout of 45 s', (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 45 } }), /function\.timeoutSeconds must be an integer from 1 to 29/],
    ['Lambda timeout equal to the borrow timeout', (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 5 } }), /function\.timeoutSeconds must be greater than proxy\.connectionBorrowTimeoutSeconds \(5\).*got 5/],
    ['borrow timeout above the Lambda timeout', (p) => ({ ...p, proxy: { ...p.proxy, connectionBorrowTimeoutSeconds: 20 } }), /function\.timeoutSeconds must be greater than proxy\.connectionBorrowTimeoutSeconds \(20\).*got 10/],
    ['MySQL 9', (p) => ({ ...p, database: { ...p.database, engineVersion: '9.0' as never } }), /database\.engineVersion must be one of "8\.4", "8\.0", got "9\.0"/],
    ['Performance Insights on db.t4g.micro', (p) => ({ ...p, database: { ...p.database, performanceInsights: true } }), /database\.performanceInsights must be false on db\.t4g\.micro/],
    ['one cache node', (p) => ({ ...p, cache: { ...p.cache, numCacheNodes: 1 } }), /cache\.numCacheNodes must be an integer from 2 to 40 \(nodes are spread across AZs\), got 1/],
    ['memcached without TLS support', (p) => ({ ...p, cache: { ...p.cache, engineVersion: '1.6.6' } }), /cache\.engineVersion must be memcached 1\.6\.12 or later/],
    ['empty name', (p) => ({ ...p, name: '' }), /^profile "\(unnamed\)": name must be 1-16 lowercase letters, digits or dashes starting with a letter, got ""$/],
    ['upper-case name', (p) => ({ ...p, name: 'Prod' }), /name must be 1-16 lowercase letters/],
    ['empty project', (p) => ({ ...p, project: '' }), /project must be 1-16 lowercase letters/],
    ['bad region', (p) => ({ ...p, region: 'europe' }), /region must be an AWS region such as "eu-west-1", got "europe"/],
    ['log retention of 10 days', (p) => ({ ...p, logRetentionDays: 10 }), /logRetentionDays must be one of 1, 3, 5, 7, 14, 30, .*3653, got 10/],
    ['log retention of 0 (never expire)', (p) => ({ ...p, logRetentionDays: 0 }), /logRetentionDays must be one of/],
    ['VPC CIDR without prefix', (p) => ({ ...p, network: { ...p.network, vpcCidr: '10.0.0.0' } }), /network\.vpcCidr must be an IPv4 CIDR from \/16 to \/20, got "10\.0\.0\.0"/],
    ['VPC CIDR /24', (p) => ({ ...p, network: { ...p.network, vpcCidr: '10.0.0.0/24' } }), /network\.vpcCidr must be an IPv4 CIDR from \/16 to \/20/],
    ['VPC CIDR octet over 255', (p) => ({ ...p, network: { ...p.network, vpcCidr: '10.300.0.0/16' } }), /network\.vpcCidr/],
    ['unknown NAT mode', (p) => ({ ...p, network: { ...p.network, natGateways: 'none' as never } }), /network\.natGateways must be one of "per-az", "single", got "none"/],
    ['no backups', (p) => ({ ...p, database: { ...p.database, backupRetentionDays: 0 } }), /database\.backupRetentionDays must be an integer from 1 to 35/],
    ['monitoring every 7 s', (p) => ({ ...p, database: { ...p.database, monitoringIntervalSeconds: 7 } }), /database\.monitoringIntervalSeconds must be one of 0, 1, 5, 10, 15, 30, 60/],
    ['reserved master user', (p) => ({ ...p, database: { ...p.database, masterUsername: 'admin' } }), /database\.masterUsername .*not one of admin, root/],
    ['protected database skipping its final snapshot', (p) => ({ ...p, database: { ...p.database, deletionProtection: true, skipFinalSnapshot: true } }), /database\.skipFinalSnapshot must be false when deletionProtection is true/],
    ['autoscaling ceiling below storage', (p) => ({ ...p, database: { ...p.database, maxAllocatedStorageGb: 10 } }), /database\.maxAllocatedStorageGb/],
    ['idle connections above max connections', (p) => ({ ...p, proxy: { ...p.proxy, maxIdleConnectionsPercent: 95 } }), /proxy\.maxIdleConnectionsPercent must be an integer from 0 to 90/],
    ['128 MB below minimum', (p) => ({ ...p, function: { ...p.function, memoryMb: 64 } }), /function\.memoryMb must be an integer from 128 to 10240/],
    ['reserved concurrency 0', (p) => ({ ...p, function: { ...p.function, reservedConcurrency: 0 } }), /function\.reservedConcurrency must be an integer from 1 to 10000/],
    ['zero rate limit', (p) => ({ ...p, api: { ...p.api, throttlingRateLimit: 0 } }), /api\.throttlingRateLimit must be a number above 0/],
    ['S3 bucket with upper case', (p) => ({ ...p, stateBackend: { bucket: 'My_Bucket', region: 'eu-west-1', keyPrefix: 'hits' } }), /stateBackend\.bucket must be an S3 bucket name, got "My_Bucket"/],
    ['S3 bucket too short', (p) => ({ ...p, stateBackend: { bucket: 'ab', region: 'eu-west-1', keyPrefix: 'hits' } }), /stateBackend\.bucket/],
    ['S3 region not a region', (p) => ({ ...p, stateBackend: { bucket: 'tf-state', region: 'Ireland', keyPrefix: 'hits' } }), /stateBackend\.region must be an AWS region/],
    ['S3 key prefix with a leading slash', (p) => ({ ...p, stateBackend: { bucket: 'tf-state', region: 'eu-west-1', keyPrefix: '/hits' } }), /stateBackend\.keyPrefix must be a non-empty S3 key prefix without leading or trailing "\/"/],
    ['S3 key prefix with a trailing slash', (p) => ({ ...p, stateBackend: { bucket: 'tf-state', region: 'eu-west-1', keyPrefix: 'hits/' } }), /stateBackend\.keyPrefix/],
    ['S3 key prefix empty', (p) => ({ ...p, stateBackend: { bucket: 'tf-state', region: 'eu-west-1', keyPrefix: '' } }), /stateBackend\.keyPrefix/],
  ])('%s', (_case, f, message) => {
    const bad = patch(fixture, f);
    expect(() => validateProfile(bad)).toThrow(ProfileError);
    expect(() => validateProfile(bad)).toThrow(message);
  });

  test('a cache-disabled profile is not checked for cache settings', () => {
    expect(() => validateProfile(patch(fixture, (p) => ({ ...p, cache: { ...p.cache, enabled: false, numCacheNodes: 1 } })))).not.toThrow();
  });

  test('ProfileError carries the profile and the field', () => {
    try {
      validateProfile(patch(other, (p) => ({ ...p, network: { ...p.network, azCount: 1 } })));
      throw new Error('expected a ProfileError');
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
      expect(e).toMatchObject({ profile: 'other', field: 'network.azCount', name: 'ProfileError' });
    }
  });

  /** The ProfileError validating `input` throws (fails the test when there is none). */
  const errorOf = (run: () => unknown): ProfileError => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
      return e as ProfileError;
    }
    throw new Error('expected a ProfileError');
  };

  test('a profile with several problems names every one in one error: the schema\'s and the relating rules\'', () => {
    const borrow = fixture.proxy.connectionBorrowTimeoutSeconds;
    const bad = patch(fixture, (p) => ({
      ...p,
      network: { ...p.network, azCount: 1, flowlogs: true } as Profile['network'],
      database: { ...p.database, appUsername: p.database.masterUsername },
      function: { ...p.function, timeoutSeconds: borrow },
    }));
    const e = errorOf(() => validateProfile(bad));
    expect(e.problems.map((x) => x.field)).toEqual(['network.flowlogs', 'network.azCount', 'database.appUsername', 'function.timeoutSeconds']);
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('4 problems in the profiles:');
    expect(lines.slice(1)).toEqual(e.problems.map((x) => expect.stringContaining(`profile "fixture": ${x.field}`)));
    expect(e).toMatchObject({ profile: 'fixture', field: 'network.flowlogs' });
  });

  test.each([
    ['database.appUsername', 'appUserName'],
    ['region', 'regoin'],
    ['database.engineVersion', 'engineversion'],
    ['database', 'databse'],
  ])('a relating rule that reads %s is not run when a misspelling (%s) replaces it: one problem, the misspelling', (setting, misspelt) => {
    const at = setting.split('.');
    const bad = patch(fixture, (p) => {
      const copy = p as any;
      const parent = at.slice(0, -1).reduce((o, k) => o[k], copy);
      parent[misspelt] = parent[at[at.length - 1]];
      delete parent[at[at.length - 1]];
      return copy;
    });
    const e = errorOf(() => validateProfile(bad));
    expect(e.problems.map((x) => `${x.field}: ${x.detail}`)).toEqual([`${[...at.slice(0, -1), misspelt].join('.')}: unknown setting, did you mean ${at[at.length - 1]}?`]);
  });

  test('a relating rule is not run on a setting the schema already refused (its value cannot be trusted)', () => {
    const e = errorOf(() => validateProfile(patch(fixture, (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 0 } }))));
    // 0 is below the schema's range, and would also fail the borrow-timeout rule if that rule ran on it.
    expect(e.problems.map((x) => x.field)).toEqual(['function.timeoutSeconds']);
    expect(e.message).not.toMatch(/greater than proxy/);
  });

  test('loadProfiles names the problems of every profile at once, a duplicate name included', () => {
    const e = errorOf(() =>
      loadProfiles({}, [
        patch(fixture, (p) => ({ ...p, network: { ...p.network, azCount: 1 } })),
        patch(other, (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 30 } })),
        { ...other, name: 'fixture' },
      ]),
    );
    expect(e.problems.map((x) => `${x.profile} ${x.field}`)).toEqual(['fixture network.azCount', 'other function.timeoutSeconds', 'fixture name']);
  });

  test('loadProfiles refuses two profiles with the same name (stack ids must be unique)', () => {
    expect(() => loadProfiles({}, [fixture, { ...other, name: 'fixture' }])).toThrow(/profile "fixture": name is used by another profile; stack ids must be unique/);
  });

  test('loadProfiles validates every profile', () => {
    expect(() => loadProfiles({}, [fixture, patch(other, (p) => ({ ...p, function: { ...p.function, timeoutSeconds: 30 } }))])).toThrow(/profile "other": function\.timeoutSeconds/);
  });

  test('loadProfiles refuses a bad bucket from the environment, naming the field', () => {
    expect(() => loadProfiles({ TF_STATE_BUCKET: 'Not A Bucket' })).toThrow(/stateBackend\.bucket/);
  });
});

describe('state backend from the environment', () => {
  test('no TF_STATE_BUCKET (or a blank one): the profile setting, i.e. none', () => {
    expect(stateBackendFromEnv(fixture, {})).toBeUndefined();
    expect(stateBackendFromEnv(fixture, { TF_STATE_BUCKET: '  ', TF_STATE_REGION: 'us-east-1' })).toBeUndefined();
  });

  test('TF_STATE_BUCKET alone: the profile region and the project as key prefix', () => {
    expect(stateBackendFromEnv(other, { TF_STATE_BUCKET: 'acme-tf-state' })).toEqual({ bucket: 'acme-tf-state', region: other.region, keyPrefix: other.project });
  });

  test('TF_STATE_REGION and TF_STATE_KEY_PREFIX override, trimmed', () => {
    expect(stateBackendFromEnv(fixture, { TF_STATE_BUCKET: ' acme-tf-state ', TF_STATE_REGION: ' us-east-1 ', TF_STATE_KEY_PREFIX: ' teams/hits ' })).toEqual({
      bucket: 'acme-tf-state',
      region: 'us-east-1',
      keyPrefix: 'teams/hits',
    });
  });

  test("a profile's own backend supplies region and prefix when the environment names only the bucket", () => {
    const withBackend: Profile = { ...fixture, stateBackend: { bucket: 'configured', region: 'eu-central-1', keyPrefix: 'configured-prefix' } };
    expect(stateBackendFromEnv(withBackend, {})).toBe(withBackend.stateBackend);
    expect(stateBackendFromEnv(withBackend, { TF_STATE_BUCKET: 'from-env' })).toEqual({ bucket: 'from-env', region: 'eu-central-1', keyPrefix: 'configured-prefix' });
  });

  describe('synthesized with TF_STATE_BUCKET', () => {
    const profiles = loadProfiles({ TF_STATE_BUCKET: 'acme-tf-state', TF_STATE_KEY_PREFIX: 'platform/hits' });
    const environments = synthEnvironments(profiles, 's3-backend');
    const stacks = environments.flatMap((env) => (['network', 'data', 'api', 'ops'] as const).map((kind) => ({ env, kind, id: env.stacks[kind].node.id, json: env[kind] })));

    test('every profile gets the S3 backend, in its own region', () => {
      expect(profiles.map((p) => p.stateBackend)).toEqual(PROFILES.map((p) => ({ bucket: 'acme-tf-state', region: p.region, keyPrefix: 'platform/hits' })));
    });

    test.each(stacks.map((s) => [s.id, s] as const))('%s: backend s3, key <prefix>/<stack id>.tfstate, use_lockfile, encrypted', (id, { env, json }) => {
      expect(json.terraform.backend).toEqual({
        s3: { bucket: 'acme-tf-state', region: env.profile.region, key: `platform/hits/${id}.tfstate`, encrypt: true, use_lockfile: true },
      });
    });

    test.each(stacks.filter((s) => s.kind !== 'network').map((s) => [s.id, s] as const))('%s: reads its producers from their S3 state', (_id, { env, kind, json }) => {
      const producers = kind === 'data' ? [env.stacks.network.node.id] : kind === 'ops' ? [env.stacks.network.node.id, env.stacks.data.node.id, env.stacks.api.node.id] : [env.stacks.network.node.id, env.stacks.data.node.id];
      const remote = json.data?.terraform_remote_state ?? {};
      expect(Object.keys(remote).sort()).toEqual(producers.map((p) => `cross-stack-reference-input-${p}`).sort());
      for (const producer of producers) {
        expect(remote[`cross-stack-reference-input-${producer}`]).toMatchObject({
          backend: 's3',
          config: expect.objectContaining({ bucket: 'acme-tf-state', region: env.profile.region, key: `platform/hits/${producer}.tfstate` }),
        });
      }
    });

    test('no stack keeps a local backend or a local remote state', () => {
      for (const { json } of stacks) {
        expect(json.terraform.backend.local).toBeUndefined();
        expect(JSON.stringify(json.data ?? {})).not.toContain('"backend":"local"');
      }
    });
  });
});
