/**
 * Tenant provisioning against a real MariaDB: fresh, re-run, raise, lower, an interrupted run, and what
 * each tenant's user may do. MariaDB has no AWSAuthenticationPlugin, so tenants' users get a password
 * here; the IAM clause is the migrations' own (checked there against AWS's documentation).
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { provisionTenants, type TenantProvisioningOptions } from '../../functions/migrate/tenants';
import { passwordAuth } from '../../functions/migrate/runner';
import { MariaDb } from '../../scripts/services';

let db: MariaDb;
let master: Connection;
const open: Connection[] = [];
const PASSWORD = 'tenant-local-password';

beforeAll(async () => {
  db = await MariaDb.start();
  // A master user like RDS's: everything, with GRANT OPTION, over TCP.
  await db.sql("CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY 'master-pw'");
  await db.sql("GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION");
  master = await createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw' });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await master?.end();
  await db?.destroy();
});

let prefixSeq = 0;
/** A fresh prefix per test, so tests do not see each other's tenants. */
function options(over: Partial<TenantProvisioningOptions> = {}): TenantProvisioningOptions {
  return { count: 3, prefix: `p${++prefixSeq}_`, rowsPerTenant: 50, auth: passwordAuth(PASSWORD), batchRows: 20, ...over };
}

async function asTenant(prefix: string, t: number): Promise<Connection> {
  const c = await createConnection({ host: db.host, port: db.port, user: `${prefix}${t}`, password: PASSWORD });
  open.push(c);
  return c;
}

/** Every row of every tenant database with this prefix, as root: what a run must not change. */
async function snapshot(prefix: string): Promise<Record<string, unknown[]>> {
  const dbs = await db.sql<Array<{ name: string }>>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1', [`${prefix.replace(/_/g, '\\_')}%`]);
  const out: Record<string, unknown[]> = {};
  for (const { name } of dbs) out[name] = await db.sql<unknown[]>('SELECT * FROM ??.items ORDER BY id', [name]);
  return out;
}

async function users(prefix: string): Promise<string[]> {
  const rows = await db.sql<Array<{ User: string }>>('SELECT User FROM mysql.user WHERE User LIKE ? ORDER BY User', [`${prefix.replace(/_/g, '\\_')}%`]);
  return rows.map((r) => r.User);
}

test('fresh: a database, a seeded items table and a user per tenant; a re-run changes nothing', async () => {
  const o = options();
  const first = await provisionTenants(master, o);
  expect(first).toMatchObject({ provisioned: [0, 1, 2], present: 0, leftInPlace: [], rowsInserted: 150 });
  const before = await snapshot(o.prefix);
  expect(Object.keys(before)).toEqual([0, 1, 2].map((t) => `${o.prefix}${t}`));
  for (const rows of Object.values(before)) {
    expect(rows).toHaveLength(o.rowsPerTenant);
    for (const r of rows as Array<Record<string, number>>) {
      expect(Object.keys(r).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'id']);
      for (const k of ['c1', 'c2', 'c3', 'c4', 'c5']) expect(Number.isInteger(r[k])).toBe(true);
    }
  }
  // Random values: two tenants' tables are not copies of each other.
  expect(before[`${o.prefix}0`]).not.toEqual(before[`${o.prefix}1`]);
  expect(await users(o.prefix)).toEqual([0, 1, 2].map((t) => `${o.prefix}${t}`));

  const again = await provisionTenants(master, o);
  expect(again).toMatchObject({ provisioned: [], present: 3, leftInPlace: [], rowsInserted: 0 });
  expect(await snapshot(o.prefix)).toEqual(before);
});

test('raising the count provisions only the new tenants; lowering it drops nothing and reports what is left', async () => {
  const o = options({ count: 2 });
  await provisionTenants(master, o);
  const two = await snapshot(o.prefix);
  const raised = await provisionTenants(master, { ...o, count: 4 });
  expect(raised).toMatchObject({ provisioned: [2, 3], present: 2, leftInPlace: [], rowsInserted: 2 * o.rowsPerTenant });
  const four = await snapshot(o.prefix);
  expect(four[`${o.prefix}0`]).toEqual(two[`${o.prefix}0`]);
  expect(four[`${o.prefix}1`]).toEqual(two[`${o.prefix}1`]);

  const lowered = await provisionTenants(master, { ...o, count: 1 });
  expect(lowered).toMatchObject({ provisioned: [], present: 1, leftInPlace: [1, 2, 3], rowsInserted: 0 });
  expect(await snapshot(o.prefix)).toEqual(four);
  expect(await users(o.prefix)).toEqual([0, 1, 2, 3].map((t) => `${o.prefix}${t}`));
  // Still served by MySQL: a tenant above the count keeps its login and its rows.
  const c = await asTenant(o.prefix, 3);
  const [rows] = await c.query('SELECT COUNT(*) AS n FROM ??.items', [`${o.prefix}3`]);
  expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(o.rowsPerTenant);
});

