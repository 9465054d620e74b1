/**
 * Database access for the function: one mysql2 pool of one connection per execution environment.
 *
 * Rules (DESIGN.md, FIELD-NOTES.md): `query()` with placeholders only (never `execute()`, which
 * prepares statements and pins RDS Proxy sessions), no SET, no user variables, no multi-statements;
 * the pool is rebuilt after an idle gap longer than the proxy's idle client timeout; an IAM token is
 * minted for every new connection.
 *
 * Failure handling, by error class:
 * - saturation (too many connections, RDS Proxy borrow timeout): DbUnavailableError at once, no
 *   retry: a retry would only queue behind the same limit and outlive the invocation;
 * - connection-class (network, server gone, connection killed, TLS): the pool is dropped and the
 *   statement retried once on a new connection, if the request's deadline leaves at least a
 *   connect timeout for it; otherwise, or when the retry fails too, DbUnavailableError;
 * - access denied: the pool (and in secret mode the cached secret) is dropped and the statement
 *   retried once with fresh credentials; a second denial is DbAuthError (a misconfiguration, not
 *   an outage);
 * - every attempt is bounded by the request's Deadline (mysql2's per-query `timeout` plus a timer
 *   around connecting): when it runs out, DbUnavailableError without a retry.
 * Anything else (SQL errors) propagates unchanged.
 */
import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';
import { createConnection, createPool, type Connection } from 'mysql2/promise';
import { rootCertificates } from 'tls';
import type { HitsConfig } from './config';

/** Why the database is unavailable: each answers 503 with Retry-After. */
export type DbUnavailableReason = 'saturated' | 'unreachable' | 'deadline';

/** The database cannot be reached, is saturated, or did not answer within the request's deadline: answer 503. */
export class DbUnavailableError extends Error {
  constructor(
    readonly cause: unknown,
    readonly reason: DbUnavailableReason = 'unreachable',
  ) {
    super(`database unavailable (${reason}): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DbUnavailableError';
  }
}

/** The database refused the credentials twice (the second time fresh ones): a misconfiguration, answer 500. */
export class DbAuthError extends Error {
  constructor(readonly cause: unknown) {
    super(`database refused the credentials: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DbAuthError';
  }
}

/** An attempt outlived the request's deadline (connecting, fetching credentials or the statement itself). */
export class DbDeadlineError extends Error {
  readonly code = 'DB_DEADLINE_EXCEEDED';
  constructor(readonly budgetMs: number) {
    super(`no answer from the database within the request's remaining budget of ${budgetMs} ms`);
    this.name = 'DbDeadlineError';
  }
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

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
]);

const SATURATION_CODES = new Set([
  'ER_CON_COUNT_ERROR', // server: too many connections
  'ER_TOO_MANY_USER_CONNECTIONS', // user's MAX_USER_CONNECTIONS
  'ER_USER_LIMIT_REACHED', // user's hourly resource limits
]);

/** Error number RDS Proxy answers with when it cannot borrow a database connection in time. */
const PROXY_BORROW_TIMEOUT_ERRNO = 9501;

const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR']);

type ErrorShape = { code?: unknown; errno?: unknown; fatal?: unknown; message?: unknown };

/** True when the database (or RDS Proxy in front of it) is out of connections: retrying only adds load. */
export function isSaturationError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  if (typeof e.code === 'string' && SATURATION_CODES.has(e.code)) return true;
  if (e.errno === PROXY_BORROW_TIMEOUT_ERRNO) return true;
  return typeof e.message === 'string' && /timed-out waiting to acquire database connection/i.test(e.message);
}

/** True when the server refused the credentials (expired token, rotated secret, or a missing grant). */
export function isAuthError(err: unknown): boolean {
  const code = (err as ErrorShape | null)?.code;
  return typeof code === 'string' && AUTH_CODES.has(code);
}

/** True when the request's deadline ended the attempt (our timer or mysql2's per-query timeout). */
export function isDeadlineError(err: unknown): boolean {
  const code = (err as ErrorShape | null)?.code;
  return code === 'DB_DEADLINE_EXCEEDED' || code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}

