/**
 * The function's Embedded Metric Format output, from the real function against a real MariaDB and a real
 * memcached on loopback ports: every request line is valid EMF (checked against the specification's
 * rules below, not against Powertools' own output), and carries the values the request really had.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { createConnection } from 'mysql2/promise';
import { bundleFunction } from '../../modules/bundle';
import { freePort, MariaDb, Memcached, migrateLocalDatabase } from '../../scripts/services';
import { emfProblems, metricsOf } from '../support/emf';
import { asEntryPoint, closeApps, event, makeApp } from '../support/hits';

let db: MariaDb;
let mc: Memcached;
let env: Record<string, string>;
let cacheEnv: Record<string, string>;
const METRICS = { namespace: 'hits-test', service: 'hits-test-fn' };

beforeAll(async () => {
  [db, mc] = await Promise.all([MariaDb.start(), Memcached.start()]);
  // The schema and the application user come from the real migrations, as on a deploy.
  env = (await migrateLocalDatabase(db, { database: 'hits', appPassword: 'test-password' })).env;
  cacheEnv = { ...env, CACHE_NODES: mc.node, CACHE_TTL_SECONDS: '30' };
});
afterEach(closeApps);
afterAll(async () => {
  await Promise.all([db?.destroy(), mc?.stop()]);
});

const requestLines = (logs: Array<Record<string, any>>) => logs.filter((l) => l.msg === 'request');

test('a listing: miss then hit, by route and status class, database time only when the database answered', async () => {
  const app = makeApp(cacheEnv, { metrics: METRICS });
  await app.call('GET', '/seed');
  await mc.flush(); // the write refreshed the cached listing; start the listing cold
  const miss = await app.call('GET', '/_/hits');
  const hit = await app.call('GET', '/_/hits');
  expect([miss.json.cache, hit.json.cache]).toEqual(['miss', 'hit']);
  const [seedLine, missLine, hitLine] = requestLines(app.logs);
  for (const l of [seedLine, missLine, hitLine]) expect(emfProblems(l)).toEqual([]);

  const m = metricsOf(missLine);
  expect(m.namespace).toBe(METRICS.namespace);
  expect(m.dimensions).toEqual([['service'], ['service', 'route', 'statusClass']]);
  expect(missLine).toMatchObject({ service: METRICS.service, route: 'list', statusClass: '2xx', Requests: 1, CacheMiss: 1 });
  expect(m.names).not.toContain('CacheHit');
  expect(missLine.DbTime).toBeGreaterThan(0);
  expect(missLine.DbTime).toBeLessThanOrEqual(missLine.Latency);
  expect(missLine.Latency).toBe(missLine.latencyMs);

  expect(hitLine).toMatchObject({ route: 'list', statusClass: '2xx', Requests: 1, CacheHit: 1 });
  // Served from memcached: no database call, so no database time.
  expect(metricsOf(hitLine).names).not.toContain('DbTime');
  // A write answers from the database whatever the cache holds: it bypasses the cache.
  expect(seedLine).toMatchObject({ route: 'record', CacheBypass: 1 });
  expect(metricsOf(seedLine).names).not.toEqual(expect.arrayContaining(['CacheHit']));
});

test('without a cache, no cache metric at all; health and 4xx are classed by status', async () => {
  const app = makeApp(env, { metrics: METRICS });
  await app.call('GET', '/_/health');
  await app.call('GET', '/' + 'x'.repeat(3000));
  const [health, tooLong] = requestLines(app.logs);
  expect(health).toMatchObject({ route: 'health', statusClass: '2xx', Requests: 1 });
  expect(tooLong).toMatchObject({ route: 'invalid', statusClass: '4xx', Requests: 1 });
  for (const l of [health, tooLong]) {
    expect(emfProblems(l)).toEqual([]);
    expect(metricsOf(l).names.filter((n) => n.startsWith('Cache'))).toEqual([]);
  }
  // The 414 never reached the database.
  expect(metricsOf(tooLong).names).not.toContain('DbTime');
});

test('memcached unreachable: the listing is served by the database and counted as a cache bypass', async () => {
  const app = makeApp({ ...env, CACHE_NODES: `127.0.0.1:${await freePort()}` }, { metrics: METRICS });
  const r = await app.call('GET', '/_/hits');
  expect(r.statusCode).toBe(200);
  const line = requestLines(app.logs)[0];
  expect(emfProblems(line)).toEqual([]);
  expect(line).toMatchObject({ route: 'list', CacheBypass: 1 });
  expect(metricsOf(line).names).not.toContain('CacheMiss');
});

test('database unreachable: 5xx class and DbUnavailableUnreachable', async () => {
  const app = makeApp({ ...env, DB_PORT: String(await freePort()) }, { metrics: METRICS });
  const r = await app.call('GET', '/nowhere');
  expect(r.statusCode).toBe(503);
  const line = requestLines(app.logs)[0];
  expect(emfProblems(line)).toEqual([]);
  expect(line).toMatchObject({ statusClass: '5xx', dbUnavailable: 'unreachable', DbUnavailableUnreachable: 1 });
  expect(metricsOf(line).names.filter((n) => n.startsWith('DbUnavailable'))).toEqual(['DbUnavailableUnreachable']);
});

test('database saturated (the user is at its connection limit): DbUnavailableSaturated', async () => {
  await db.sql("CREATE USER IF NOT EXISTS 'hits_one'@'127.0.0.1' IDENTIFIED BY 'one-password' WITH MAX_USER_CONNECTIONS 1");
  await db.sql("GRANT ALL ON hits.* TO 'hits_one'@'127.0.0.1'");
  const holder = await createConnection({ host: db.host, port: db.port, user: 'hits_one', password: 'one-password', database: 'hits' });
  try {
    const app = makeApp({ ...env, DB_USER: 'hits_one', DB_PASSWORD: 'one-password' }, { metrics: METRICS });
    const r = await app.call('GET', '/_/hits');
    expect(r.statusCode).toBe(503);
    const line = requestLines(app.logs)[0];
    expect(emfProblems(line)).toEqual([]);
    expect(line).toMatchObject({ statusClass: '5xx', DbUnavailableSaturated: 1 });
  } finally {
    await holder.end();
  }
});

test('concurrent requests in one environment keep their own database time and cache outcome', async () => {
  const app = makeApp(cacheEnv, { metrics: METRICS });
  await Promise.all(Array.from({ length: 20 }, (_, i) => app.call(i % 2 ? 'GET' : 'POST', i % 2 ? '/_/hits' : `/parallel/${i}`)));
  const lines = requestLines(app.logs);
  expect(lines).toHaveLength(20);
  for (const l of lines) {
    expect(emfProblems(l)).toEqual([]);
    if (l.DbTime !== undefined) expect(l.DbTime).toBeLessThanOrEqual(l.Latency + 0.1);
    const cacheMetrics = metricsOf(l).names.filter((n) => n.startsWith('Cache'));
    expect(cacheMetrics).toHaveLength(1);
    if (l.route === 'record') expect(cacheMetrics).toEqual(['CacheBypass']);
  }
});

test('the deployed bundle takes the namespace and service from the environment the stacks set', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-emf-bundle-'));
  try {
    const file = path.join(dir, 'index.js');
    writeFileSync(file, bundleFunction('functions/hits/handler.ts').code);
    await db.createUser('hits_emf', 'emf-password', 'hits');
    const { result, lines } = await asEntryPoint(
      { ...env, DB_USER: 'hits_emf', DB_PASSWORD: 'emf-password', POWERTOOLS_METRICS_NAMESPACE: 'from-env', POWERTOOLS_SERVICE_NAME: 'hits-env-fn' },
      () => (require(file) as { handler: (e: unknown) => Promise<{ statusCode: number }> }).handler(event('GET', '/bundle-emf')),
    );
    expect(result.statusCode).toBe(200);
    const line = JSON.parse(lines.find((l) => l.includes('"msg":"request"'))!);
    expect(emfProblems(line)).toEqual([]);
    expect(line._aws.CloudWatchMetrics[0].Namespace).toBe('from-env');
    expect(line.service).toBe('hits-env-fn');
    // One line per request: Powertools printed nothing of its own.
    expect(lines.filter((l) => l.includes('"_aws"'))).toHaveLength(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
