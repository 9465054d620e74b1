/**
 * Database access for the function: one mysql2 pool of one connection per execution environment.
 *
 * Rules (DESIGN.md, FIELD-NOTES.md): `query()` with placeholders only (never `execute()`, which
 * prepares statements and pins RDS Proxy sessions), no SET, no user variables, no multi-statements;
 * one retry on connection-class errors; the pool is rebuilt after an idle gap longer than the
 * proxy's idle client timeout; an IAM token is minted for every new connection.
 */
import type { Pool, PoolOptions } from 'mysql2/promise';
import { createConnection, createPool, type Connection } from 'mysql2/promise';
import { rootCertificates } from 'tls';
import type { HitsConfig } from './config';

/** The database cannot be reached or is saturated, even after the retry: answer 503. */
export class DbUnavailableError extends Error {
  constructor(readonly cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DbUnavailableError';
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
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR', // too many connections: saturated
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_USER_LIMIT_REACHED',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
  'ER_ACCESS_DENIED_ERROR', // expired token or rotated secret: a new connection with fresh credentials may pass
]);

/** True for errors where a new connection may succeed: network, server gone, killed, saturated, auth. */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown };
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || e.code.includes('CERT') || e.code.startsWith('ERR_SSL'))) return true;
  if (e.fatal === true) return true;
  // RDS Proxy answers a borrow timeout with this message.
  return typeof e.message === 'string' && /timed-out waiting to acquire database connection/i.test(e.message);
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface DbHooks {
  /** Called whenever a new pool is created (cold start, after a connection error, after an idle gap). */
  onPoolCreated?: (reason: string) => void;
  /** Called for every error that is retried. */
  onRetry?: (err: unknown) => void;
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
  /** Open and close a connection for every query: the "connect per request" variant for benchmarks. */
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

  private async once<T>(sql: string, params: unknown[]): Promise<T> {
    if (this.options.connectPerRequest) {
      this.requestConn ??= createConnection(await this.poolOptions());
      try {
        const [rows] = await (await this.requestConn).query(sql, params);
        return rows as T;
      } catch (err) {
        if (isConnectionError(err)) await this.endRequest();
        throw err;
      }
    }
    const pool = await this.getPool();
    const [rows] = await pool.query(sql, params);
    return rows as T;
  }

  /**
   * Runs one parameterized statement. A connection-class error drops the pool (and, in secret mode
   * after an access denial, the cached secret) and is retried once; a second one becomes
   * DbUnavailableError. Other errors propagate unchanged.
   */
  async query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.once<T>(sql, params);
        } catch (err) {
          if (!isConnectionError(err)) throw err;
          this.discardPool();
          if ((err as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') this.secret?.invalidate();
          if (attempt >= 2) throw new DbUnavailableError(err);
          this.options.hooks?.onRetry?.(err);
        }
      }
    } finally {
      this.lastUsed = this.now();
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
