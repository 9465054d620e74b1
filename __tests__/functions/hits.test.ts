/**
 * The `hits` function against a real MariaDB and a real memcached started by the test on loopback
 * ports (password auth, no TLS: the TLS and IAM/secret paths are in auth-tls.test.ts). The schema and the
 * application user come from the real deploy-time migrations, and the function connects as that user.
 * Tests in this file run in order; the last ones stop and restart the services.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { createServer as createMysqlServer } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import { bundleFunction } from '../../modules/bundle';
import { MariaDb, Memcached, migrateLocalDatabase } from '../../scripts/services';
import { asEntryPoint, closeApps, event, makeApp, sleep } from '../support/hits';

let db: MariaDb;
let mc: Memcached;
let env: Record<string, string>;
let cacheEnv: Record<string, string>;
const APP_USER = 'hits_app';

/** Another login with exactly the application user's rights (the migrations' grant), e.g. to count its connections apart. */
async function createAppLikeUser(user: string, password: string, options = ''): Promise<void> {
  await db.sql(`CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ?${options}`, [user, password]);
  await db.sql("GRANT SELECT, INSERT, DELETE ON hits.hits TO ?@'127.0.0.1'", [user]);
}

beforeAll(async () => {
  [db, mc] = await Promise.all([MariaDb.start(), Memcached.start()]);
  env = (await migrateLocalDatabase(db, { database: 'hits', appUser: APP_USER, appPassword: 'test-password' })).env;
  cacheEnv = { ...env, CACHE_NODES: mc.node, CACHE_TTL_SECONDS: '2' };
});

afterEach(closeApps);

afterAll(async () => {
  await Promise.all([db?.destroy(), mc?.stop()]);
});

const count = async (where = '1=1', params: unknown[] = []) =>
  Number((await db.sql<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM hits.hits WHERE ${where}`, params))[0].n);

const hitsConnections = async () =>
  db.sql<Array<{ id: number }>>('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [APP_USER]);

test('records every request and lists the newest first, at most 100, with the documented JSON shape', async () => {
  const app = makeApp(env);
  const first = await app.call('GET', '/first');
  expect(first.statusCode).toBe(200);
  expect(first.headers['content-type']).toMatch(/^application\/json/);
  const second = await app.call('POST', '/second');
  expect(second.json.cache).toBe('off');
  const [newest, older] = second.json.hits;
  expect(newest).toEqual({ id: expect.any(Number), path: '/second', method: 'POST', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  expect(older).toMatchObject({ path: '/first', method: 'GET' });
  expect(newest.id).toBeGreaterThan(older.id);
  expect(Math.abs(Date.parse(newest.at) - Date.now())).toBeLessThan(10_000);
  // The table as migration 1 (functions/migrate/migrations.ts) creates it.
  const cols = await db.sql<Array<{ COLUMN_NAME: string; COLUMN_TYPE: string }>>(
    "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='hits' AND TABLE_NAME='hits' ORDER BY ORDINAL_POSITION",
  );
  expect(cols.map((c) => `${c.COLUMN_NAME} ${c.COLUMN_TYPE}`)).toEqual(['id bigint(20) unsigned', 'path varchar(2048)', 'method varchar(16)', 'created_at datetime(3)']);

  for (let i = 0; i < 105; i++) await db.sql('INSERT INTO hits.hits (path, method, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [`/bulk/${i}`, 'GET']);
  const many = await app.call('GET', '/after-bulk');
  expect(many.json.hits).toHaveLength(100);
  expect(many.json.hits[0].path).toBe('/after-bulk');
  expect(many.json.hits[1].path).toBe('/bulk/104');
});

test('answers HTML to browsers and JSON to everything else', async () => {
  const app = makeApp(env);
  const browser = await app.call('GET', '/page', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
  expect(browser.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(browser.body).toMatch(/<table>[\s\S]*<code>\/page<\/code>/);
  for (const accept of ['*/*', 'application/json', 'application/json, text/html;q=0.5', '']) {
    const r = await app.call('GET', '/page', accept ? { accept } : {});
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json.hits[0].path).toBe('/page');
  }
});

test('escapes stored paths in HTML and keeps them exact in JSON', async () => {
  const app = makeApp(env);
  const evil = `/<script>alert("x")</script><img src=x onerror='y'>&amp;`;
  const r = await app.call('GET', evil, { accept: 'text/html' });
  expect(r.body).not.toContain('<script>');
  expect(r.body).not.toContain('<img');
  expect(r.body).toContain('/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;amp;');
  expect(r.headers['content-security-policy']).toContain("default-src 'none'");
  const j = await app.call('GET', '/_/hits');
  expect(j.json.hits[0].path).toBe(evil);
});

test('stores injection-looking and 4-byte unicode paths as data, byte for byte', async () => {
  const app = makeApp(env);
  const paths = [
    "/'; DROP TABLE hits; --",
    '/" OR 1=1 -- \\\\ %27 \u0000',
    '/😀/𝄞/中文/é',
    "/a'b\"c`d\\e",
  ];
  for (const p of paths) {
    const r = await app.call('PUT', p);
    expect(r.statusCode).toBe(200);
    expect(r.json.hits[0].path).toBe(p);
  }
  for (const p of paths) {
    const rows = await db.sql<Array<{ h: string }>>('SELECT HEX(path) AS h FROM hits.hits WHERE path = ? AND method = ?', [p, 'PUT']);
    expect(rows.map((r) => r.h)).toEqual([Buffer.from(p, 'utf8').toString('hex').toUpperCase()]);
  }
  expect(await count()).toBeGreaterThan(0); // the table survived
});

