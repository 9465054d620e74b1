/**
 * Runtime configuration of the functions' database and cache access (the DB_* and CACHE_* variables the
 * stacks set), read once per execution environment (cold start). Every problem is reported as a
 * ConfigError naming the variable, so a misconfigured deployment fails at init with a message an
 * operator can act on.
 */

import { readFileSync } from 'fs';
import { caBundleSetting, caFileBundle, ConfigError, oneOf, required, wholeNumber, type DbCaBundle, type Env } from './env';

export { ConfigError } from './env';

export type DbAuth = 'iam' | 'secret' | 'password';
export type DbTls = 'verify' | 'off';
export type { DbCaBundle } from './env';

export interface CacheNode {
  readonly host: string;
  readonly port: number;
}

export interface HitsConfig {
  readonly db: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    /** Database user; in `secret` mode the secret's `username` wins when present. */
    readonly user: string;
    readonly auth: DbAuth;
    /** Secrets Manager ARN (or name); set exactly when auth is `secret`. */
    readonly secretArn?: string;
    /** Only in `password` mode (local development). */
    readonly password?: string;
    readonly tls: DbTls;
    /** PEM bundle added to the trusted roots (DB_CA_FILE), already read from disk. */
    readonly ca?: string;
    /**
     * DB_CA_BUNDLE: trust this bundle (with DB_CA_FILE, if set) instead of Node's public roots. `rds` for a
     * connection straight to an RDS instance, whose certificate chains to an RDS CA, not a public one.
     */
    readonly caBundle?: DbCaBundle;
    /** Region used to sign IAM tokens (AWS_REGION). */
    readonly region?: string;
    /** Connect timeout in milliseconds (≤ 3000). */
    readonly connectTimeoutMs: number;
    /** An environment idle for longer than this rebuilds its pool (proxy idle client timeout). */
    readonly idleRebuildMs: number;
    /**
     * Upper bound of the database work of one request, retry included (DB_REQUEST_BUDGET_MS). In
     * Lambda the remaining invocation time (less a safety margin) lowers it further.
     */
    readonly requestBudgetMs: number;
  };
  readonly cache: {
    /** Empty: no cache. */
    readonly nodes: readonly CacheNode[];
    readonly tls: boolean;
    readonly ttlSeconds: number;
    /** Upper bound of every cache call, in milliseconds (≤ 200). */
    readonly timeoutMs: number;
    /** Extra trusted CA for the cache's TLS (same bundle as DB_CA_FILE). */
    readonly ca?: string;
  };
}

function parseNodes(raw: string | undefined): CacheNode[] {
  if (!raw || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) {
        throw new ConfigError('CACHE_NODES', `expected comma-separated host:port, got "${entry}"`);
      }
      return { host: m[1], port };
    });
}

/**
 * Parses and validates the environment. `readFile` is injected so that DB_CA_FILE problems
 * surface as ConfigError too.
 */
export function loadConfig(env: Env, readFile: (path: string) => string = defaultReadFile): HitsConfig {
  const auth = oneOf<DbAuth>(env, 'DB_AUTH', ['iam', 'secret', 'password'], 'iam');
  const tls = oneOf<DbTls>(env, 'DB_TLS', ['verify', 'off'], 'verify');
  if (auth === 'iam' && tls === 'off') {
    throw new ConfigError('DB_TLS', 'DB_AUTH=iam requires DB_TLS=verify: the IAM token would travel in clear text');
  }
  const host = required(env, 'DB_HOST');
  const port = wholeNumber(env, 'DB_PORT', 3306, 1, 65535);
  const name = required(env, 'DB_NAME');
  const user = auth === 'secret' ? (env.DB_USER?.trim() ?? '') : required(env, 'DB_USER');

  let secretArn: string | undefined;
  let password: string | undefined;
  if (auth === 'secret') secretArn = required(env, 'DB_SECRET_ARN');
  if (auth === 'password') {
    password = env.DB_PASSWORD;
    if (password === undefined) throw new ConfigError('DB_PASSWORD', 'is required when DB_AUTH=password');
  }
  let region: string | undefined;
  if (auth === 'iam') {
    region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
    if (!region) throw new ConfigError('AWS_REGION', 'is required to sign IAM tokens (Lambda sets it)');
  }

  const ca = caFileBundle(env, readFile);

  const caBundle = caBundleSetting(env, tls);

  const cacheTlsRaw = oneOf(env, 'CACHE_TLS', ['true', 'false'], 'false');

  return {
    db: {
      host,
      port,
      name,
      user,
      auth,
      secretArn,
      password,
      tls,
      ca,
      caBundle,
      region,
      ...dbTiming(env),
    },
    cache: {
      nodes: parseNodes(env.CACHE_NODES),
      tls: cacheTlsRaw === 'true',
      ttlSeconds: wholeNumber(env, 'CACHE_TTL_SECONDS', 5, 1, 3600),
      timeoutMs: wholeNumber(env, 'CACHE_TIMEOUT_MS', 150, 10, 200),
      ca,
    },
  };
}

/**
 * How long one connect, one request and an idle gap may be: the same variables and bounds for every function
 * that serves requests (hits, tenants).
 * - DB_CONNECT_TIMEOUT_MS (default and maximum 3000): one new connection, TLS and login included;
 * - DB_IDLE_REBUILD_SECONDS (default 1800, RDS Proxy's default idle client timeout): an environment idle
 *   longer than this rebuilds its pool rather than find its connection closed by the proxy;
 * - DB_REQUEST_BUDGET_MS (default 8000): the database time of one request, retry included, lowered further
 *   by the invocation's remaining time (deadline.ts).
 */
export function dbTiming(env: Env): { connectTimeoutMs: number; idleRebuildMs: number; requestBudgetMs: number } {
  return {
    connectTimeoutMs: wholeNumber(env, 'DB_CONNECT_TIMEOUT_MS', 3000, 100, 3000),
    idleRebuildMs: wholeNumber(env, 'DB_IDLE_REBUILD_SECONDS', 1800, 0, 86400) * 1000,
    requestBudgetMs: wholeNumber(env, 'DB_REQUEST_BUDGET_MS', 8000, 100, 900000),
  };
}

function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8');
}
