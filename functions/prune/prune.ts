/**
 * Deletes hits older than the retention, oldest first, in short primary-key ranges: each batch finds the
 * id `batchSize` rows ahead on the primary key (`LIMIT`), then deletes the expired rows of that closed
 * range. A batch therefore locks at most `batchSize` old rows, far below the newest id where inserts
 * land, and commits on its own (autocommit), so a request's INSERT waits for one short batch at most.
 *
 * Ids grow with time (auto-increment, `created_at` set at insert), so expired rows form a prefix of the
 * table. The first range holding a row that is not expired marks the end of that prefix: the run stops
 * there. Rows a skewed clock wrote slightly out of order are left for the next run, never deleted early:
 * every DELETE also requires `created_at < cutoff`.
 */
import type { Database } from '../lib/db';
import { Deadline } from '../lib/deadline';
import { isMissingTable, sqlUtc } from '../lib/sql';

export interface PruneOptions {
  /** Rows older than this many days are deleted. */
  readonly retentionDays: number;
  /** Rows per batch (primary-key range). @default 1000 */
  readonly batchSize?: number;
  /** Time after which no new batch starts; a batch already running finishes. */
  readonly budgetMs: number;
  /** The clock (ms since the epoch) that sets the cutoff. @default Date.now */
  readonly now?: () => number;
  /** The monotonic clock (ms) the budget and batch times are measured with. @default performance.now */
  readonly clock?: () => number;
}

export interface PruneResult {
  /** Rows deleted. */
  readonly deleted: number;
  /** DELETE statements run. */
  readonly batches: number;
  /** `done`: no expired row left before the first live one; `budget`: stopped by the time budget (the next run continues). */
  readonly stoppedBy: 'done' | 'budget';
  /** `created_at` bound of this run, UTC, `YYYY-MM-DD HH:MM:SS.mmm`. */
  readonly cutoff: string;
  /** Longest batch, in ms: the longest an insert could have waited on this run's locks. */
  readonly longestBatchMs: number;
  readonly elapsedMs: number;
}

const FIRST_ID = 'SELECT MIN(id) AS id FROM hits WHERE id >= ?';
const RANGE_END = 'SELECT id FROM hits WHERE id >= ? ORDER BY id LIMIT ?, 1';
const LAST_ID = 'SELECT MAX(id) AS id FROM hits';
const DELETE_EXPIRED = 'DELETE FROM hits WHERE id BETWEEN ? AND ? AND created_at < ?';
const COUNT_RANGE = 'SELECT COUNT(*) AS n FROM hits WHERE id BETWEEN ? AND ?';

type IdRow = { id: string | number | null };

/** Deletes expired hits in batches until none is left or the budget is spent. */
export async function pruneExpired(db: Database, options: PruneOptions): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) throw new RangeError(`retentionDays must be a whole number of days ≥ 1, got ${options.retentionDays}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const cutoff = sqlUtc((options.now ?? Date.now)() - options.retentionDays * 86_400_000);
  const deadline = new Deadline(options.budgetMs, clock);
  let deleted = 0;
  let batches = 0;
  let longestBatchMs = 0;
  const result = (stoppedBy: PruneResult['stoppedBy']): PruneResult => ({ deleted, batches, stoppedBy, cutoff, longestBatchMs, elapsedMs: clock() - started });

  // Statements get the whole budget's remainder at least a few seconds: a batch that started must be allowed to finish.
  const statementDeadline = () => new Deadline(Math.max(deadline.remainingMs(), 5000), clock);
  let from: number;
  try {
    const first = (await db.query<IdRow[]>(FIRST_ID, [0], statementDeadline()))[0]?.id;
    if (first === null || first === undefined) return result('done');
    from = Number(first);
  } catch (err) {
    if (isMissingTable(err)) return result('done'); // nothing recorded yet
    throw err;
  }

  for (;;) {
    // A batch must fit: stop once the remaining time is no longer than the longest batch so far.
    if (deadline.remainingMs() <= Math.max(longestBatchMs, 1)) return result('budget');
    const batchStarted = clock();
    const end = (await db.query<IdRow[]>(RANGE_END, [from, batchSize - 1], statementDeadline()))[0]?.id ?? (await db.query<IdRow[]>(LAST_ID, [], statementDeadline()))[0]?.id;
    if (end === null || end === undefined) return result('done');
    const to = Number(end);
    const res = await db.query<{ affectedRows: number }>(DELETE_EXPIRED, [from, to, cutoff], statementDeadline());
    batches++;
    deleted += res.affectedRows;
    longestBatchMs = Math.max(longestBatchMs, clock() - batchStarted);
    const left = Number((await db.query<Array<{ n: number | string }>>(COUNT_RANGE, [from, to], statementDeadline()))[0].n);
    // A row the batch kept is not expired: the expired prefix ends here.
    if (left > 0) return result('done');
    from = to + 1;
  }
}