/**
 * True for errors where a new connection may succeed: network, server gone, connection killed,
 * TLS. Saturation, access denial and deadline errors are classified separately (see above).
 */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (isSaturationError(err) || isAuthError(err) || isDeadlineError(err)) return false;
  const e = err as ErrorShape;
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || e.code.includes('CERT') || e.code.startsWith('ERR_SSL'))) return true;
  return e.fatal === true;
}

interface CoreQuery {
  queryTimeout?: ReturnType<typeof setTimeout> | null;
}
interface CoreConnection {
  query(options: { sql: string; values: unknown[]; timeout: number }, cb: (err: unknown, rows: unknown) => void): CoreQuery;
}

/**
 * `query()` with mysql2's per-query timeout. mysql2 clears that timer only when a result arrives:
 * when the connection dies mid-statement it would keep the process busy (and call back again)
 * until the timeout, so it is cleared here on every error.
 */
function queryWithTimeout(conn: PoolConnection | Connection, sql: string, values: unknown[], timeout: number): Promise<unknown> {
  const core = (conn as unknown as { connection: CoreConnection }).connection;
  return new Promise((resolve, reject) => {
    let settled = false;
    const cmd = core.query({ sql, values, timeout }, (err, rows) => {
      if (settled) return;
      settled = true;
      if (!err) return resolve(rows);
      if (cmd?.queryTimeout) clearTimeout(cmd.queryTimeout);
      reject(err);
    });
  });
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface DbHooks {
  /** Called whenever a new pool is created (cold start, after a connection error, after an idle gap). */
  onPoolCreated?: (reason: string) => void;
  /** Called for every error that is retried: a connection-class error or a first access denial. */
  onRetry?: (err: unknown, kind: 'connection' | 'auth') => void;
  /** Called after every `query()`, success or failure, with its wall time in ms (retries included): the request's database time. */
  onQueryDone?: (elapsedMs: number) => void;
}

/** Secrets Manager user/password, fetched once per environment and kept; refetched after an access denial. */
export class SecretCredentials {
  private cached?: Promise<Credentials>;
  fetches = 0;

  constructor(
    private readonly secretId: string,
    private readonly defaultUser: string,
  ) {}

  get(): Promise<Credentials> {
    if (!this.cached) {
      this.cached = this.fetch();
      this.cached.catch(() => (this.cached = undefined));
    }
    return this.cached;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<Credentials> {
    this.fetches++;
    // Loaded on first use: keeps module load (cold start) short in the other auth modes.
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const client = new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 } });
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      let parsed: { username?: unknown; password?: unknown } = {};
      try {
        parsed = JSON.parse(out.SecretString ?? '');
      } catch {
        // reported below
      }
      if (typeof parsed.password !== 'string') {
        throw new Error('the database secret is not JSON with "username" and "password"');
      }
      const user = typeof parsed.username === 'string' && parsed.username ? parsed.username : this.defaultUser;
      if (!user) throw new Error('the database secret has no "username" and DB_USER is empty');
      return { user, password: parsed.password };
    } finally {
      client.destroy();
    }
  }
}

/** Mints an RDS IAM auth token (local signing, no network) for the proxy endpoint and user. */
export function iamTokenMinter(config: HitsConfig['db']): () => Promise<string> {
  let signer: { getAuthToken(): Promise<string> } | undefined;
  return async () => {
    if (!signer) {
      const { Signer } = await import('@aws-sdk/rds-signer');
      signer = new Signer({ hostname: config.host, port: config.port, username: config.user, region: config.region });
    }
    return signer.getAuthToken();
  };
}

export interface DatabaseOptions {
  /** Overrides token minting in iam mode (tests with a fixed clock). */
  mintToken?: () => Promise<string>;
  /** Open a connection per invocation and close it at `endRequest()`: the "connect per request" variant for benchmarks. */
  connectPerRequest?: boolean;
  hooks?: DbHooks;
  now?: () => number;
}

export class Database {
  private pool?: Pool;
  private requestConn?: Promise<Connection>;
  private lastUsed = 0;
  private readonly secret?: SecretCredentials;
  private readonly mintToken?: () => Promise<string>;
  private readonly now: () => number;
  /** Tokens minted (iam mode) - one per new connection. */
  tokensMinted = 0;
  /** Attempts made (statements sent or connections tried), retries included. */
  attempts = 0;

