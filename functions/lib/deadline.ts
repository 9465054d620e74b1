/**
 * The time one request may spend on the database, taken from the invocation's remaining time, so that a
 * function always answers (503) and logs before Lambda's own timeout cuts it off with a bare 500 from API
 * Gateway. Every function that serves requests (hits, tenants) derives its deadline here.
 */
import type { LambdaContext } from './http';

/**
 * Time kept back from Lambda's remaining invocation time when deriving a request's database
 * deadline: enough to answer 503 and write the log line before Lambda ends the invocation.
 */
export const DEADLINE_MARGIN_MS = 1000;

/**
 * The database budget of one request: the configured budget (DB_REQUEST_BUDGET_MS), lowered to the
 * invocation's remaining time less DEADLINE_MARGIN_MS when the Lambda context says how much is left.
 */
export function requestBudgetMs(configuredMs: number, context?: LambdaContext): number {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return configuredMs;
  return Math.max(0, Math.min(configuredMs, remaining - DEADLINE_MARGIN_MS));
}

/** A point in time (monotonic clock) by which the database work of one request must be done. */
export class Deadline {
  private readonly at: number;

  constructor(
    readonly budgetMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.at = clock() + Math.max(0, budgetMs);
  }

  /** Whole milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.at - this.clock()));
  }
}
