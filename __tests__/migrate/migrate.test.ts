/**
 * The deploy-time migrations against a real MariaDB started on a loopback port: fresh database, re-run,
 * concurrent runs, a failing migration, what the application user may and may not do, and the migrate
 * Lambda entry point. MariaDB has no AWSAuthenticationPlugin, so the application user gets a password
 * here; the IAM clause is checked as SQL text against AWS's documentation.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { MIGRATIONS } from '../../functions/migrate/migrations';
import { IAM_AUTH, MigrationError, lockName, migrationChecksum, passwordAuth, runMigrations, type Migration } from '../../functions/migrate/runner';
import { MariaDb, migrateLocalDatabase } from '../../scripts/services';
import { asEntryPoint } from '../support/hits';

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
/** A fresh database (and application user name) per test, so tests do not see each other's schema. */
function fresh() {
  seq++;
  return { database: `mig_${seq}`, appUser: `app_${seq}`, appPassword: `pw-${seq}` };
}

/** The migrate entry point's environment for `f`, logging in as `master` (local password mode, no TLS). */
function entryEnv(f: ReturnType<typeof fresh>, master: { user: string; password: string }): Record<string, string> {
  return {
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_NAME: f.database,
    DB_USER: master.user,
    DB_AUTH: 'password',
    DB_PASSWORD: master.password,
    DB_TLS: 'off',
    APP_DB_USER: f.appUser,
    APP_DB_AUTH: 'password',
    APP_DB_PASSWORD: f.appPassword,
  };
}

async function connectAs(user: string, password: string, database?: string): Promise<Connection> {
  const c = await createConnection({ host: db.host, port: db.port, user, password, database });
  open.push(c);
  return c;
}

const recorded = async (database: string) =>
  (await db.sql<Array<{ version: number; name: string; checksum: string }>>(`SELECT version, name, checksum FROM \`${database}\`.schema_migrations ORDER BY version`)).map((r) => ({ ...r, version: Number(r.version) }));

const allVersions = MIGRATIONS.map((m) => m.version);

test('a fresh database gets every migration, in order, recorded with its checksum; the hits table is as DESIGN says', async () => {
  const f = fresh();
  const { result } = await migrateLocalDatabase(db, f);
  expect(result).toEqual({ applied: allVersions, versions: allVersions });
  expect(await recorded(f.database)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, checksum: migrationChecksum(m) })));
  const cols = await db.sql<Array<{ c: string }>>(
    "SELECT CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE) AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'hits' ORDER BY ORDINAL_POSITION",
    [f.database],
  );
  expect(cols.map((r) => r.c)).toEqual(['id bigint(20) unsigned', 'path varchar(2048)', 'method varchar(16)', 'created_at datetime(3)']);
});

test('an up-to-date database: a second run applies nothing and changes nothing', async () => {
  const f = fresh();
  await migrateLocalDatabase(db, f);
  const before = await recorded(f.database);
  const grantsBefore = await db.sql(`SHOW GRANTS FOR ?@'%'`, [f.appUser]);
  const { result } = await migrateLocalDatabase(db, f);
  expect(result).toEqual({ applied: [], versions: allVersions });
  expect(await recorded(f.database)).toEqual(before);
  expect(await db.sql(`SHOW GRANTS FOR ?@'%'`, [f.appUser])).toEqual(grantsBefore);
});

