/**
 * The scheduled prune against a real MariaDB with 200,000 hits: only expired rows go, inserts keep
 * succeeding while it runs, it stops within its budget, a second run changes nothing, and the Lambda
 * entry point reports what it removed as EMF.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { createConnection } from 'mysql2/promise';
import { bundleFunction } from '../../modules/bundle';
import { loadConfig } from '../../functions/lib/config';
import { Database } from '../../functions/lib/db';
import { pruneExpired } from '../../functions/prune/prune';
import { MariaDb, migrateLocalDatabase } from '../../scripts/services';
import { asEntryPoint, closeApps, makeApp } from '../support/hits';

let db: MariaDb;
let env: Record<string, string>;
let database: Database;
const DAY = 86_400_000;
const RETENTION_DAYS = 7;
const EXPIRED = 150_000;
const LIVE = 50_000;

beforeAll(async () => {
  db = await MariaDb.start();
  // The table and the application user (SELECT, INSERT, DELETE on hits) come from the real migrations,
  // and the prune runs as that user, as in AWS.
  env = (await migrateLocalDatabase(db, { database: 'hits', appPassword: 'test-password' })).env;
  expect((await makeApp(env).call('GET', '/_/health')).statusCode).toBe(200);
  await closeApps();
  database = new Database(loadConfig(env).db);
}, 120_000);

afterAll(async () => {
  await database?.close();
  await db?.destroy();
});

/**
 * Fills the table: `expired` rows spread over the 30 days before the cutoff, then `live` rows spread over the
 * retention window, in id order as real traffic writes them. MariaDB's sequence engine makes it one statement each.
 */
async function fill(expired: number, live: number, now: number): Promise<void> {
  await db.sql('TRUNCATE TABLE hits.hits');
  // FROM_UNIXTIME answers in the session's time zone; created_at holds UTC.
  await db.sql("SET time_zone = '+00:00'");
  const cutoff = now - RETENTION_DAYS * DAY;
  const oldStart = cutoff - 30 * DAY;
  await db.sql(
    `INSERT INTO hits.hits (path, method, created_at)
     SELECT CONCAT('/old/', seq), 'GET', FROM_UNIXTIME((? + seq * ?) / 1000) FROM hits.seq_1_to_${expired}`,
    [oldStart, Math.floor((30 * DAY - 1000) / expired)],
  );
  if (live === 0) return;
  await db.sql(
    `INSERT INTO hits.hits (path, method, created_at)
     SELECT CONCAT('/live/', seq), 'POST', FROM_UNIXTIME((? + seq * ?) / 1000) FROM hits.seq_1_to_${live}`,
    [cutoff + 1000, Math.floor((RETENTION_DAYS * DAY - 60_000) / live)],
  );
}

