/**
 * The deploy-time migrations against a real MariaDB started on a loopback port (with TLS from a CA this
 * test makes): fresh database, re-run, concurrent runs, a failing migration, what the application user
 * may and may not do, a renamed application user, and the migrate Lambda entry point: secret mode through
 * a loopback Secrets Manager endpoint (the real SDK client talks to it), TLS verification, the retry window
 * of a first deploy (a database that comes up late, credentials that never work). MariaDB has no
 * AWSAuthenticationPlugin, so the application user gets a password here; the IAM clause is checked as SQL
 * text against AWS's documentation.
 */
import { X509Certificate } from 'crypto';
import { rmSync } from 'fs';
import * as http from 'http';
import * as path from 'path';
import { createConnection, type Connection } from 'mysql2/promise';
import { rdsCaBundle } from '../../functions/lib/credentials';
import { RETRY_MARGIN_MS, retryWindowMs, type MigrateContext } from '../../functions/migrate/handler';
import { MIGRATIONS } from '../../functions/migrate/migrations';
import { IAM_AUTH, MigrationError, lockName, migrationChecksum, passwordAuth, runMigrations, type Migration } from '../../functions/migrate/runner';
import { MariaDb, makeCerts, migrateLocalDatabase, tempDir, type TestCerts } from '../../scripts/services';
import { asEntryPoint } from '../support/hits';
import { DEPLOYED_ENTRY_ENV, localEntryEnv } from '../support/migrate';

let db: MariaDb;
let certDir: string;
let certs: TestCerts;
const open: Connection[] = [];

beforeAll(async () => {
  certDir = tempDir('hits-migrate-certs-');
  certs = await makeCerts(certDir);
  db = await MariaDb.start({ tls: certs });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await db?.destroy();
  rmSync(certDir, { recursive: true, force: true });
});

/** A Lambda context whose remaining time starts at `remainingMs` now and runs down with the clock. */
function contextWith(remainingMs: number): MigrateContext {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => Math.max(0, remainingMs - (Date.now() - started)) };
}