test('two concurrent runs: exactly one applies, the other waits for the lock and finds everything applied', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] }); // database and master user only
  const [a, b] = await Promise.all([connectAs(master.user, master.password, f.database), connectAs(master.user, master.password, f.database)]);
  // Each run's first migration sleeps while holding the lock, so the runs overlap in time.
  const slow: Migration[] = [{ version: 1, name: 'slow start', statements: () => [{ sql: 'SELECT SLEEP(0.5)' }] }, ...MIGRATIONS.map((m) => ({ ...m, version: m.version + 1 }))];
  const ctx = { database: f.database, appUser: f.appUser, appHost: '%', appAuth: passwordAuth(f.appPassword), migrations: slow };
  const started = Date.now();
  const results = await Promise.all([runMigrations(a, ctx), runMigrations(b, ctx)]);
  const all = slow.map((m) => m.version);
  expect(results.map((r) => r.applied).sort((x, y) => y.length - x.length)).toEqual([all, []]);
  expect(results.every((r) => JSON.stringify(r.versions) === JSON.stringify(all))).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  expect((await recorded(f.database)).map((r) => r.version)).toEqual(all);
  // Both released the lock.
  expect(await db.sql<Array<{ free: number }>>('SELECT IS_FREE_LOCK(?) AS free', [lockName(f.database)])).toEqual([{ free: 1 }]);
});

test('a run that cannot get the lock in time fails without touching the schema', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const tables = () => db.sql(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, [f.database]);
  const before = await tables();
  const holder = await connectAs(master.user, master.password, f.database);
  await holder.query('SELECT GET_LOCK(?, 0)', [lockName(f.database)]);
  const runner = await connectAs(master.user, master.password, f.database);
  await expect(runMigrations(runner, { database: f.database, appUser: f.appUser, appHost: '%', appAuth: passwordAuth('x'), migrations: MIGRATIONS, lockTimeoutSeconds: 1 })).rejects.toThrow(/holds the lock/);
  expect(await tables()).toEqual(before);
  expect(before).toEqual([{ TABLE_NAME: 'schema_migrations' }]); // no hits table: nothing was applied
});