test('refuses paths over 2048 bytes with 414 and stores nothing; 2048 bytes exactly are fine', async () => {
  const app = makeApp(env);
  await app.call('GET', '/warm-up');
  const before = await count();
  const tooLongAscii = '/' + 'a'.repeat(2048);
  const tooLongUnicode = '/' + '😀'.repeat(512); // 513 characters, 2049 bytes
  for (const p of [tooLongAscii, tooLongUnicode]) {
    const r = await app.call('GET', p, { accept: 'text/html' });
    expect(r.statusCode).toBe(414);
    expect(r.json.error).toMatch(/2048 bytes/);
  }
  expect(await count()).toBe(before);
  const exact = '/' + 'b'.repeat(2047);
  const ok = await app.call('GET', exact);
  expect(ok.statusCode).toBe(200);
  expect(await count('path = ?', [exact])).toBe(1);
});

test('GET /_/hits records nothing; other methods on it do record', async () => {
  const app = makeApp(env);
  await app.call('GET', '/seed');
  const before = await count();
  for (let i = 0; i < 3; i++) expect((await app.call('GET', '/_/hits')).statusCode).toBe(200);
  await app.call('GET', '/_/health');
  expect(await count()).toBe(before);
  await app.call('POST', '/_/hits');
  expect(await count()).toBe(before + 1);
});

test('cache-aside: a miss reads the database once, hits read nothing; writes refresh the listing; staleness is bounded by the TTL', async () => {
  await mc.flush();
  const app = makeApp(cacheEnv);
  await app.call('GET', '/cache-seed'); // refreshes the cache
  await mc.flush();

  const s0 = await db.globalStatus('Com_select');
  const miss = await app.call('GET', '/_/hits');
  expect(miss.json.cache).toBe('miss');
  const s1 = await db.globalStatus('Com_select');
  expect(s1 - s0).toBe(1);
  for (let i = 0; i < 5; i++) {
    const hit = await app.call('GET', '/_/hits');
    expect(hit.json.cache).toBe('hit');
    expect(hit.json.hits).toEqual(miss.json.hits);
  }
  expect((await db.globalStatus('Com_select')) - s1).toBe(0);

  // A write through the function refreshes the cached listing at once.
  await app.call('DELETE', '/written');
  const afterWrite = await app.call('GET', '/_/hits');
  expect(afterWrite.json.cache).toBe('hit');
  expect(afterWrite.json.hits[0].path).toBe('/written');

  // A row the cache has not seen (e.g. a write whose cache refresh failed) shows up after the TTL.
  await db.sql("INSERT INTO hits.hits (path, method, created_at) VALUES ('/behind-the-cache', 'GET', UTC_TIMESTAMP(3))");
  expect((await app.call('GET', '/_/hits')).json.hits[0].path).toBe('/written');
  await sleep(3100); // TTL 2 s; memcached expiry has one-second granularity
  const fresh = await app.call('GET', '/_/hits');
  expect(fresh.json.cache).toBe('miss');
  expect(fresh.json.hits[0].path).toBe('/behind-the-cache');
});