const count = async (where: string, params: unknown[] = []) => Number((await db.sql<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM hits.hits WHERE ${where}`, params))[0].n);

test('deletes exactly the expired rows of 200,000 while inserts keep succeeding, then a second run is a no-op', async () => {
  const now = Date.now();
  await fill(EXPIRED, LIVE, now);
  expect(await count('1=1')).toBe(EXPIRED + LIVE);
  const cutoffSql = new Date(now - RETENTION_DAYS * DAY).toISOString().replace('T', ' ').replace('Z', '');

  // A writer as the function would be: its own connection, which gives up after 1 s of lock wait. If the
  // prune held a lock an insert needs for longer, an insert here fails with ER_LOCK_WAIT_TIMEOUT.
  const writer = await createConnection({ host: db.host, port: db.port, user: env.DB_USER, password: env.DB_PASSWORD, database: 'hits' });
  await writer.query('SET SESSION innodb_lock_wait_timeout = 1');
  let pruning = true;
  let inserted = 0;
  const failures: string[] = [];
  const writing = (async () => {
    while (pruning) {
      try {
        await writer.query('INSERT INTO hits (path, method, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [`/during/${inserted}`, 'PUT']);
        inserted++;
      } catch (err) {
        failures.push((err as { code?: string }).code ?? String(err));
      }
    }
  })();
  let result;
  try {
    result = await pruneExpired(database, { retentionDays: RETENTION_DAYS, batchSize: 1000, budgetMs: 120_000, now: () => now });
  } finally {
    pruning = false;
    await writing;
    await writer.end();
  }

  expect(failures).toEqual([]);
  expect(inserted).toBeGreaterThan(0);
  expect(result).toMatchObject({ deleted: EXPIRED, stoppedBy: 'done', cutoff: cutoffSql });
  // Short batches: 1000 rows each, so at least EXPIRED / 1000 statements.
  expect(result.batches).toBeGreaterThanOrEqual(EXPIRED / 1000);
  expect(await count('created_at < ?', [cutoffSql])).toBe(0);
  expect(await count("path LIKE '/live/%'")).toBe(LIVE);
  expect(await count("path LIKE '/during/%'")).toBe(inserted);

  const again = await pruneExpired(database, { retentionDays: RETENTION_DAYS, batchSize: 1000, budgetMs: 120_000, now: () => now });
  expect(again).toMatchObject({ deleted: 0, stoppedBy: 'done' });
  expect(await count('1=1')).toBe(LIVE + inserted);
});

test('stops when its budget is spent, having deleted only expired rows, and the next run continues', async () => {
  const now = Date.now();
  await fill(60_000, 1_000, now);
  // A simulated clock that every statement advances by 10 ms: the budget runs out after a known amount of
  // work whatever the machine's load, so the test checks the stopping rule, not this machine's speed.
  let simulatedMs = 0;
  const slowDatabase = Object.create(database) as Database;
  slowDatabase.query = (async (...args: Parameters<Database['query']>) => {
    simulatedMs += 10;
    return database.query(...args);
  }) as Database['query'];
  const first = await pruneExpired(slowDatabase, { retentionDays: RETENTION_DAYS, batchSize: 500, budgetMs: 100, now: () => now, clock: () => simulatedMs });
  expect(first.stoppedBy).toBe('budget');
  // 10 ms for the first id, then 30 ms per batch (range end, delete, count); a batch takes 20 ms of that
  // (range end and delete), and none starts once no more than the longest batch is left of the budget.
  expect(first.longestBatchMs).toBe(20);
  expect(first.batches).toBe(3);
  expect(first.deleted).toBe(3 * 500);
  // It starts no batch it cannot finish: overrunning the budget by at most the longest batch.
  expect(first.elapsedMs).toBeLessThanOrEqual(100 + first.longestBatchMs);
  expect(await count("path LIKE '/live/%'")).toBe(1_000);
  const rest = await pruneExpired(database, { retentionDays: RETENTION_DAYS, batchSize: 5000, budgetMs: 120_000, now: () => now });
  expect(rest).toMatchObject({ deleted: 60_000 - first.deleted, stoppedBy: 'done' });
});

test('a row written out of order (skewed clock) inside the expired prefix stops the run without being deleted early', async () => {
  const now = Date.now();
  await fill(3_000, 0, now);
  // A fresh row whose id sits among the expired ones.
  await db.sql("UPDATE hits.hits SET created_at = UTC_TIMESTAMP(3), path = '/skewed' WHERE path = '/old/1500'");
  const r = await pruneExpired(database, { retentionDays: RETENTION_DAYS, batchSize: 100, budgetMs: 60_000, now: () => now });
  expect(r.stoppedBy).toBe('done');
  expect(await count("path = '/skewed'")).toBe(1);
  expect(r.deleted).toBeGreaterThanOrEqual(1_400);
  expect(await count('created_at >= ?', [new Date(now - RETENTION_DAYS * DAY).toISOString().replace('T', ' ').replace('Z', '')])).toBe(1);
});

test('no table yet (nothing recorded): nothing to do', async () => {
  await db.createUser('hits_empty', 'empty-password', 'hits_empty');
  const empty = new Database(loadConfig({ ...env, DB_NAME: 'hits_empty', DB_USER: 'hits_empty', DB_PASSWORD: 'empty-password' }).db);
  try {
    expect(await pruneExpired(empty, { retentionDays: 1, budgetMs: 5000 })).toMatchObject({ deleted: 0, batches: 0, stoppedBy: 'done' });
  } finally {
    await empty.close();
  }
});

test('the bundled entry point prunes with the DB_* contract and logs PrunedRows as EMF', async () => {
  const now = Date.now();
  await fill(2_500, 10, now);
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-prune-bundle-'));
  try {
    const file = path.join(dir, 'index.js');
    writeFileSync(file, bundleFunction('functions/prune/handler.ts').code);
    const { result, lines } = await asEntryPoint(
      { ...env, HITS_RETENTION_DAYS: String(RETENTION_DAYS), PRUNE_BATCH_SIZE: '1000', POWERTOOLS_METRICS_NAMESPACE: 'hits-test', POWERTOOLS_SERVICE_NAME: 'hits-test-prune' },
      () => (require(file) as { handler: (e: unknown, c: unknown) => Promise<{ deleted: number }> }).handler({}, { getRemainingTimeInMillis: () => 60_000 }),
    );
    expect(result.deleted).toBe(2_500);
    const line = JSON.parse(lines.find((l) => l.includes('"msg":"prune"'))!);
    expect(line).toMatchObject({ deleted: 2_500, stoppedBy: 'done', PrunedRows: 2_500, service: 'hits-test-prune', retentionDays: RETENTION_DAYS });
    expect(line._aws.CloudWatchMetrics[0]).toEqual({ Namespace: 'hits-test', Dimensions: [['service']], Metrics: [{ Name: 'PrunedRows', Unit: 'Count' }, { Name: 'PruneBatches', Unit: 'Count' }] });
    expect(line.PruneBatches).toBe(line.batches);
    expect(await count('1=1')).toBe(10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