/** The entry point's answer, or the message it failed with. */
async function runEntry(env: Record<string, string | undefined>, context?: MigrateContext) {
  const { migrate } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');
  const started = Date.now();
  const { result, lines } = await asEntryPoint(env, () => migrate(process.env, context).then((answer) => ({ answer, error: undefined }), (err: Error) => ({ answer: undefined, error: err })));
  return { ...result, ms: Date.now() - started, logs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

let seq = 0;
/** A fresh database (and application user name) per test, so tests do not see each other's schema. */
function fresh() {
  seq++;
  return { database: `mig_${seq}`, appUser: `app_${seq}`, appPassword: `pw-${seq}` };
}

/** The migrate entry point's environment for `f`, logging in as `master` (local password mode, no TLS). */
const entryEnv = (f: ReturnType<typeof fresh>, master: { user: string; password: string }) => localEntryEnv(db, f, master);

async function connectAs(user: string, password: string, database?: string): Promise<Connection> {
  const c = await createConnection({ host: db.host, port: db.port, user, password, database });
  open.push(c);
  return c;
}

const recorded = async (database: string) =>
  (await db.sql<Array<{ version: number; name: string; checksum: string }>>(`SELECT version, name, checksum FROM \`${database}\`.schema_migrations ORDER BY version`)).map((r) => ({ ...r, version: Number(r.version) }));

const allVersions = MIGRATIONS.map((m) => m.version);

test('a fresh database gets every migration, in order, recorded with its checksum, and the hits table', async () => {
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
  const { result, appUser } = await migrateLocalDatabase(db, f);
  expect(result).toEqual({ applied: [], versions: allVersions });
  expect(appUser).toEqual({ user: f.appUser, host: '%', created: false, otherGrantees: [] });
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
  const env = entryEnv(f, master);
  const { result, lines } = await asEntryPoint(env, () => {
    let answer: Promise<unknown> | undefined;
    jest.isolateModules(() => (answer = require('../../functions/migrate/handler').handler({ reason: 'deploy' }, contextWith(RETRY_MARGIN_MS + 5000))));
    return answer;
  });
  expect(result).toEqual({ applied: allVersions, versions: allVersions, database: f.database, appUser: f.appUser, appUserCreated: true, otherGrantees: [] });
  expect(lines.filter((l) => l.includes('"msg":"migration applied"'))).toHaveLength(allVersions.length);
  expect(lines.join('')).not.toContain(f.appPassword);
  expect(lines.join('')).not.toContain(master.password);
  const app = await connectAs(f.appUser, f.appPassword, f.database);
  await app.query('SELECT * FROM hits');

  const refused = await runEntry({ ...env, APP_DB_USER: master.user });
  expect(refused.error?.message).toMatch(/APP_DB_USER: must differ from DB_USER/);
});

test('a renamed application user is created and granted on the next run; the old one is reported, not dropped', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, f);
  const renamed = { ...f, appUser: `${f.appUser}_new`, appPassword: `${f.appPassword}-new` };
  const first = await runEntry(entryEnv(renamed, master));
  expect(first.error).toBeUndefined();
  // Versions 2 and 3 were recorded for the old name: nothing versioned applies, the reconcile does the work.
  expect(first.answer).toEqual({ applied: [], versions: allVersions, database: f.database, appUser: renamed.appUser, appUserCreated: true, otherGrantees: [`'${f.appUser}'@'%'`] });
  expect(first.logs.find((l) => l.msg === 'other users still hold privileges on the hits table; drop them once nothing logs in as them')).toMatchObject({ level: 'warn', otherGrantees: [`'${f.appUser}'@'%'`] });

  const app = await connectAs(renamed.appUser, renamed.appPassword, f.database);
  await app.query('INSERT INTO hits (path, method, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))', ['/renamed', 'GET']);
  const [found] = await app.query('SELECT path FROM hits WHERE path = ?', ['/renamed']);
  expect(found).toEqual([{ path: '/renamed' }]);
  const [grants] = await app.query('SHOW GRANTS');
  expect((grants as Array<Record<string, string>>).map((r) => Object.values(r)[0])).toContain(`GRANT SELECT, INSERT, DELETE ON \`${f.database}\`.\`hits\` TO \`${renamed.appUser}\`@\`%\``);
  // The old user is still there and still works: dropping it is the operator's call.
  const old = await connectAs(f.appUser, f.appPassword, f.database);
  await old.query('SELECT COUNT(*) FROM hits');

  const again = await runEntry(entryEnv(renamed, master));
  expect(again.answer).toMatchObject({ applied: [], appUserCreated: false, otherGrantees: [`'${f.appUser}'@'%'`] });
  await db.sql(`DROP USER ?@'%'`, [f.appUser]);
  expect((await runEntry(entryEnv(renamed, master))).answer).toMatchObject({ appUserCreated: false, otherGrantees: [] });
});

test('the IAM clause of a reconciled user is the one AWS documents (rendered, not run: MariaDB has no such plugin)', async () => {
  const statements: string[] = [];
  const { format } = require('mysql2') as { format: (sql: string, values: unknown[]) => string };
  const { reconcileAppUser } = require('../../functions/migrate/app-user') as typeof import('../../functions/migrate/app-user');
  const fake = {
    async query(o: { sql: string; values?: unknown[] }) {
      statements.push(format(o.sql, o.values ?? []));
      return [o.sql.startsWith('SELECT COUNT') ? [{ n: 0 }] : []];
    },
  };
  await expect(reconcileAppUser(fake, { database: 'hits', appUser: 'hits_app', appHost: '%', appAuth: IAM_AUTH })).resolves.toEqual({ user: 'hits_app', host: '%', created: true, otherGrantees: [] });
  expect(statements).toContain("CREATE USER IF NOT EXISTS 'hits_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'");
  expect(statements).toContain("GRANT SELECT, INSERT, DELETE ON `hits`.hits TO 'hits_app'@'%'");
});

