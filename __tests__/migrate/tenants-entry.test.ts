/**
 * The migrate entry point provisions tenants from its environment (TENANT_COUNT, TENANT_PREFIX,
 * TENANT_ROWS, TENANT_PASSWORD locally) after the migrations and the application user, against a real
 * MariaDB: a first run provisions, a re-run is a no-op, a lower count leaves tenants in place, and bad
 * settings fail naming the variable before any connection. The IAM clause is the migrations' own.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { IAM_AUTH, passwordAuth } from '../../functions/migrate/runner';
import { MariaDb, migrateLocalDatabase } from '../../scripts/services';
import { asEntryPoint } from '../support/hits';
import { DEPLOYED_ENTRY_ENV, localEntryEnv } from '../support/migrate';

let db: MariaDb;
const open: Connection[] = [];

beforeAll(async () => {
  db = await MariaDb.start();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await db?.destroy();
});

let seq = 0;
function fresh() {
  seq++;
  return { database: `tmig_${seq}`, appUser: `tapp_${seq}`, appPassword: `pw-${seq}`, prefix: `te${seq}_`, tenantPassword: `tenant-pw-${seq}` };
}

type Fresh = ReturnType<typeof fresh>;

function entryEnv(f: Fresh, master: { user: string; password: string }, tenants: Record<string, string>): Record<string, string> {
  return { ...localEntryEnv(db, f, master), TENANT_PREFIX: f.prefix, TENANT_PASSWORD: f.tenantPassword, ...tenants };
}


async function runEntry(env: Record<string, string | undefined>) {
  const { migrate } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');
  const { result, lines } = await asEntryPoint(env, () => migrate(process.env).then((answer) => ({ answer, error: undefined }), (err: Error) => ({ answer: undefined, error: err })));
  return { ...result, logs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function itemCount(f: Fresh, t: number): Promise<number> {
  const c = await createConnection({ host: db.host, port: db.port, user: `${f.prefix}${t}`, password: f.tenantPassword });
  open.push(c);
  const [rows] = await c.query({ sql: 'SELECT COUNT(*) AS n FROM ??.items', values: [`${f.prefix}${t}`] });
  return Number((rows as Array<{ n: number }>)[0].n);
}

test('provisions the tenants from its environment after the migrations; a re-run is a no-op; a lower count leaves tenants in place', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const first = await runEntry(entryEnv(f, master, { TENANT_COUNT: '3', TENANT_ROWS: '25' }));
  expect(first.error).toBeUndefined();
  expect(first.answer?.tenants).toEqual({ provisioned: [0, 1, 2], present: 0, leftInPlace: [], rowsInserted: 75 });
  // The migrations ran too, in the same invocation.
  expect(first.answer?.appUserCreated).toBe(true);
  for (const t of [0, 1, 2]) expect(await itemCount(f, t)).toBe(25);
  expect(JSON.stringify(first.logs)).not.toContain(f.tenantPassword);

  const again = await runEntry(entryEnv(f, master, { TENANT_COUNT: '3', TENANT_ROWS: '25' }));
  expect(again.answer?.tenants).toEqual({ provisioned: [], present: 3, leftInPlace: [], rowsInserted: 0 });
  for (const t of [0, 1, 2]) expect(await itemCount(f, t)).toBe(25);

  const lowered = await runEntry(entryEnv(f, master, { TENANT_COUNT: '1', TENANT_ROWS: '25' }));
  expect(lowered.answer?.tenants).toEqual({ provisioned: [], present: 1, leftInPlace: [1, 2], rowsInserted: 0 });
  expect(lowered.logs.find((l) => l.level === 'warn' && Array.isArray(l.leftInPlace))).toMatchObject({ leftInPlace: [1, 2] });
  // Nothing dropped: the tenants above the count still log in and keep their rows.
  expect(await itemCount(f, 2)).toBe(25);

  const raised = await runEntry(entryEnv(f, master, { TENANT_COUNT: '4', TENANT_ROWS: '10' }));
  expect(raised.answer?.tenants).toEqual({ provisioned: [3], present: 3, leftInPlace: [], rowsInserted: 10 });
});

test('off when TENANT_COUNT is 0 or unset: no tenants field, no tenant databases', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  for (const count of [undefined, '0']) {
    const run = await runEntry(entryEnv(f, master, count === undefined ? {} : { TENANT_COUNT: count }));
    expect(run.error).toBeUndefined();
    expect(run.answer).not.toHaveProperty('tenants');
  }
  const dbs = await db.sql<unknown[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${f.prefix.replace(/_/g, '\\_')}%`]);
  expect(dbs).toEqual([]);
});

describe('tenant settings: errors name the variable; the auth clause follows the application user', () => {
  const base = DEPLOYED_ENTRY_ENV;
  const { loadMigrateConfig } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');

  test('in AWS (APP_DB_AUTH=iam) tenant users get the IAM clause, with the defaults for prefix and rows', () => {
    expect(loadMigrateConfig({ ...base, TENANT_COUNT: '3' }).tenants).toEqual({ count: 3, prefix: 'tenant_', rowsPerTenant: 1000, auth: IAM_AUTH });
    expect(loadMigrateConfig(base).tenants).toBeUndefined();
    expect(loadMigrateConfig({ ...base, TENANT_COUNT: '0' }).tenants).toBeUndefined();
  });

  test('locally (APP_DB_AUTH=password) tenant users get TENANT_PASSWORD', () => {
    const local = { ...base, APP_DB_AUTH: 'password', APP_DB_PASSWORD: 'app-pw', TENANT_COUNT: '2', TENANT_PASSWORD: 'tpw', TENANT_ROWS: '7', TENANT_PREFIX: 'acme_' };
    expect(loadMigrateConfig(local).tenants).toEqual({ count: 2, prefix: 'acme_', rowsPerTenant: 7, auth: passwordAuth('tpw') });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['a count that is no number', { TENANT_COUNT: 'three' }, /TENANT_COUNT: must be a whole number/],
    ['a negative count', { TENANT_COUNT: '-1' }, /TENANT_COUNT/],
    ['a count above the maximum', { TENANT_COUNT: '1000001' }, /TENANT_COUNT: must be between 0 and 1000000/],
    ['a prefix MySQL would refuse', { TENANT_COUNT: '1', TENANT_PREFIX: 'Tenant-' }, /TENANT_PREFIX: must match/],
    ['rows that are no number', { TENANT_COUNT: '1', TENANT_ROWS: '1e3' }, /TENANT_ROWS: must be a whole number/],
    ['password mode without a tenant password', { TENANT_COUNT: '1', APP_DB_AUTH: 'password', APP_DB_PASSWORD: 'x' }, /TENANT_PASSWORD: is required/],
  ])('%s', (_what, patch, error) => {
    expect(() => loadMigrateConfig({ ...base, ...patch })).toThrow(error);
  });
});
