/**
 * Database access for a function: one mysql2 pool of one connection, reused across invocations. The hits
 * function keeps one per execution environment; the tenants function one per tenant (functions/tenants/pools.ts),
 * each with that tenant's login. Both routes go through `Database.query`, so they fail and retry alike.
 *
 * Rules: `query()` with placeholders only (never `execute()`, which prepares statements and pins RDS
 * Proxy sessions: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html), no SET,
 * no user variables, no multi-statements; the pool is rebuilt after an idle gap longer than the proxy's
 * idle client timeout; a login is asked for every new pool, and an IAM token for every new connection
 * (credentials.ts).
 *
 * The retry policy, by error class (db-errors.ts), and why:
 * - saturation (too many connections, the user's connection limit, RDS Proxy borrow timeout):
 *   DbUnavailableError at once, no retry: a retry would only queue behind the same limit, add load to a
 *   database already out of connections, and outlive the invocation;
 * - connection-class (network, server gone, connection killed, TLS): the pool is dropped and the
 *   statement retried once on a new connection, if the request's deadline leaves at least a
 *   connect timeout for it (a dead pooled connection is the usual cause, and a new one fixes it);
 *   otherwise, or when the retry fails too, DbUnavailableError;
 * - a refused login (access denied): the pool is dropped, the login told to forget what it cached (the
 *   secret, a tenant's token and credentials) and the statement retried once with fresh credentials
 *   (a rotated secret, an expired token, revoked session credentials); a second refusal is DbAuthError
 *   (a misconfiguration, not an outage);
 * - every attempt is bounded by the request's Deadline (one timer around credentials, connecting and the
 *   statement): when it runs out, the connection is destroyed and DbUnavailableError, no retry.
 * Anything else (SQL errors, an STS failure while logging in) propagates unchanged.
 */
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import type { HitsConfig } from './config';
import { connectionBase, login, type DbEndpoint, type Login } from './credentials';
import { Deadline } from './deadline';
import { DbAuthError, DbDeadlineError, DbUnavailableError, isAuthError, isConnectionError, isDeadlineError, isSaturationError } from './db-errors';

/** Where a Database connects, and the time it may take: what the hits and tenants configurations share. */
export interface DbSettings extends DbEndpoint {
  /** An environment idle for longer than this rebuilds its pool (the proxy's idle client timeout). */
  readonly idleRebuildMs: number;
  /** Database time of one request, retry included, when the caller gives no Deadline. */
  readonly requestBudgetMs: number;
}

export interface DbHooks {
  /** Called whenever a new pool is created (cold start, after a connection error, after an idle gap). */
  onPoolCreated?: (reason: string) => void;
  /** Called for every error that is retried: a connection-class error or a first access denial. */
  onRetry?: (err: unknown, kind: 'connection' | 'auth') => void;
  /** Called for every login the database refused, the retried one and the final one alike. */
  onLoginRefused?: (err: unknown) => void;
  /** Called after every `query()`, success or failure, with its wall time in ms (retries included): the request's database time. */
  onQueryDone?: (elapsedMs: number) => void;
}

export interface DatabaseOptions {
  /** How to log in. @default the login DB_AUTH names (credentials.ts `login`) */
  login?: Login;
  /** Overrides token minting in iam mode (tests with a fixed clock). */
  mintToken?: () => Promise<string>;
  hooks?: DbHooks;
  now?: () => number;
}

export class Database {
  private pool?: Pool;
  private lastUsed = 0;
  private readonly login: Login;
  private readonly now: () => number;
  /** Tokens minted (iam mode) - one per new connection. */
  tokensMinted = 0;
  /** Attempts made (statements sent or connections tried), retries included. */
  attempts = 0;

  /** With the hits configuration, the login its DB_AUTH names; with bare settings, the login given. */
  constructor(config: HitsConfig['db'], options?: DatabaseOptions);
  constructor(config: DbSettings, options: DatabaseOptions & { login: Login });
  constructor(
    private readonly config: DbSettings,
    private readonly options: DatabaseOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.login = options.login ?? login(config as HitsConfig['db'], { mintToken: options.mintToken, onTokenMinted: () => this.tokensMinted++ });
  }

  get secretFetches(): number {
    return this.login.secretFetches;
  }