describe('the entry point refuses a bad configuration, naming the variable, before connecting', () => {
  const base = DEPLOYED_ENTRY_ENV;
  const { loadMigrateConfig } = require('../../functions/migrate/handler') as typeof import('../../functions/migrate/handler');

  test("the stacks' settings: the master secret over TLS verified against the RDS CAs, the app user created for IAM on any host", () => {
    const config = loadMigrateConfig(base);
    expect(config).toMatchObject({ appUser: 'hits_app', appHost: '%', appAuth: IAM_AUTH, appAuthMode: 'iam' });
    expect(config.db).toMatchObject({ auth: 'secret', secretArn: base.DB_SECRET_ARN, tls: 'verify', caBundle: 'rds', user: 'hits_admin', host: base.DB_HOST });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['no app user', { APP_DB_USER: '' }, /APP_DB_USER: must be a MySQL user name/],
    ['an app user that is no identifier', { APP_DB_USER: "x'@'%" }, /APP_DB_USER/],
    ['the master user as the app user', { APP_DB_USER: 'HITS_ADMIN' }, /APP_DB_USER: must differ from DB_USER/],
    ['an unknown app auth', { APP_DB_AUTH: 'secret' }, /APP_DB_AUTH: must be one of iam, password/],
    ['password auth without a password', { APP_DB_AUTH: 'password' }, /APP_DB_PASSWORD: is required/],
    ['secret mode without the secret', { DB_SECRET_ARN: '' }, /DB_SECRET_ARN: is required/],
    ['an unknown CA bundle', { DB_CA_BUNDLE: 'amazon' }, /DB_CA_BUNDLE: must be one of rds/],
    ['a CA bundle without TLS', { DB_TLS: 'off' }, /DB_CA_BUNDLE: needs DB_TLS=verify/],
    ['IAM without TLS', { DB_AUTH: 'iam', AWS_REGION: 'eu-west-1', DB_TLS: 'off', DB_CA_BUNDLE: '' }, /DB_TLS/],
  ])('%s', (_what, patch, error) => {
    expect(() => loadMigrateConfig({ ...base, ...patch })).toThrow(error);
  });
});

test('the retry window is the invocation\'s remaining time less the margin; no context, one attempt', () => {
  expect(retryWindowMs({ getRemainingTimeInMillis: () => 900_000 })).toBe(900_000 - RETRY_MARGIN_MS);
  expect(retryWindowMs({ getRemainingTimeInMillis: () => RETRY_MARGIN_MS - 1 })).toBe(0);
  expect(retryWindowMs(undefined)).toBe(0);
});

test('wrong credentials: retried until the window ends, then one error naming host, port, user and the last error', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const window = 2500;
  const run = await runEntry({ ...entryEnv(f, master), DB_PASSWORD: 'not-the-password' }, contextWith(RETRY_MARGIN_MS + window));
  expect(run.error?.name).toBe('MigrateConnectError');
  expect(run.error?.message).toMatch(new RegExp(`^cannot connect to the database at ${db.host}:${db.port} as "${master.user}" after [2-9] attempt\\(s\\) in a 2\\.\\d s retry window; last error: ER_ACCESS_DENIED_ERROR: Access denied for user 'hits_admin'`));
  expect(run.ms).toBeGreaterThanOrEqual(1000); // it did wait and retry
  expect(run.ms).toBeLessThan(window + 3000); // and stopped at the window, not at Lambda's timeout
  const retries = run.logs.filter((l) => l.msg === 'database not ready yet, retrying');
  expect(retries.length).toBeGreaterThanOrEqual(1);
  expect(retries.every((l) => l.errorCode === 'ER_ACCESS_DENIED_ERROR')).toBe(true);
  expect(run.logs.filter((l) => l.level === 'error')).toEqual([expect.objectContaining({ msg: 'migration could not connect', error: run.error?.message })]);
  expect(JSON.stringify(run.logs)).not.toContain('not-the-password');
  expect((await recordedTables(f.database)).includes('hits')).toBe(false);
});

