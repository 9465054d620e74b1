/**
 * Two things a browser pointed at the API notices, against a real MariaDB and memcached:
 * `/favicon.ico` is answered without recording a hit (or touching the database), and a recording
 * response says its listing came from the database ("bypass"), not from a failed cache read ("miss").
 */
import { FAVICON_MAX_AGE_SECONDS, FAVICON_PATH } from '../../functions/hits/app';
import { freePort, MariaDb, Memcached, migrateLocalDatabase } from '../../scripts/services';
import { closeApps, makeApp } from '../support/hits';

let db: MariaDb;
let mc: Memcached;
let env: Record<string, string>;
let cacheEnv: Record<string, string>;

beforeAll(async () => {
  [db, mc] = await Promise.all([MariaDb.start(), Memcached.start()]);
  // The schema and the application user come from the real migrations, as on a deploy.
  env = (await migrateLocalDatabase(db, { database: 'hits', appPassword: 'test-password' })).env;
  cacheEnv = { ...env, CACHE_NODES: mc.node, CACHE_TTL_SECONDS: '5' };
});

afterEach(closeApps);

afterAll(async () => {
  await Promise.all([db?.destroy(), mc?.stop()]);
});

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const hitCount = async () => Number((await db.sql<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM hits.hits'))[0].n);

describe('/favicon.ico', () => {
  test('GET and HEAD get an empty, cacheable 204 and record nothing: no row, no INSERT, no cache write', async () => {
    const app = makeApp(cacheEnv);
    await app.call('GET', '/before-favicon'); // creates the table, so the count below is meaningful
    const rowsBefore = await hitCount();
    const insertsBefore = await db.globalStatus('Com_insert');
    const cacheSetsBefore = await mc.stat('cmd_set');

    for (const [method, headers] of [
      ['GET', { accept: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8' }],
      ['GET', { accept: BROWSER_ACCEPT }],
      ['HEAD', {}],
    ] as const) {
      const r = await app.call(method, FAVICON_PATH, headers);
      expect(r.statusCode).toBe(204);
      expect(r.body).toBe('');
      expect(r.headers['cache-control']).toBe(`public, max-age=${FAVICON_MAX_AGE_SECONDS}`);
      expect(r.headers['x-request-id']).toEqual(expect.any(String));
    }

    expect(await hitCount()).toBe(rowsBefore);
    expect(await db.globalStatus('Com_insert')).toBe(insertsBefore);
    expect(await mc.stat('cmd_set')).toBe(cacheSetsBefore);
    expect((await app.call('GET', '/_/hits')).json.hits.map((h: { path: string }) => h.path)).not.toContain(FAVICON_PATH);
    expect(app.logs.filter((l) => l.msg === 'request' && l.route === 'favicon').map((l) => l.status)).toEqual([204, 204, 204]);
  });

  test('is answered while the database is unreachable, since it never needs it', async () => {
    const app = makeApp({ ...env, DB_PORT: String(await freePort()) }); // nothing listens there
    expect((await app.call('GET', '/needs-the-database')).statusCode).toBe(503);
    const r = await app.call('GET', FAVICON_PATH);
    expect(r.statusCode).toBe(204);
  });

  test('other methods on the path are ordinary requests and are recorded', async () => {
    const app = makeApp(env);
    const r = await app.call('POST', FAVICON_PATH);
    expect(r.statusCode).toBe(200);
    expect(r.json.hits[0]).toMatchObject({ path: FAVICON_PATH, method: 'POST' });
  });
});

describe('where the listing came from', () => {
  test('with the cache on: a write reads the database ("bypass"), then reads are cache hits, and a miss says so', async () => {
    await mc.flush();
    const app = makeApp(cacheEnv);
    const selectsBefore = await db.globalStatus('Com_select');
    const write = await app.call('POST', '/written');
    expect(write.json.cache).toBe('bypass');
    expect(write.json.hits[0].path).toBe('/written');
    // The listing was read from the database (the write's own row included), not from the cache.
    expect((await db.globalStatus('Com_select')) - selectsBefore).toBeGreaterThanOrEqual(1);
    expect(app.logs.find((l) => l.msg === 'request' && l.route === 'record')).toMatchObject({ cache: 'bypass' });

    // The write refreshed the cached listing: the next read is a hit with the same rows.
    const read = await app.call('GET', '/_/hits');
    expect(read.json).toEqual({ hits: write.json.hits, cache: 'hit' });

    await mc.flush();
    expect((await app.call('GET', '/_/hits')).json.cache).toBe('miss');
  });

  test('the browser page of a write says "listing: from the database", never "miss"', async () => {
    const app = makeApp(cacheEnv);
    const page = await app.call('GET', '/page-with-cache', { accept: BROWSER_ACCEPT });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/listing: from the database<\/p>/);
    expect(page.body).not.toMatch(/miss/);
  });

  test('with the cache off: JSON says "off" and the page says the database served it with the cache off', async () => {
    const app = makeApp(env);
    expect((await app.call('PUT', '/no-cache')).json.cache).toBe('off');
    expect((await app.call('GET', '/_/hits')).json.cache).toBe('off');
    const page = await app.call('GET', '/no-cache-page', { accept: BROWSER_ACCEPT });
    expect(page.body).toMatch(/listing: from the database \(cache off\)<\/p>/);
  });
});