test('two instances behind one cache: each listing is its own database\'s (the direct arm on an instance of its own)', async () => {
  // A second MariaDB with the same schema and user, as the direct arm's own instance is the proxy arm's twin.
  const other = await MariaDb.start();
  try {
    const otherEnv = { ...(await migrateLocalDatabase(other, { database: 'hits', appUser: APP_USER, appPassword: 'test-password' })).env, CACHE_NODES: mc.node, CACHE_TTL_SECONDS: '60' };
    await mc.flush();
    const proxyArm = makeApp({ ...cacheEnv, CACHE_TTL_SECONDS: '60' });
    const directArm = makeApp(otherEnv);
    await proxyArm.call('GET', '/only-on-the-first');
    await directArm.call('GET', '/only-on-the-second');
    // Each read is served from the cache, and each from its own database's listing.
    for (const [app, own, others] of [[proxyArm, '/only-on-the-first', '/only-on-the-second'], [directArm, '/only-on-the-second', '/only-on-the-first']] as const) {
      const listed = await app.call('GET', '/_/hits');
      expect(listed.json.cache).toBe('hit');
      const paths = listed.json.hits.map((h: { path: string }) => h.path);
      expect(paths[0]).toBe(own);
      expect(paths).not.toContain(others);
    }
  } finally {
    await other.destroy();
  }
});

test('concurrent writes from several environments are all persisted exactly once', async () => {
  const apps = [makeApp(env), makeApp(env), makeApp(env), makeApp(env)];
  await Promise.all(apps.map((a) => a.call('GET', '/_/health')));
  const results = await Promise.all(
    apps.flatMap((a, i) => Array.from({ length: 15 }, (_, j) => a.call('POST', `/concurrent/${i}/${j}`))),
  );
  expect(results.every((r) => r.statusCode === 200)).toBe(true);
  const rows = await db.sql<Array<{ path: string; n: number }>>("SELECT path, COUNT(*) AS n FROM hits.hits WHERE path LIKE '/concurrent/%' GROUP BY path");
  expect(rows).toHaveLength(60);
  expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
});

test('the esbuild bundle the stacks deploy loads and serves a request (handler export "handler")', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-bundle-'));
  try {
    const file = path.join(dir, 'index.js');
    writeFileSync(file, bundleFunction('functions/hits/handler.ts').code);
    // Its own user: the bundle's module-scope pool stays open, and must not disturb the connection counts below.
    await createAppLikeUser('hits_bundle', 'bundle-password');
    const { result: r, lines } = await asEntryPoint({ ...env, DB_USER: 'hits_bundle', DB_PASSWORD: 'bundle-password' }, () => {
      const mod = require(file) as { handler: (e: unknown) => Promise<{ statusCode: number; body: string }> };
      return mod.handler(event('GET', '/from-the-bundle'));
    });
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).hits[0].path).toBe('/from-the-bundle');
    expect(JSON.parse(lines.find((l) => l.includes('"msg":"request"'))!)).toMatchObject({ status: 200, route: 'record' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server-side KILL of the pooled connection is survived by the next request', async () => {
  const app = makeApp(env);
  expect((await app.call('GET', '/before-kill')).statusCode).toBe(200);
  const conns = await hitsConnections();
  expect(conns).toHaveLength(1); // one pooled connection per environment
  const opened = await db.globalStatus('Connections');
  await db.sql('KILL CONNECTION ?', [conns[0].id]);
  const r = await app.call('GET', '/after-kill');
  expect(r.statusCode).toBe(200);
  expect(r.json.hits[0].path).toBe('/after-kill');
  expect(await count('path = ?', ['/after-kill'])).toBe(1);
  expect((await db.globalStatus('Connections')) - opened).toBeGreaterThanOrEqual(1);
  expect(await hitsConnections()).toHaveLength(1);
});

