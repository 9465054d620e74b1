/**
 * Lambda entry point of the scheduled prune (EventBridge Scheduler): deletes hits older than
 * HITS_RETENTION_DAYS in short batches and reports what it removed as EMF metrics in its one log line.
 * It connects with the same DB_* contract as the `hits` function, so it follows the application user.
 */
import { loadConfig } from '../lib/config';
import { ConfigError, wholeNumber } from '../lib/env';
import { Database } from '../lib/db';
import { createLogger, errorFields } from '../lib/log';
import { EmfWriter, metricsConfigFrom } from '../lib/metrics';
import { pruneExpired, type PruneResult } from './prune';

/** Kept back from the invocation's remaining time: the last batch and the log line must finish before Lambda's timeout. */
const MARGIN_MS = 5000;

const metrics = metricsConfigFrom(process.env);
const log = createLogger({ service: metrics.service });
const setup = (() => {
  try {
    return {
      db: new Database(loadConfig(process.env).db),
      retentionDays: wholeNumber(process.env, 'HITS_RETENTION_DAYS', undefined, 1, 3650),
      batchSize: wholeNumber(process.env, 'PRUNE_BATCH_SIZE', 1000, 1, 100000),
      budgetMs: wholeNumber(process.env, 'PRUNE_BUDGET_MS', 50000, 100, 900000),
      emf: new EmfWriter(metrics),
    };
  } catch (err) {
    if (err instanceof ConfigError) log.error('invalid configuration', { variable: err.variable, error: err.message });
    throw err;
  }
})();

export async function handler(_event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<PruneResult> {
  const remaining = context?.getRemainingTimeInMillis?.();
  const budgetMs = typeof remaining === 'number' ? Math.max(0, Math.min(setup.budgetMs, remaining - MARGIN_MS)) : setup.budgetMs;
  try {
    const result = await pruneExpired(setup.db, { retentionDays: setup.retentionDays, batchSize: setup.batchSize, budgetMs });
    log.info('prune', { ...result, retentionDays: setup.retentionDays, ...setup.emf.prune(result.deleted, result.batches) });
    return result;
  } catch (err) {
    log.error('prune failed', errorFields(err));
    throw err; // the schedule's retry policy tries again
  }
}
