/**
 * Per-tenant connection pools, bounded in total: what the tenants route adds to the functions' database
 * core. Each tenant gets a `Database` (functions/lib/db.ts: a pool of one connection, the request's
 * deadline, the shared retry policy and error classes) logging in as that tenant. A Lambda environment
 * serves one request at a time, so one connection per tenant is all it can use. At most `maxConnections`
 * tenants have a pool at once: opening one for a new tenant when the bound is reached first closes the least
 * recently used idle pool, and, when every pool is busy (requests overlap only in local mode), waits for one
 * while the request's deadline leaves time to connect; after that the request is refused as saturated (503),
 * as the hits route answers a database out of connections. One environment therefore never holds more than
 * `maxConnections` connections, whatever the tenant mix.
 *
 * Connections name no default schema and statements use fully qualified table names (`<db>.items`):
 * RDS Proxy reuses a database connection only for a client with the same user and default schema, so a
 * `USE` would split each tenant's proxy pool further
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html).
 */
import { Database, type DbHooks, type DbSettings } from '../lib/db';
import type { Login } from '../lib/credentials';
import type { Deadline } from '../lib/deadline';
import { DbUnavailableError } from '../lib/db-errors';

/** How tenant `t` logs in: its user, and a password or the token plugin; `invalidate` forgets its token and credentials. */
export type LoginFor = (tenant: number) => Login;

/** Every pool of the environment serves a request, and none freed up in time. */
export class TenantPoolsBusyError extends Error {
  readonly code = 'TENANT_POOLS_BUSY';
  constructor(readonly bound: number) {
    super(`every one of the ${bound} tenant pools of this environment is busy`);
    this.name = 'TenantPoolsBusyError';
  }
}

export type PoolEvent = 'open' | 'evict' | 'refuse';

export interface TenantPoolsOptions {
  /** Called when a tenant's pool is opened, closed to make room, or a request refused because every pool was busy. */
  readonly onPool?: (event: PoolEvent, tenant: number) => void;
  /** The database hooks of tenant `t`'s pool. */
  readonly hooks?: (tenant: number) => DbHooks;
  readonly now?: () => number;
}

interface Entry {
  readonly tenant: number;
  readonly db: Database;
  busy: number;
}

export class TenantPools {
  /** Insertion order is recency: an entry is re-inserted on every use, so the first idle one is the least recently used. */
  private readonly entries = new Map<number, Entry>();
  private closing = 0;
  private readonly waiting = new Set<() => void>();
  /** Pools opened over this instance's life. */
  opened = 0;

  constructor(
    private readonly settings: DbSettings,
    private readonly maxConnections: number,
    private readonly loginFor: LoginFor,
    private readonly options: TenantPoolsOptions = {},
  ) {}

  /** Pools open (or closing) now: never more than `maxConnections`. */
  get size(): number {
    return this.entries.size + this.closing;
  }

  /** Runs one statement as `tenant` on its pool, within `deadline`; see functions/lib/db.ts for what is retried. */
  async query<T>(tenant: number, sql: string, values: unknown[], deadline: Deadline): Promise<T> {
    const entry = await this.acquire(tenant, deadline);
    try {
      return await entry.db.query<T>(sql, values, deadline);
    } finally {
      this.release(entry);
    }
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.db.close()));
  }

  private async acquire(tenant: number, deadline: Deadline): Promise<Entry> {
    for (;;) {
      const have = this.entries.get(tenant);
      if (have) {
        this.entries.delete(tenant);
        this.entries.set(tenant, have);
        have.busy++;
        return have;
      }
      if (this.size < this.maxConnections) return this.open(tenant);
      const idle = [...this.entries.values()].find((e) => e.busy === 0);
      if (idle) {
        // One pool closed per opening, and its connection gone before the new one opens: the bound holds
        // on the server too, not only in this map.
        await this.evict(idle);
        continue;
      }
      // Every pool serves a request. Wait for one while a connection could still be opened after it.
      if (!(await this.slotFreed(deadline.remainingMs() - this.settings.connectTimeoutMs))) {
        this.options.onPool?.('refuse', tenant);
        throw new DbUnavailableError(new TenantPoolsBusyError(this.maxConnections), 'saturated');
      }
    }
  }

  /** True when a pool was released or closed within `ms`; false at once when `ms` is not positive. */
  private slotFreed(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        resolve(false);
      }, ms);
      this.waiting.add(wake);
    });
  }

  /** Wakes the longest-waiting request, if any. */
  private wakeOne(): void {
    const first = this.waiting.values().next();
    if (!first.done) first.value();
  }

  private open(tenant: number): Entry {
    const db = new Database(this.settings, { login: this.loginFor(tenant), now: this.options.now, hooks: this.options.hooks?.(tenant) });
    const entry: Entry = { tenant, db, busy: 1 };
    this.entries.set(tenant, entry);
    this.opened++;
    this.options.onPool?.('open', tenant);
    return entry;
  }

  /** Removes `entry` and closes its pool; the slot counts until the pool has closed. */
  private async evict(entry: Entry): Promise<void> {
    this.entries.delete(entry.tenant);
    this.closing++;
    this.options.onPool?.('evict', entry.tenant);
    try {
      await entry.db.close();
    } finally {
      this.closing--;
      this.wakeOne();
    }
  }

  private release(entry: Entry): void {
    entry.busy--;
    if (entry.busy === 0) this.wakeOne();
  }
}