  private async getPool(): Promise<Pool> {
    const now = this.now();
    if (this.pool && this.lastUsed > 0 && now - this.lastUsed > this.config.idleRebuildMs) {
      this.discardPool();
      this.options.hooks?.onPoolCreated?.('idle');
    }
    const auth = this.pool ? undefined : await this.login.options();
    // Checked again after the login: a concurrent query may have created the pool meanwhile, and a second
    // one would hold a second connection that nothing ever closes.
    if (!this.pool) {
      const pool = createPool({
        ...connectionBase(this.config),
        ...auth,
        connectionLimit: 1,
        maxIdle: 1,
        queueLimit: 0,
        dateStrings: true,
        supportBigNumbers: true,
        enableKeepAlive: true,
      });
      // An idle pooled connection that dies emits an error on the pool: it is handled at the next query.
      pool.on('connection', (conn) => conn.on('error', () => undefined));
      this.pool = pool;
      this.options.hooks?.onPoolCreated?.('new');
    }
    return this.pool;
  }

  private discardPool(): void {
    const old = this.pool;
    this.pool = undefined;
    old?.end().catch(() => undefined);
  }

  /**
   * One attempt, bounded by `budgetMs`: one timer covers credentials, connecting, TLS, authentication and
   * the statement. On expiry the connection is destroyed (the statement may still be running on it) and
   * the pool dropped. (mysql2's own per-query `timeout` is not used: it is not cleared when the
   * connection dies mid-statement, so it would keep the process busy until it fires.)
   */
  private attempt<T>(sql: string, values: unknown[], budgetMs: number): Promise<T> {
    this.attempts++;
    let conn: PoolConnection | undefined;
    let expired = false;
    const drop = (c: PoolConnection | undefined) => {
      if (!c) return;
      this.discardPool();
      c.destroy();
    };

    const work = (async (): Promise<T> => {
      const pool = await this.getPool();
      // The login outlived the deadline (a slow secret or STS): the pool it made is sound, and left for the
      // next request. Going on would connect for nobody, and dropping it could close it under that request.
      if (expired) throw new DbDeadlineError(budgetMs);
      conn = await pool.getConnection();
      if (expired) {
        drop(conn);
        throw new DbDeadlineError(budgetMs);
      }
      try {
        const [rows] = await conn.query({ sql, values });
        return rows as T;
      } finally {
        if (!expired) conn.release();
      }
    })();

    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        expired = true;
        drop(conn);
        this.discardPool();
        reject(new DbDeadlineError(budgetMs));
      }, budgetMs);
      work.then(
        (rows) => {
          clearTimeout(timer);
          resolve(rows);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /**
   * Runs one parameterized statement within `deadline` (default: the configured request budget from
   * now). See the file comment for what is retried; failures become DbUnavailableError (503) or
   * DbAuthError (500), SQL errors propagate unchanged.
   */
  async query<T = unknown>(sql: string, params: unknown[] = [], deadline: Deadline = new Deadline(this.config.requestBudgetMs)): Promise<T> {
    const started = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        const remaining = deadline.remainingMs();
        if (remaining <= 0) throw new DbUnavailableError(new DbDeadlineError(deadline.budgetMs), 'deadline');
        try {
          return await this.attempt<T>(sql, params, remaining);
        } catch (err) {
          if (isDeadlineError(err)) throw new DbUnavailableError(err, 'deadline');
          if (isSaturationError(err)) {
            if ((err as { fatal?: unknown }).fatal === true) this.discardPool();
            throw new DbUnavailableError(err, 'saturated');
          }
          const auth = isAuthError(err);
          if (!auth && !isConnectionError(err)) throw err;
          if (auth) this.options.hooks?.onLoginRefused?.(err);
          this.discardPool();
          if (auth) this.login.invalidate();
          if (attempt >= 2) throw auth ? new DbAuthError(err) : new DbUnavailableError(err, 'unreachable');
          // A retry needs a new connection: without the time to make one it would only outlive the invocation.
          if (deadline.remainingMs() < this.config.connectTimeoutMs) throw new DbUnavailableError(err, 'deadline');
          this.options.hooks?.onRetry?.(err, auth ? 'auth' : 'connection');
        }
      }
    } finally {
      this.lastUsed = this.now();
      this.options.hooks?.onQueryDone?.(performance.now() - started);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }
}