  constructor(
    private readonly config: HitsConfig['db'],
    private readonly options: DatabaseOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    if (config.auth === 'secret') this.secret = new SecretCredentials(config.secretArn!, config.user);
    if (config.auth === 'iam') this.mintToken = options.mintToken ?? iamTokenMinter(config);
  }

  get secretFetches(): number {
    return this.secret?.fetches ?? 0;
  }

  private async poolOptions(): Promise<PoolOptions> {
    const c = this.config;
    const base: PoolOptions = {
      host: c.host,
      port: c.port,
      database: c.name,
      connectionLimit: 1,
      maxIdle: 1,
      queueLimit: 0,
      connectTimeout: c.connectTimeoutMs,
      charset: 'UTF8MB4_UNICODE_CI',
      dateStrings: true,
      supportBigNumbers: true,
      multipleStatements: false,
      enableKeepAlive: true,
      ssl: c.tls === 'verify' ? { ca: c.ca ? [...rootCertificates, c.ca] : undefined, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' } : undefined,
    };
    switch (c.auth) {
      case 'password':
        return { ...base, user: c.user, password: c.password };
      case 'secret': {
        const cred = await this.secret!.get();
        return { ...base, user: cred.user, password: cred.password };
      }
      case 'iam': {
        const mint = this.mintToken!;
        return {
          ...base,
          user: c.user,
          // Supplying this plugin is mysql2's opt-in to clear-text passwords (only ever over verified
          // TLS: config refuses iam without it). It runs once per new connection: one fresh token each.
          authPlugins: {
            mysql_clear_password: () => async () => {
              this.tokensMinted++;
              return Buffer.from(`${await mint()}\0`);
            },
          },
        };
      }
    }
  }

  private async getPool(): Promise<Pool> {
    const now = this.now();
    if (this.pool && this.lastUsed > 0 && now - this.lastUsed > this.config.idleRebuildMs) {
      this.discardPool();
      this.options.hooks?.onPoolCreated?.('idle');
    }
    if (!this.pool) {
      const pool = createPool(await this.poolOptions());
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
   * One attempt, bounded by `budgetMs`: mysql2's per-query `timeout` bounds the statement, a timer
   * bounds everything before it (credentials, connecting, TLS, authentication). On expiry the
   * connection is destroyed (a timed-out mysql2 query keeps its connection busy) and the pool dropped.
   */
  private attempt<T>(sql: string, values: unknown[], budgetMs: number): Promise<T> {
    this.attempts++;
    const started = performance.now();
    let conn: PoolConnection | Connection | undefined;
    let expired = false;
    const drop = (c: PoolConnection | Connection | undefined) => {
      if (!c) return;
      if (this.options.connectPerRequest) this.requestConn = undefined;
      else this.discardPool();
      c.destroy();
    };

    const work = (async (): Promise<T> => {
      if (this.options.connectPerRequest) {
        this.requestConn ??= this.poolOptions().then((o) => createConnection(o));
        const pending = this.requestConn;
        pending.catch(() => {
          if (this.requestConn === pending) this.requestConn = undefined;
        });
        conn = await pending;
      } else {
        conn = await (await this.getPool()).getConnection();
      }
      if (expired) {
        drop(conn);
        throw new DbDeadlineError(budgetMs);
      }
      const timeout = Math.max(1, Math.floor(budgetMs - (performance.now() - started)));
      try {
        return (await queryWithTimeout(conn, sql, values, timeout)) as T;
      } catch (err) {
        if (isDeadlineError(err)) drop(conn);
        else if (this.options.connectPerRequest && (isConnectionError(err) || isAuthError(err))) drop(conn);
        throw err;
      } finally {
        if (!this.options.connectPerRequest) (conn as PoolConnection).release();
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
            if ((err as ErrorShape).fatal === true) this.discardPool();
            throw new DbUnavailableError(err, 'saturated');
          }
          const auth = isAuthError(err);
          if (!auth && !isConnectionError(err)) throw err;
          this.discardPool();
          if (auth) this.secret?.invalidate();
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

  /** End of an invocation: closes the per-request connection of the connect-per-request variant (no-op when pooled). */
  async endRequest(): Promise<void> {
    const conn = this.requestConn;
    this.requestConn = undefined;
    if (conn) await conn.then((c) => c.end()).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.endRequest();
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }
}
