/**
 * Per-tenant connection pools, bounded in total. Each tenant gets a mysql2 pool of one connection (a
 * Lambda environment serves one request at a time, so one connection per tenant is all it can use), and
 * at most `maxConnections` pools exist at once: opening a pool for a new tenant when the bound is reached
 * first closes the least recently used idle pool, and waits when every pool is busy. One environment
 * therefore never holds more than `maxConnections` connections, whatever the tenant mix.
 *
 * Connections name no default schema and statements use fully qualified table names (`<db>.items`):
 * RDS Proxy reuses a database connection only for a client with the same user and default schema, so a
 * `USE` would split each tenant's proxy pool further
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html).
 *
 * Statements go through `query()` with placeholders, never `execute()`: prepared statements pin proxy
 * sessions (same page).
 */
import { createPool, type Pool, type PoolOptions } from 'mysql2/promise';
import { tlsOptions } from '../lib/credentials';
import type { TenantsConfig } from './config';

/** How tenant `t` logs in: its user and either a password or an auth plugin that answers with a token. */
export type Login = Pick<PoolOptions, 'user' | 'password' | 'authPlugins'>;
export type LoginFor = (tenant: number) => Promise<Login>;

/** The database cannot be reached or did not answer in time: answer 503. */
export class TenantDbUnavailableError extends Error {
  readonly code = 'DB_UNAVAILABLE';
  constructor(readonly cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'TenantDbUnavailableError';
  }
}

/** The database refused the tenant's login or its table twice, the second time with fresh credentials: answer 500. */
export class TenantDbAccessDeniedError extends Error {
  readonly code = 'DB_ACCESS_DENIED';
  constructor(readonly cause: unknown) {
    super(`database refused access: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'TenantDbAccessDeniedError';
  }
}

type ErrorShape = { code?: unknown; errno?: unknown; fatal?: unknown; message?: unknown };

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS']);
const ACCESS_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR']);
/** Error number RDS Proxy answers with when it cannot borrow a database connection in time. */
const PROXY_BORROW_TIMEOUT_ERRNO = 9501;

export function isAccessDenied(err: unknown): boolean {
  const code = (err as ErrorShape | null)?.code;
  return typeof code === 'string' && ACCESS_CODES.has(code);
}

/** Network, server gone, killed connection, timeouts, saturation: a later attempt may succeed. */
export function isUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object' || isAccessDenied(err)) return false;
  const e = err as ErrorShape;
  if (e.errno === PROXY_BORROW_TIMEOUT_ERRNO) return true;
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || e.code.startsWith('ERR_SSL') || e.code.includes('CERT'))) return true;
  return e.fatal === true;
}

export interface TenantPoolsOptions {
  /** Called when a tenant's pool is opened or closed (to make room, or after a failure). */
  onPool?: (event: 'open' | 'evict' | 'drop', tenant: number) => void;
}

interface Entry {
  readonly tenant: number;
  readonly pool: Promise<Pool>;
  busy: number;
}

export class TenantPools {
  /** Insertion order is recency: an entry is re-inserted on every use, so the first idle one is the least recently used. */
  private readonly entries = new Map<number, Entry>();
  private closing = 0;
  private readonly waiting: Array<() => void> = [];
  /** Pools opened over this instance's life. */
  opened = 0;

  constructor(
    private readonly config: TenantsConfig,
    private readonly loginFor: LoginFor,
    private readonly options: TenantPoolsOptions = {},
  ) {}

  /** Pools open (or opening) now: never more than `maxConnections`. */
  get size(): number {
    return this.entries.size + this.closing;
  }

  /**
   * Runs one statement as `tenant` on its pool. A connection-class error is retried once on a new
   * connection; an access denial is retried once with a fresh login (a token may have been refused while
   * IAM propagated), then reported as TenantDbAccessDeniedError. SQL errors propagate unchanged.
   */
  async query<T>(tenant: number, sql: string, values: readonly unknown[]): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.acquire(tenant);
      try {
        const pool = await entry.pool;
        const [rows] = await pool.query({ sql, values: [...values], timeout: this.config.db.queryTimeoutMs });
        return rows as T[];
      } catch (err) {
        const unavailable = isUnavailable(err);
        const denied = isAccessDenied(err);
        // A refused login needs a new pool (a new token); mysql2 replaces a dead connection on its own.
        if (denied) this.drop(entry);
        if ((unavailable || denied) && attempt === 1) continue;
        if (unavailable) throw new TenantDbUnavailableError(err);
        if (denied) throw new TenantDbAccessDeniedError(err);
        throw err;
      } finally {
        this.release(entry);
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.pool.then((p) => p.end()).catch(() => undefined)));
  }

  private async acquire(tenant: number): Promise<Entry> {
    for (;;) {
      const have = this.entries.get(tenant);
      if (have) {
        this.entries.delete(tenant);
        this.entries.set(tenant, have);
        have.busy++;
        return have;
      }
      if (this.size < this.config.maxConnections) return this.open(tenant);
      const idle = [...this.entries.values()].find((e) => e.busy === 0);
      if (idle) {
        // One pool closed per opening, and its connection gone before the new one opens: the bound holds
        // on the server too, not only in this map.
        await this.evict(idle, 'evict');
        continue;
      }
      // Every pool serves a request: wait for one to finish (only when requests overlap, as in local mode).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private open(tenant: number): Entry {
    const pool = this.loginFor(tenant).then((login) => {
      const p = createPool({ ...this.baseOptions(), ...login });
      // An idle connection that dies emits an error on the pool: the next query finds out and retries.
      p.on('connection', (conn) => conn.on('error', () => undefined));
      return p;
    });
    const entry: Entry = { tenant, pool, busy: 1 };
    // A failed login (STS) leaves no entry behind: the next request tries again.
    pool.catch(() => this.drop(entry));
    this.entries.set(tenant, entry);
    this.opened++;
    this.options.onPool?.('open', tenant);
    return entry;
  }

  private baseOptions(): PoolOptions {
    const db = this.config.db;
    return {
      host: db.host,
      port: db.port,
      connectionLimit: 1,
      maxIdle: 1,
      queueLimit: 0,
      connectTimeout: db.connectTimeoutMs,
      charset: 'UTF8MB4_UNICODE_CI',
      supportBigNumbers: true,
      multipleStatements: false,
      enableKeepAlive: true,
      ssl: tlsOptions(db),
    };
  }

  /** Removes `entry` (if still current) and closes its pool; the slot counts until the pool has closed. */
  private evict(entry: Entry, why: 'evict' | 'drop'): Promise<void> {
    if (this.entries.get(entry.tenant) !== entry) return Promise.resolve();
    this.entries.delete(entry.tenant);
    this.closing++;
    this.options.onPool?.(why, entry.tenant);
    return entry.pool
      .then((p) => p.end())
      .catch(() => undefined)
      .finally(() => {
        this.closing--;
        this.waiting.shift()?.();
      });
  }

  private drop(entry: Entry): void {
    void this.evict(entry, 'drop');
  }

  private release(entry: Entry): void {
    entry.busy--;
    if (entry.busy === 0) this.waiting.shift()?.();
  }
}