test('a connection killed in the middle of a statement is retried once on a new connection', async () => {
  const app = makeApp(env);
  await app.call('GET', '/_/health');
  const admin = await db.admin();
  await admin.query('LOCK TABLES hits.hits WRITE'); // the function's INSERT will wait on this lock
  let pending: ReturnType<typeof app.call> | undefined;
  try {
    pending = app.call('POST', '/killed-mid-statement');
    let victim: number | undefined;
    for (let i = 0; i < 100 && victim === undefined; i++) {
      await sleep(20);
      const rows = await db.sql<Array<{ id: number }>>("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND INFO LIKE 'INSERT%'", [APP_USER]);
      victim = rows[0]?.id;
    }
    expect(victim).toBeDefined();
    await db.sql('KILL CONNECTION ?', [victim]);
    await sleep(50);
  } finally {
    await admin.query('UNLOCK TABLES');
  }
  const r = await pending!;
  expect(r.statusCode).toBe(200);
  expect(await count('path = ?', ['/killed-mid-statement'])).toBe(1);
  expect(app.logs.filter((l) => l.msg === 'database connection error, retrying once')).toHaveLength(1);
});

test('a pool idle for longer than the idle limit is rebuilt before use', async () => {
  const app = makeApp({ ...env, DB_IDLE_REBUILD_SECONDS: '1' });
  await app.call('GET', '/idle-1');
  const [before] = await hitsConnections();
  await app.call('GET', '/idle-2'); // within the limit: same connection
  expect((await hitsConnections())[0].id).toBe(before.id);
  await sleep(1200);
  await app.call('GET', '/idle-3');
  const after = await hitsConnections();
  expect(after).toHaveLength(1);
  expect(after[0].id).not.toBe(before.id);
  expect(app.logs.some((l) => l.msg === 'database pool rebuilt' && l.reason === 'idle')).toBe(true);
});

test("saturation (the user's MAX_USER_CONNECTIONS reached) answers 503 with Retry-After at once, without a retry", async () => {
  await createAppLikeUser('hits_one', 'one-password', ' WITH MAX_USER_CONNECTIONS 1');
  const app = makeApp({ ...env, DB_USER: 'hits_one', DB_PASSWORD: 'one-password' });
  const holder = await createConnection({ host: db.host, port: db.port, user: 'hits_one', password: 'one-password', database: 'hits' });
  try {
    const before = await db.globalStatus('Connections');
    const r = await app.call('POST', '/saturated', {}, 10_000);
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.json).toEqual({ error: 'database unavailable, retry later', requestId: expect.any(String) });
    expect(r.ms).toBeLessThan(1000);
    expect(app.db.attempts).toBe(1);
    expect((await db.globalStatus('Connections')) - before).toBe(1); // one connection attempt, no retry
    expect(app.logs).toHaveLength(1);
    expect(app.logs[0]).toMatchObject({ msg: 'request', level: 'error', status: 503, dbUnavailable: 'saturated' });
    // MariaDB says ER_USER_LIMIT_REACHED for MAX_USER_CONNECTIONS, MySQL ER_TOO_MANY_USER_CONNECTIONS.
    expect(['ER_USER_LIMIT_REACHED', 'ER_TOO_MANY_USER_CONNECTIONS']).toContain(app.logs[0].errorCode);
  } finally {
    await holder.end();
  }
  expect((await app.call('POST', '/no-longer-saturated')).statusCode).toBe(200);
});