const recordedTables = async (database: string) => (await db.sql<Array<{ t: string }>>('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])).map((r) => r.t);

describe('secret mode through a loopback Secrets Manager endpoint', () => {
  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-migrate-AbCdEf';
  let server: http.Server;
  let awsEnv: Record<string, string>;
  /** Passwords the endpoint hands out, one per GetSecretValue (the last one repeats). */
  let passwords: string[] = [];
  const requests: Array<{ target: string; secretId?: string; signed: boolean }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const parsed = JSON.parse(body || '{}') as { SecretId?: string };
        const target = String(req.headers['x-amz-target']);
        requests.push({ target, secretId: parsed.SecretId, signed: /^AWS4-HMAC-SHA256 Credential=AKIDMIGRATETEST\//.test(String(req.headers.authorization)) });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (target !== 'secretsmanager.GetSecretValue' || parsed.SecretId !== SECRET_ARN) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
          return;
        }
        const password = passwords.length > 1 ? passwords.shift()! : passwords[0];
        res.end(JSON.stringify({ ARN: SECRET_ARN, Name: 'rds!db-migrate', VersionId: 'v', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000, SecretString: JSON.stringify({ username: 'hits_admin', password }) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    awsEnv = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDMIGRATETEST',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(certDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(certDir, 'no-aws-credentials'),
    };
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  const secretEnv = (f: ReturnType<typeof fresh>, master: { user: string; password: string }) => ({ ...entryEnv(f, master), ...awsEnv, DB_AUTH: 'secret', DB_SECRET_ARN: SECRET_ARN, DB_PASSWORD: undefined });

  test('logs in with the secret; after a denial (a rotation) it reads the secret again and succeeds', async () => {
    const f = fresh();
    const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
    passwords = ['the-password-before-rotation', master.password];
    const before = requests.length;
    const run = await runEntry(secretEnv(f, master), contextWith(RETRY_MARGIN_MS + 20_000));
    expect(run.error).toBeUndefined();
    expect(run.answer).toMatchObject({ applied: allVersions, appUser: f.appUser, appUserCreated: true });
    expect(requests.slice(before)).toEqual([
      { target: 'secretsmanager.GetSecretValue', secretId: SECRET_ARN, signed: true },
      { target: 'secretsmanager.GetSecretValue', secretId: SECRET_ARN, signed: true },
    ]);
    expect(run.logs.filter((l) => l.msg === 'database not ready yet, retrying').map((l) => l.errorCode)).toEqual(['ER_ACCESS_DENIED_ERROR']);
    expect(JSON.stringify(run.logs)).not.toContain(master.password);
  });

  test('a secret it may not read (here: another id) is retried within the window, then named in the one error', async () => {
    const f = fresh();
    const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
    passwords = [master.password];
    const before = requests.length;
    const run = await runEntry({ ...secretEnv(f, master), DB_SECRET_ARN: `${SECRET_ARN}-other` }, contextWith(RETRY_MARGIN_MS + 1500));
    expect(run.error?.message).toMatch(/^cannot connect to the database at .* as "hits_admin" after \d+ attempt\(s\) in a 1\.\d s retry window; last error: ResourceNotFoundException: /);
    const sent = requests.slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.every((r) => r.secretId === `${SECRET_ARN}-other`)).toBe(true);
  });
});

describe('TLS verify against a CA the test gives', () => {
  let tlsAdmin: { user: string; password: string };

  beforeAll(async () => {
    // A master user that may only log in over TLS: a success proves the session was encrypted.
    tlsAdmin = { user: 'tls_admin', password: 'tls-admin-password' };
    await db.sql("CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ? REQUIRE SSL", [tlsAdmin.user, tlsAdmin.password]);
    await db.sql("GRANT ALL ON *.* TO ?@'127.0.0.1' WITH GRANT OPTION", [tlsAdmin.user]);
  });

  const tlsEnv = (f: ReturnType<typeof fresh>, patch: Record<string, string>) => ({ ...entryEnv(f, tlsAdmin), DB_HOST: 'localhost', DB_TLS: 'verify', ...patch });

  test('migrates when the certificate chains to DB_CA_FILE and names the host', async () => {
    const f = fresh();
    await migrateLocalDatabase(db, { ...f, migrations: [] });
    const run = await runEntry(tlsEnv(f, { DB_CA_FILE: certs.caFile }));
    expect(run.error).toBeUndefined();
    expect(run.answer).toMatchObject({ applied: allVersions });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['a CA that did not sign the certificate', { DB_CA_FILE: '@other' }, /after 1 attempt\(s\) .*; last error: HANDSHAKE_SSL_ERROR: self-signed certificate in certificate chain$/],
    ['the RDS CA bundle alone (it replaces the public roots; the test CA is in neither)', { DB_CA_BUNDLE: 'rds' }, /after 1 attempt\(s\) .*; last error: HANDSHAKE_SSL_ERROR: self-signed certificate in certificate chain$/],
  ])('refuses %s at once (a certificate does not fix itself), naming the TLS error', async (_what, patch, error) => {
    const f = fresh();
    await migrateLocalDatabase(db, { ...f, migrations: [] });
    const resolved = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === '@ca' ? certs.caFile : v === '@other' ? certs.otherCaFile : v]));
    const run = await runEntry(tlsEnv(f, resolved), contextWith(RETRY_MARGIN_MS + 60_000));
    expect(run.error?.message).toMatch(error);
    expect(run.ms).toBeLessThan(5000);
    expect(await recordedTables(f.database)).toEqual(["schema_migrations"]); // only what the setup made: nothing applied
  });

  test('DB_CA_BUNDLE=rds keeps DB_CA_FILE: with both, the test CA is trusted', async () => {
    const f = fresh();
    await migrateLocalDatabase(db, { ...f, migrations: [] });
    const run = await runEntry(tlsEnv(f, { DB_CA_BUNDLE: 'rds', DB_CA_FILE: certs.caFile }));
    expect(run.error).toBeUndefined();
    expect(run.answer).toMatchObject({ applied: allVersions });
  });

  test("the RDS bundle is a list of CA certificates, the RDS instance CAs among them", () => {
    const bundle = rdsCaBundle();
    const parsed = bundle.map((pem) => new X509Certificate(pem));
    expect(parsed.every((c) => c.ca)).toBe(true);
    // The CAs an RDS for MySQL instance's certificate chains to (rds-ca-rsa2048-g1 and its siblings, per Region).
    const rds = parsed.filter((c) => /OU=Amazon RDS/.test(c.subject) && /CN=Amazon RDS .*(Root|CA)/.test(c.subject));
    expect(rds.length).toBeGreaterThan(10);
    expect(parsed.some((c) => /CN=Amazon RDS eu-west-1 Root CA RSA2048 G1/.test(c.subject))).toBe(true);
  });
});

// Last: stops and restarts the server.
test('a database that comes up after the migration started: retried with backoff, then migrated', async () => {
  const f = fresh();
  const { master } = await migrateLocalDatabase(db, { ...f, migrations: [] });
  const env = { ...entryEnv(f, master), DB_CONNECT_TIMEOUT_MS: '500' };
  await db.stop();
  let restarted: Promise<void> | undefined;
  try {
    const noWindow = await runEntry(env);
    expect(noWindow.error?.message).toMatch(new RegExp(`^cannot connect to the database at ${db.host}:${db.port} as "${master.user}" after 1 attempt\\(s\\) in a 0\\.0 s retry window; last error: ECONNREFUSED`));

    restarted = new Promise((r) => setTimeout(r, 2000)).then(() => db.start());
    const run = await runEntry(env, contextWith(RETRY_MARGIN_MS + 60_000));
    expect(run.error).toBeUndefined();
    expect(run.answer).toMatchObject({ applied: allVersions, versions: allVersions, database: f.database, appUser: f.appUser, appUserCreated: true });
    expect(run.ms).toBeGreaterThanOrEqual(2000);
    const retries = run.logs.filter((l) => l.msg === 'database not ready yet, retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    // Capped exponential backoff: each pause at least the one before.
    const delays = retries.map((l) => Number(l.delayMs));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays[1]).toBeGreaterThan(delays[0]);
  } finally {
    await restarted;
    if (!restarted) await db.start();
  }
});