test('a failing migration leaves the earlier ones applied and recorded, names itself, and the next run resumes there', async () => {
  const f = fresh();
  const broken: Migration = { version: 4, name: 'a broken one', statements: () => [{ sql: 'ALTER TABLE no_such_table ADD COLUMN x INT' }] };
  const after: Migration = { version: 5, name: 'never reached', statements: () => [{ sql: 'SELECT 1' }] };
  let error: unknown;
  try {
    await migrateLocalDatabase(db, { ...f, migrations: [...MIGRATIONS, broken, after] });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(MigrationError);
  expect(error).toMatchObject({ version: 4, migrationName: 'a broken one', appliedVersions: allVersions });
  expect((error as Error).message).toMatch(/^migration 4 \(a broken one\) failed: .*no_such_table.*; applied versions: 1, 2, 3$/);
  expect((await recorded(f.database)).map((r) => r.version)).toEqual(allVersions);

  const fixed: Migration = { ...broken, statements: () => [{ sql: 'ALTER TABLE ??.hits ADD COLUMN note VARCHAR(10) NULL', values: [f.database] }] };
  const { result } = await migrateLocalDatabase(db, { ...f, migrations: [...MIGRATIONS, fixed, after] });
  expect(result).toEqual({ applied: [4, 5], versions: [...allVersions, 4, 5] });
});

test('an applied migration whose definition changed stops the run before anything is applied', async () => {
  const f = fresh();
  await migrateLocalDatabase(db, f);
  const edited = MIGRATIONS.map((m) => (m.version === 3 ? { ...m, statements: () => [{ sql: 'GRANT ALL ON ??.* TO ?@?', values: [f.database, f.appUser, '%'] }] } : m));
  const extra: Migration = { version: 9, name: 'new', statements: () => [{ sql: 'SELECT 1' }] };
  await expect(migrateLocalDatabase(db, { ...f, migrations: [...edited, extra] })).rejects.toThrow(/migration 3 .*definition changed/);
  expect((await recorded(f.database)).map((r) => r.version)).toEqual(allVersions);
});

describe('the application user', () => {
  let f: ReturnType<typeof fresh>;
  let app: Connection;

  beforeAll(async () => {
    f = fresh();
    await migrateLocalDatabase(db, f);
    await db.sql('CREATE DATABASE IF NOT EXISTS other_db');
    await db.sql('CREATE TABLE IF NOT EXISTS other_db.secrets (id INT PRIMARY KEY)');
  });

  beforeEach(async () => {
    app = await connectAs(f.appUser, f.appPassword, f.database);
  });

  test('holds exactly SELECT, INSERT, DELETE on <db>.hits and nothing else', async () => {
    const [rows] = await app.query('SHOW GRANTS');
    const grants = (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]);
    expect(grants).toHaveLength(2);
    expect(grants[0]).toMatch(/^GRANT USAGE ON \*\.\* TO `app_\d+`@`%` IDENTIFIED BY PASSWORD '\*[0-9A-F]+'$/);
    expect(grants[1]).toBe(`GRANT SELECT, INSERT, DELETE ON \`${f.database}\`.\`hits\` TO \`${f.appUser}\`@\`%\``);
  });

  test('may INSERT, SELECT and DELETE hits', async () => {
    await app.query('INSERT INTO hits (path, method, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))', ['/as-app', 'GET']);
    const [found] = await app.query('SELECT path FROM hits WHERE path = ?', ['/as-app']);
    expect(found).toEqual([{ path: '/as-app' }]);
    const [deleted] = await app.query('DELETE FROM hits WHERE path = ?', ['/as-app']);
    expect((deleted as { affectedRows: number }).affectedRows).toBe(1);
  });

  test.each([
    ['DROP TABLE', 'DROP TABLE hits', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['CREATE TABLE', 'CREATE TABLE sneaky (id INT)', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['ALTER TABLE', 'ALTER TABLE hits ADD COLUMN sneaky INT', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['UPDATE', "UPDATE hits SET path = '/x'", 'ER_TABLEACCESS_DENIED_ERROR'],
    ['TRUNCATE', 'TRUNCATE TABLE hits', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['reading schema_migrations', 'SELECT * FROM schema_migrations', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['another database', 'SELECT * FROM other_db.secrets', 'ER_TABLEACCESS_DENIED_ERROR'],
    ['creating a user', "CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", 'ER_SPECIFIC_ACCESS_DENIED_ERROR'],
    ['granting itself more', 'GRANT ALL ON *.* TO CURRENT_USER()', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR|ER_DBACCESS_DENIED_ERROR|ER_ACCESS_DENIED_ERROR'],
  ])('is refused %s', async (_what, sql, code) => {
    await expect(app.query(sql)).rejects.toMatchObject({ code: expect.stringMatching(new RegExp(`^(${code})$`)) });
    const [rows] = await app.query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'hits'");
    expect(rows).toEqual([{ n: 1 }]);
  });

  test('cannot use another database at all', async () => {
    await expect(connectAs(f.appUser, f.appPassword, 'other_db')).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
  });
});

test('the IAM clause is the SQL AWS documents for MySQL, and the migration renders it for the app user', () => {
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html:
  // CREATE USER 'jane_doe' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';
  expect(IAM_AUTH).toEqual({ sql: "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", values: [] });
  const createUser = MIGRATIONS.find((m) => m.name === 'create the application user')!;
  const [statement] = createUser.statements({ database: 'hits', appUser: 'hits_app', appHost: '%', appAuth: IAM_AUTH });
  const { format } = require('mysql2') as { format: (sql: string, values: unknown[]) => string };
  expect(format(statement.sql, [...(statement.values ?? [])])).toBe("CREATE USER IF NOT EXISTS 'hits_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'");
});

test('the migrate entry point: runs as the master user, answers the versions, and fails naming a bad setting', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const env = { ...entryEnv(f, master), MIGRATE_CONNECT_WAIT_SECONDS: '0' };
  const { result, lines } = await asEntryPoint(env, () => {
    let answer: Promise<unknown> | undefined;
    jest.isolateModules(() => (answer = require('../../functions/migrate/handler').handler()));
    return answer;
  });
  expect(result).toEqual({ applied: allVersions, versions: allVersions, database: f.database, appUser: f.appUser });
  expect(lines.filter((l) => l.includes('"msg":"migration applied"'))).toHaveLength(allVersions.length);
  expect(lines.join('')).not.toContain(f.appPassword);
  expect(lines.join('')).not.toContain(master.password);
  const app = await connectAs(f.appUser, f.appPassword, f.database);
  await app.query('SELECT * FROM hits');

  const { result: refused } = await asEntryPoint({ ...env, APP_DB_USER: master.user }, () =>
    (require('../../functions/migrate/handler').migrate(process.env) as Promise<unknown>).then(
      () => 'resolved',
      (err: Error) => err.message,
    ),
  );
  expect(refused).toMatch(/APP_DB_USER: must differ from DB_USER/);
});

describe('the entry point refuses a bad configuration, naming the variable, before connecting', () => {
  const base = { DB_HOST: 'prx.example', DB_NAME: 'hits', DB_USER: 'hits_admin', DB_AUTH: 'iam', AWS_REGION: 'eu-west-1', APP_DB_USER: 'hits_app' };
  const { loadMigrateConfig } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');

  test('the stacks\' settings: IAM to the proxy over verified TLS, the app user created for IAM on any host', () => {
    const config = loadMigrateConfig(base);
    expect(config).toMatchObject({ appUser: 'hits_app', appHost: '%', appAuth: IAM_AUTH, appAuthMode: 'iam', connectWaitMs: 180_000 });
    expect(config.db).toMatchObject({ auth: 'iam', tls: 'verify', user: 'hits_admin' });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['no app user', { APP_DB_USER: '' }, /APP_DB_USER: must be a MySQL user name/],
    ['an app user that is no identifier', { APP_DB_USER: "x'@'%" }, /APP_DB_USER/],
    ['the master user as the app user', { APP_DB_USER: 'HITS_ADMIN' }, /APP_DB_USER: must differ from DB_USER/],
    ['an unknown app auth', { APP_DB_AUTH: 'secret' }, /APP_DB_AUTH: must be one of iam, password/],
    ['password auth without a password', { APP_DB_AUTH: 'password' }, /APP_DB_PASSWORD: is required/],
    ['a wait that outlasts Lambda', { MIGRATE_CONNECT_WAIT_SECONDS: '900' }, /MIGRATE_CONNECT_WAIT_SECONDS/],
    ['IAM without TLS', { DB_TLS: 'off' }, /DB_TLS/],
  ])('%s', (_what, patch, error) => {
    expect(() => loadMigrateConfig({ ...base, ...patch })).toThrow(error);
  });
});

// Last: stops and restarts the server.
test('the entry point waits for a database that is not up yet (a new proxy target), then migrates; without a wait it fails at once', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const env = { ...entryEnv(f, master), DB_CONNECT_TIMEOUT_MS: '500' };
  const { migrate } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');
  await db.stop();
  let restarted: Promise<void> | undefined;
  try {
    const fast = await asEntryPoint({ ...env, MIGRATE_CONNECT_WAIT_SECONDS: '0' }, () => migrate(process.env).then(() => 'resolved', (err: { code?: string }) => err.code));
    expect(fast.result).toBe('ECONNREFUSED');

    const started = Date.now();
    restarted = new Promise((r) => setTimeout(r, 1500)).then(() => db.start());
    const { result, lines } = await asEntryPoint({ ...env, MIGRATE_CONNECT_WAIT_SECONDS: '30' }, () => migrate(process.env));
    expect(result).toEqual({ applied: allVersions, versions: allVersions, database: f.database, appUser: f.appUser });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(lines.filter((l) => l.includes('"msg":"database not reachable yet, retrying"')).length).toBeGreaterThanOrEqual(1);
  } finally {
    await restarted;
    if (!restarted) await db.start();
  }
});