test('an RDS Proxy borrow timeout (error 9501) answers 503 with Retry-After at once, without a retry', async () => {
  // A minimal stand-in for the proxy (mysql2's server side): accepts any login, answers every
  // statement the way RDS Proxy does when it cannot borrow a database connection in time.
  let statements = 0;
  let logins = 0;
  // mysql2's typings of its server side are incomplete.
  const proxy = (createMysqlServer as unknown as () => { on(e: 'connection', f: (conn: any) => void): void; listen(port: number, host: string, cb: () => void): void; _server: net.Server })();
  proxy.on('connection', (conn) => {
    logins++;
    conn.on('error', () => undefined);
    conn.serverHandshake({ protocolVersion: 10, serverVersion: '8.0.36-fake-rds-proxy', connectionId: logins, statusFlags: 2, characterSet: 8, capabilityFlags: 0xffffff, authCallback: (_: unknown, cb: (err: null) => void) => cb(null) });
    conn.on('query', () => {
      statements++;
      setTimeout(() => conn.writeError({ code: 9501, message: 'Timed-out waiting to acquire database connection' }), 100);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const server = proxy._server;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => sockets.add(s));
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined); // the stand-in's packet numbering is loose
  try {
    const app = makeApp({ ...env, DB_PORT: String((server.address() as net.AddressInfo).port) });
    const r = await app.call('GET', '/_/hits', {}, 10_000);
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.ms).toBeLessThan(1000);
    expect([statements, logins, app.db.attempts]).toEqual([1, 1, 1]);
    expect(app.logs).toHaveLength(1);
    expect(app.logs[0]).toMatchObject({ msg: 'request', status: 503, errno: 9501, dbUnavailable: 'saturated' });
  } finally {
    quiet.mockRestore();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test("a statement that hangs (table locked) answers 503 within the invocation's remaining time, once, without a retry", async () => {
  const app = makeApp(env);
  const bounded = makeApp({ ...env, DB_REQUEST_BUDGET_MS: '600' });
  expect((await app.call('GET', '/_/health')).statusCode).toBe(200); // connection pooled
  expect((await bounded.call('GET', '/_/health')).statusCode).toBe(200);
  app.logs.length = 0;
  bounded.logs.length = 0;
  const attempts = [app.db.attempts, bounded.db.attempts];
  const admin = await db.admin();
  await admin.query('LOCK TABLES hits.hits WRITE'); // the INSERTs wait on this lock
  let fromContext, fromEnv;
  try {
    fromContext = await app.call('POST', '/hung', {}, 2500); // Lambda says 2.5 s are left: the budget is 1.5 s
    fromEnv = await bounded.call('POST', '/hung-no-context'); // no context: DB_REQUEST_BUDGET_MS
  } finally {
    await admin.query('UNLOCK TABLES');
  }
  for (const [r, a, budget, ceiling] of [
    [fromContext, app, 1500, 2500],
    [fromEnv, bounded, 600, 1500],
  ] as const) {
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.ms).toBeGreaterThanOrEqual(budget - 100);
    expect(r.ms).toBeLessThan(ceiling);
    expect(a.logs).toHaveLength(1); // the request line only: no retry
    expect(a.logs[0]).toMatchObject({ msg: 'request', status: 503, dbUnavailable: 'deadline' });
    expect(['PROTOCOL_SEQUENCE_TIMEOUT', 'DB_DEADLINE_EXCEEDED']).toContain(a.logs[0].errorCode);
  }
  expect([app.db.attempts - attempts[0], bounded.db.attempts - attempts[1]]).toEqual([1, 1]);
  // The hung connection was given up: the next request is served on a new one.
  const after = await app.call('GET', '/after-hang');
  expect(after.statusCode).toBe(200);
  expect(after.json.hits[0].path).toBe('/after-hang');
});

test.each([
  // connect timeout 3 s, 0.8 s budget: the deadline ends the only attempt
  ['the deadline ends a connect attempt', '3000', 1800, { attempts: 1, reason: 'deadline', errorCode: 'DB_DEADLINE_EXCEEDED', min: 750, max: 1300 }],
  // 0.6 s budget, connect timeout 0.4 s: no time left for a retry
  ["no retry without a connect timeout's worth of budget", '400', 1600, { attempts: 1, reason: 'deadline', errorCode: 'ETIMEDOUT', min: 350, max: 900 }],
  // 1.5 s budget, connect timeout 0.3 s: one retry, then unreachable
  ['one retry when the budget allows it', '300', 2500, { attempts: 2, reason: 'unreachable', errorCode: 'ETIMEDOUT', min: 550, max: 1300 }],
])('a server that never answers the handshake: %s', async (_name, connectTimeout, remainingMs, want) => {
  const sockets = new Set<net.Socket>();
  const blackhole = net.createServer((s) => sockets.add(s)); // accepts, never answers
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  try {
    const app = makeApp({ ...env, DB_PORT: String((blackhole.address() as net.AddressInfo).port), DB_CONNECT_TIMEOUT_MS: connectTimeout });
    const r = await app.call('GET', '/_/hits', {}, remainingMs);
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.ms).toBeGreaterThanOrEqual(want.min);
    expect(r.ms).toBeLessThan(want.max);
    expect(app.db.attempts).toBe(want.attempts);
    expect(app.logs.filter((l) => l.msg === 'database connection error, retrying once')).toHaveLength(want.attempts - 1);
    expect(app.logs.find((l) => l.msg === 'request')).toMatchObject({ status: 503, dbUnavailable: want.reason, errorCode: want.errorCode });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  }
});

test('credentials the server refuses twice answer 500 with a request id (not 503), after one retry, and say so in the log', async () => {
  const app = makeApp({ ...env, DB_PASSWORD: 'wrong-password' });
  const before = await db.globalStatus('Connections');
  const r = await app.call('GET', '/refused', { accept: 'text/html' }, 10_000);
  expect(r.statusCode).toBe(500);
  expect(r.headers['retry-after']).toBeUndefined();
  expect(r.json).toEqual({ error: 'internal error', requestId: r.headers['x-request-id'] });
  expect(r.body).not.toMatch(new RegExp(`denied|password|${APP_USER}@`, 'i'));
  expect(app.db.attempts).toBe(2);
  expect((await db.globalStatus('Connections')) - before).toBe(2);
  expect(app.logs.map((l) => `${l.level} ${l.msg}`)).toEqual([
    'warn database refused the credentials, retrying once with fresh ones',
    'error database refused the credentials',
    'error request',
  ]);
  expect(app.logs[1]).toMatchObject({ errorCode: 'ER_ACCESS_DENIED_ERROR', errorName: 'DbAuthError', auth: 'password', user: APP_USER, requestId: r.headers['x-request-id'] });
  expect(app.logs[2]).toMatchObject({ status: 500, errorCode: 'ER_ACCESS_DENIED_ERROR' });
  expect(JSON.stringify(app.logs)).not.toContain('wrong-password');

  const health = await app.call('GET', '/_/health');
  expect(health.statusCode).toBe(500);
  expect(health.json).toMatchObject({ status: 'down', db: 'error' });
  expect(health.headers['retry-after']).toBeUndefined();
});

test('logs one structured line per request with latency, status and cache outcome; 500s carry a request id only', async () => {
  const app = makeApp(cacheEnv);
  await app.call('GET', '/logged');
  const lines = app.logs.filter((l) => l.msg === 'request');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 'info', method: 'GET', pathBytes: 7, status: 200, route: 'record', requestId: expect.any(String), latencyMs: expect.any(Number) });
  expect(lines[0].cache).toBe('bypass'); // a recording request reads its listing from the database
  expect(JSON.stringify(lines[0])).not.toContain('/logged'); // the path itself is data, not logged

  // An unexpected (non-connection) database error: drop the table's column the function needs.
  await db.sql('ALTER TABLE hits.hits RENAME COLUMN method TO verb');
  try {
    const r = await app.call('GET', '/broken', { accept: 'text/html' });
    expect(r.statusCode).toBe(500);
    expect(r.json).toEqual({ error: 'internal error', requestId: r.headers['x-request-id'] });
    expect(r.body).not.toMatch(/method|verb|SQL|hits\.hits/i);
    expect(app.logs.find((l) => l.status === 500)).toMatchObject({ level: 'error', errorCode: 'ER_BAD_FIELD_ERROR' });
  } finally {
    await db.sql('ALTER TABLE hits.hits RENAME COLUMN verb TO method');
  }
});

