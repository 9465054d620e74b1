/**
 * The hits function holds no DDL rights and runs no DDL: against a database the migrations have not
 * reached, it creates nothing, answers 500 (not 503: retrying will not help) and logs why.
 */
import { MariaDb, migrateLocalDatabase } from '../../scripts/services';
import { closeApps, makeApp } from '../support/hits';

let db: MariaDb;
let env: Record<string, string>;

beforeAll(async () => {
  db = await MariaDb.start();
  // Migrated, then the table dropped (as root): the application user and its grant remain, as on an
  // environment whose table migration was lost or never reached.
  env = (await migrateLocalDatabase(db, { database: 'hits' })).env;
  await db.sql('DROP TABLE hits.hits');
});

afterEach(closeApps);
afterAll(async () => {
  await db?.destroy();
});

test.each([
  ['GET', '/recorded'],
  ['GET', '/_/hits'],
  ['GET', '/_/health'],
])('%s %s: 500 with a request id, a log line naming the migrations, and no table created', async (method, path) => {
  const before = await db.globalStatus('Com_create_table');
  const app = makeApp(env);
  const r = await app.call(method, path);
  expect(r.statusCode).toBe(500);
  expect(r.headers['retry-after']).toBeUndefined();
  expect(r.json.requestId).toBe(r.headers['x-request-id']);
  expect(r.body).not.toMatch(/hits\.hits|doesn't exist|ER_NO_SUCH_TABLE/);
  expect(app.logs.find((l) => l.msg === 'the hits table does not exist: run the deploy-time migrations (functions/migrate)')).toMatchObject({
    level: 'error',
    errorCode: 'ER_NO_SUCH_TABLE',
    database: 'hits',
    requestId: r.headers['x-request-id'],
  });
  expect(await db.globalStatus('Com_create_table')).toBe(before);
  expect(await db.sql("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hits' AND TABLE_NAME = 'hits'")).toEqual([]);
});
