/**
 * One home per bound: the contracts (contracts/) are imported by the profile schema, the functions and the
 * tools. This suite walks the three layers with the same values, at each bound and one past it, and shows
 * they accept and refuse alike: a layer that kept a copy of its own (and drifted) fails here.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { PROFILES, ProfileError, validateProfile, type Profile } from '../../config';
import { shapeProblems } from '../../config/schema';
import { AWS_REGION_PATTERN, MAX_TENANT_COUNT, MAX_TENANT_ROWS, TENANT_ID_MAX_DIGITS, TENANT_PREFIX_MAX_LENGTH } from '../../contracts';
import { ConfigError } from '../../functions/lib/env';
import { loadMigrateConfig } from '../../functions/migrate/handler';
import { loadTenantsConfig } from '../../functions/tenants/config';
import { parseTenantId } from '../../functions/tenants/tenant-id';
import { OptionError } from '../../tools/load/errors';
import { parseOptions } from '../../tools/load/options';
import { DEPLOYED_ENTRY_ENV } from '../support/migrate';

/** A valid profile to vary: whichever ships first, with tenants on (its own settings otherwise). */
const base: Profile = { ...structuredClone(PROFILES[0]), tenants: { ...PROFILES[0].tenants, count: 1 } };
const withTenants = (tenants: Partial<Profile['tenants']>) => ({ ...base, tenants: { ...base.tenants, ...tenants } });

/** Each layer's answer to one value: true (accepted) or false (refused, with an error that names the setting). */
const layers = {
  schema(patch: Partial<Profile['tenants']>): boolean {
    try {
      validateProfile(withTenants(patch));
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      expect((err as Error).message).toMatch(new RegExp(`tenants\\.(${Object.keys(patch).join('|')})`));
      return false;
    }
  },
  tenantsFunction(env: Record<string, string>): boolean {
    const iam = { TENANT_COUNT: '1', DB_HOST: 'prx.example', TENANT_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/t', DB_RESOURCE_ID: 'prx-0123abcd', AWS_REGION: 'eu-west-1' };
    return accepted(() => loadTenantsConfig({ ...iam, ...env }), Object.keys(env)[0]);
  },
  migration(env: Record<string, string>): boolean {
    return accepted(() => loadMigrateConfig({ ...DEPLOYED_ENTRY_ENV, TENANT_COUNT: '1', ...env }), Object.keys(env)[0]);
  },
  loadTool(argv: string[]): boolean {
    try {
      parseOptions(['--arm', 'a=http://127.0.0.1:9', ...argv]);
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(OptionError);
      expect((err as Error).message).toContain(argv[0]);
      return false;
    }
  },
};

function accepted(load: () => unknown, variable: string): boolean {
  try {
    load();
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    return false;
  }
}

describe('tenant count: every layer takes MAX_TENANT_COUNT and refuses one more', () => {
  test.each([
    [MAX_TENANT_COUNT, true],
    [MAX_TENANT_COUNT + 1, false],
  ])('%i', (count, ok) => {
    expect({
      schema: layers.schema({ count }),
      tenantsFunction: layers.tenantsFunction({ TENANT_COUNT: String(count) }),
      migration: layers.migration({ TENANT_COUNT: String(count) }),
      loadTool: layers.loadTool(['--tenants', String(count)]),
    }).toEqual({ schema: ok, tenantsFunction: ok, migration: ok, loadTool: ok });
  });
});

test('tenant ids: the highest id of the highest count is a tenant; a longer id is unknown, never rounded', () => {
  const highest = String(MAX_TENANT_COUNT - 1);
  expect(highest).toHaveLength(TENANT_ID_MAX_DIGITS);
  expect(parseTenantId(highest, MAX_TENANT_COUNT)).toEqual({ kind: 'tenant', tenant: MAX_TENANT_COUNT - 1 });
  expect(parseTenantId(String(MAX_TENANT_COUNT), MAX_TENANT_COUNT)).toEqual({ kind: 'unknown' });
  expect(parseTenantId('9'.repeat(20), MAX_TENANT_COUNT)).toEqual({ kind: 'unknown' });
});

describe('tenant prefix: every layer takes TENANT_PREFIX_MAX_LENGTH characters and refuses one more', () => {
  test.each([
    ['t'.repeat(TENANT_PREFIX_MAX_LENGTH), true],
    ['t'.repeat(TENANT_PREFIX_MAX_LENGTH + 1), false],
    ['Tenant_', false],
  ])('%s', (prefix, ok) => {
    expect({
      schema: layers.schema({ prefix }),
      tenantsFunction: layers.tenantsFunction({ TENANT_PREFIX: prefix }),
      migration: layers.migration({ TENANT_PREFIX: prefix }),
    }).toEqual({ schema: ok, tenantsFunction: ok, migration: ok });
  });
});

describe('rows per tenant: the schema and the migration share MAX_TENANT_ROWS', () => {
  test.each([
    [MAX_TENANT_ROWS, true],
    [MAX_TENANT_ROWS + 1, false],
  ])('%i', (rows, ok) => {
    expect({ schema: layers.schema({ rowsPerTenant: rows }), migration: layers.migration({ TENANT_ROWS: String(rows) }) }).toEqual({ schema: ok, migration: ok });
  });
});

describe('region names: the schema, the tenants function and the load tool agree', () => {
  // The schema's pattern alone (validateProfile also asks the RDS Proxy support table, which lists only some regions).
  const schemaTakes = (region: string) => !shapeProblems({ ...base, region }).some((p) => p.path === 'region');
  test.each([
    ['eu-west-1', true],
    ['us-gov-west-1', true],
    ['ap-southeast-5', true],
    ['EU-west-1', false],
    ['eu-west', false],
    ['eu-west-1a', false],
  ])('%s', (region, ok) => {
    expect(AWS_REGION_PATTERN.test(region)).toBe(ok);
    expect({
      schema: schemaTakes(region),
      tenantsFunction: layers.tenantsFunction({ AWS_REGION: region }),
      loadTool: layers.loadTool(['--region', region, '--on', 'lambda', '--count', '1', '--duration', '60']),
    }).toEqual({ schema: ok, tenantsFunction: ok, loadTool: ok });
  });
});

test('contracts/ is dependency-free: its files import only each other', () => {
  const dir = path.join(__dirname, '..', '..', 'contracts');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(1);
  for (const file of files) {
    const specifiers = [...readFileSync(path.join(dir, file), 'utf8').matchAll(/(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect({ file, outside: specifiers.filter((s) => !/^\.\/[\w-]+$/.test(s)) }).toEqual({ file, outside: [] });
  }
});