test('a cache that never answers costs at most one bounded wait per call, then backs off', async () => {
  const sockets = new Set<net.Socket>();
  const blackhole = net.createServer((s) => sockets.add(s)); // accepts, never answers
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  const port = (blackhole.address() as net.AddressInfo).port;
  try {
    const app = makeApp({ ...env, CACHE_NODES: `127.0.0.1:${port}` }, { cacheBackoffMs: 60_000 });
    const first = await app.call('GET', '/_/hits'); // get times out, set times out
    expect(first.statusCode).toBe(200);
    expect(first.json.cache).toBe('miss');
    expect(first.ms).toBeLessThan(2 * 200 + 250);
    const second = await app.call('GET', '/_/hits'); // third failure: back-off starts
    expect(second.ms).toBeLessThan(2 * 200 + 250);
    const fast = await app.call('GET', '/_/hits');
    expect(fast.statusCode).toBe(200);
    expect(fast.ms).toBeLessThan(140); // no wait at all while backing off (one wait would be 150 ms)
    expect((await app.call('GET', '/_/health')).json.cache).toBe('degraded');
    expect(app.logs.some((l) => l.msg === 'cache node backing off')).toBe(true);
    expect(app.logs.filter((l) => l.msg === 'cache call failed, bypassed').every((l) => l.errorCode === 'CACHE_TIMEOUT')).toBe(true);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  }
});