test('a run interrupted after seeding and before the user completes the tenant without seeding twice', async () => {
  const o = options({ count: 1 });
  await provisionTenants(master, o);
  const name = `${o.prefix}0`;
  const rowsBefore = await snapshot(o.prefix);
  // As if the run had stopped between the seed's COMMIT and CREATE USER.
  await db.sql("DROP USER ?@'%'", [name]);
  const healed = await provisionTenants(master, o);
  expect(healed).toMatchObject({ provisioned: [0], rowsInserted: 0 });
  expect(await snapshot(o.prefix)).toEqual(rowsBefore);
  const c = await asTenant(o.prefix, 0);
  await expect(c.query('SELECT id FROM ??.items LIMIT 1', [name])).resolves.toBeDefined();
});

test("each tenant's user may SELECT, INSERT, UPDATE its own items and nothing else", async () => {
  const o = options({ count: 2 });
  await provisionTenants(master, o);
  const [own, other] = [`${o.prefix}0`, `${o.prefix}1`];
  const c = await asTenant(o.prefix, 0);
  await c.query('INSERT INTO ??.items (c1, c2, c3, c4, c5) VALUES (?, ?, ?, ?, ?)', [own, 1, 2, 3, 4, 5]);
  await c.query('UPDATE ??.items SET c1 = ? WHERE c1 = ? AND c5 = ?', [own, 11, 1, 5]);
  const [mine] = await c.query('SELECT c1 FROM ??.items WHERE c1 = 11', [own]);
  expect(mine).toHaveLength(1);

  // Cross-tenant: MySQL refuses another tenant's table and database.
  await expect(c.query('SELECT * FROM ??.items', [other])).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
  await expect(c.query('INSERT INTO ??.items (c1, c2, c3, c4, c5) VALUES (1, 1, 1, 1, 1)', [other])).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
  await expect(c.query('USE ??', [other])).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
  await expect(createConnection({ host: db.host, port: db.port, user: own, password: PASSWORD, database: other })).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
  // No DELETE, no DDL, no GRANT.
  await expect(c.query('DELETE FROM ??.items', [own])).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
  await expect(c.query('CREATE TABLE ??.extra (id INT)', [own])).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
  await expect(c.query('DROP TABLE ??.items', [own])).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
  await expect(c.query("GRANT SELECT ON ??.items TO ?@'%'", [own, other])).rejects.toMatchObject({ code: expect.stringMatching(/^ER_(TABLEACCESS_DENIED_ERROR|ACCESS_DENIED_ERROR)$/) });

  const grants = (await db.sql<Array<Record<string, string>>>("SHOW GRANTS FOR ?@'%'", [own])).map((r) => Object.values(r)[0]);
  expect(grants.filter((g) => !g.startsWith('GRANT USAGE ON *.*'))).toEqual([`GRANT SELECT, INSERT, UPDATE ON \`${own}\`.\`items\` TO \`${own}\`@\`%\``]);
});

test('a bad count, prefix or row count is refused before any statement, naming the field', async () => {
  const calls: unknown[] = [];
  const spy = { query: async (q: unknown) => (calls.push(q), [[]]) };
  await expect(provisionTenants(spy, options({ count: -1 }))).rejects.toThrow(/tenants count/);
  await expect(provisionTenants(spy, options({ count: 1.5 }))).rejects.toThrow(/tenants count/);
  await expect(provisionTenants(spy, options({ prefix: 'Tenant-' }))).rejects.toThrow(/tenants prefix/);
  await expect(provisionTenants(spy, options({ prefix: 'a_very_long_prefix_that_overflows_' }))).rejects.toThrow(/tenants prefix/);
  await expect(provisionTenants(spy, options({ rowsPerTenant: -5 }))).rejects.toThrow(/tenants rowsPerTenant/);
  expect(calls).toEqual([]);
});

test('seed rows go in multi-row INSERTs of at most batchRows rows, values as placeholders', async () => {
  const o = options({ count: 1, rowsPerTenant: 45, batchRows: 20 });
  const inserts: Array<{ sql: string; values?: unknown[] }> = [];
  const recording = {
    query: (q: { sql: string; values?: unknown[] }) => {
      if (q.sql.startsWith('INSERT')) inserts.push(q);
      return master.query(q);
    },
  };
  await provisionTenants(recording, o);
  expect(inserts.map((q) => (q.values!.length - 1) / 5)).toEqual([20, 20, 5]);
  for (const q of inserts) expect(q.sql.replace(/\bc[1-5]\b/g, 'c')).not.toMatch(/\d/);
  expect((await snapshot(o.prefix))[`${o.prefix}0`]).toHaveLength(45);
});