test('memcached stopped: requests still succeed quickly, health says degraded, and it recovers', async () => {
  const app = makeApp(cacheEnv, { cacheBackoffMs: 300 });
  expect((await app.call('GET', '/_/health')).json).toEqual({ status: 'ok', db: 'ok', cache: 'ok' });
  await mc.stop();
  try {
    for (let i = 0; i < 5; i++) {
      const r = await app.call('GET', i % 2 ? '/_/hits' : `/no-cache/${i}`);
      expect(r.statusCode).toBe(200);
      expect(r.ms).toBeLessThan(500);
    }
    const health = await app.call('GET', '/_/health');
    expect(health.statusCode).toBe(200);
    expect(health.json).toEqual({ status: 'ok', db: 'ok', cache: 'degraded' });
  } finally {
    await mc.start();
  }
  await sleep(350);
  expect((await app.call('GET', '/_/health')).json.cache).toBe('ok');
});

test('MariaDB stopped: 503 with Retry-After, fast; health 503; recovery after restart', async () => {
  const app = makeApp(cacheEnv);
  expect((await app.call('GET', '/before-outage')).statusCode).toBe(200);
  await db.stop();
  try {
    const r = await app.call('GET', '/during-outage', { accept: 'text/html' });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.json).toEqual({ error: 'database unavailable, retry later', requestId: expect.any(String) });
    expect(r.ms).toBeLessThan(1500);
    const health = await app.call('GET', '/_/health');
    expect(health.statusCode).toBe(503);
    expect(health.json).toMatchObject({ status: 'down', db: 'down' });
    expect(health.headers['retry-after']).toBeDefined();
  } finally {
    await db.start();
  }
  const back = await app.call('GET', '/after-outage');
  expect(back.statusCode).toBe(200);
  expect(back.json.hits[0].path).toBe('/after-outage');
  expect((await app.call('GET', '/_/health')).statusCode).toBe(200);
  expect(await count('path = ?', ['/during-outage'])).toBe(0);
});
