/**
 * Lambda entry point of the deploy-time migration (`aws_lambda_invocation` in the data stack; no API
 * route reaches it). Connects straight to the DB instance (not through RDS Proxy) as the master user with
 * the RDS-managed master secret (DB_AUTH=secret, DB_SECRET_ARN) over TLS verified against the RDS CA bundle
 * (DB_TLS=verify, DB_CA_BUNDLE=rds), applies the migrations in migrations.ts, reconciles the application
 * user (app-user.ts) and answers `{ applied, versions, database, appUser, appUserCreated, otherGrantees }`.
 * A failure throws, so the invocation, and with it `cdktf deploy`, fails with one message that says why.
 *
 * On a first deploy the instance, its secret or this function's permission to read it may not be ready
 * when the migration starts: connection and authentication errors (and Secrets Manager errors) are retried
 * with capped backoff for as long as the invocation allows (its remaining time less RETRY_MARGIN_MS); the
 * secret is read again after an access denial (it may have rotated:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 *
 * Environment, beyond DB_*: APP_DB_USER (required), APP_DB_AUTH `iam` (default; AWSAuthenticationPlugin)
 * or `password` with APP_DB_PASSWORD (local only; the stacks never set it), APP_DB_HOST (default `%`).
 *
 * Tenants (tenants.ts), provisioned after the migrations and the application user: TENANT_COUNT (0 or
 * unset: off), TENANT_PREFIX (default `tenant_`), TENANT_ROWS (rows seeded per new tenant, default 1000).
 * Tenant users authenticate like the application user: the IAM clause on host `%` in AWS, or with
 * APP_DB_AUTH=password a password from TENANT_PASSWORD (local only). The answer then carries
 * `tenants: { provisioned, present, leftInPlace, rowsInserted }`.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { loadConfig, type HitsConfig } from '../lib/config';
import { connectionBase, login, SecretFormatError, type Login } from '../lib/credentials';
import { isAuthError, isConnectionError, isSaturationError } from '../lib/db-errors';
import { ConfigError, wholeNumber, type Env } from '../lib/env';
import { DEFAULT_TENANT_PREFIX, MAX_TENANT_COUNT, MAX_TENANT_ROWS, TENANT_PREFIX_PATTERN } from '../../contracts';
import { createLogger, errorFields, serviceNameFrom } from '../lib/log';
import { migrateAndReconcile, type Account } from './app-user';
import { MIGRATIONS } from './migrations';
import { IAM_AUTH, MigrationError, passwordAuth, type AuthClause, type MigrationResult } from './runner';
import { provisionTenants } from './tenants';

/** Kept back from the invocation's remaining time when connecting: the migrations and the answer need it. */
export const RETRY_MARGIN_MS = 30_000;
/** First and longest pause between connection attempts. */
export const RETRY_DELAY_MS = { first: 500, max: 10_000 } as const;

export interface MigrateConfig {
  readonly db: HitsConfig['db'];
  readonly appUser: string;
  readonly appHost: string;
  readonly appAuth: AuthClause;
  readonly appAuthMode: 'iam' | 'password';
  /** Absent when TENANT_COUNT is 0 or unset. */
  readonly tenants?: TenantsSettings;
}

export interface TenantsSettings {
  readonly count: number;
  readonly prefix: string;
  readonly rowsPerTenant: number;
  /** The application user's mode: IAM_AUTH in AWS, TENANT_PASSWORD locally. */
  readonly auth: AuthClause;
}

/** TENANT_* variables; undefined when tenants are off. */
function loadTenantsSettings(env: Env, appAuthMode: MigrateConfig['appAuthMode']): TenantsSettings | undefined {
  const count = wholeNumber(env, 'TENANT_COUNT', 0, 0, MAX_TENANT_COUNT);
  if (count === 0) return undefined;
  const prefix = env.TENANT_PREFIX?.trim() || DEFAULT_TENANT_PREFIX;
  if (!TENANT_PREFIX_PATTERN.test(prefix)) throw new ConfigError('TENANT_PREFIX', `must match ${TENANT_PREFIX_PATTERN} (with the longest id, a MySQL user name), got "${prefix}"`);
  const rowsPerTenant = wholeNumber(env, 'TENANT_ROWS', 1000, 0, MAX_TENANT_ROWS);
  let auth = IAM_AUTH;
  if (appAuthMode === 'password') {
    if (!env.TENANT_PASSWORD) throw new ConfigError('TENANT_PASSWORD', 'is required when TENANT_COUNT > 0 and APP_DB_AUTH=password');
    auth = passwordAuth(env.TENANT_PASSWORD);
  }
  return { count, prefix, rowsPerTenant, auth };
}

/** What the migration needs of Lambda's context object (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html). */
export interface MigrateContext {
  getRemainingTimeInMillis?(): number;
}

/** Reads the migration's environment; every problem is a ConfigError naming the variable. */
export function loadMigrateConfig(env: Env): MigrateConfig {
  const { db } = loadConfig(env);
  const appUser = env.APP_DB_USER?.trim() ?? '';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(appUser)) throw new ConfigError('APP_DB_USER', `must be a MySQL user name (a letter, then letters, digits or underscores; at most 32), got "${appUser}"`);
  if (appUser.toLowerCase() === db.user.toLowerCase()) throw new ConfigError('APP_DB_USER', `must differ from DB_USER ("${db.user}"), the user the migration runs as`);
  const mode = (env.APP_DB_AUTH?.trim() || 'iam') as MigrateConfig['appAuthMode'];
  if (mode !== 'iam' && mode !== 'password') throw new ConfigError('APP_DB_AUTH', `must be one of iam, password, got "${mode}"`);
  let appAuth = IAM_AUTH;
  if (mode === 'password') {
    if (!env.APP_DB_PASSWORD) throw new ConfigError('APP_DB_PASSWORD', 'is required when APP_DB_AUTH=password');
    appAuth = passwordAuth(env.APP_DB_PASSWORD);
  }
  return { db, appUser, appHost: env.APP_DB_HOST?.trim() || '%', appAuth, appAuthMode: mode, tenants: loadTenantsSettings(env, mode) };
}

/** How long to keep trying to connect: the invocation's remaining time less RETRY_MARGIN_MS; 0 (one attempt) without a context. */
export function retryWindowMs(context?: MigrateContext): number {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return 0;
  return Math.max(0, remaining - RETRY_MARGIN_MS);
}

/** The migration could not connect within its window: names where, as whom, and the last error. */
export class MigrateConnectError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly user: string,
    readonly attempts: number,
    readonly windowMs: number,
    readonly cause: unknown,
  ) {
    const e = cause as { code?: unknown; name?: unknown; message?: unknown } | undefined;
    const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'error';
    super(
      `cannot connect to the database at ${host}:${port} as "${user}" after ${attempts} attempt(s) in a ${(windowMs / 1000).toFixed(1)} s retry window; ` +
        `last error: ${code}: ${typeof e?.message === 'string' ? e.message : String(cause)}`,
    );
    this.name = 'MigrateConnectError';
  }
}

/**
 * Errors that may clear up on their own during a first deploy: the instance or its network not ready
 * (connection class), out of connections, credentials not accepted yet (a grant or an IAM policy still
 * propagating), or Secrets Manager refusing or failing the read (this function's permission propagating).
 * A secret that is not the JSON RDS writes, or a certificate that does not verify, will not fix itself.
 */
function mayClearUp(err: unknown): boolean {
  if (err instanceof SecretFormatError || isCertificateError(err)) return false;
  if (isConnectionError(err) || isSaturationError(err) || isAuthError(err)) return true;
  return typeof (err as { $metadata?: unknown } | null)?.$metadata === 'object'; // an AWS SDK service error
}

/** TLS verification failed (mysql2 reports it as HANDSHAKE_SSL_ERROR, Node's own codes otherwise). */
function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'HANDSHAKE_SSL_ERROR' || code.startsWith('ERR_TLS_CERT') || /CERT|SIGNATURE/.test(code));
}

export interface ConnectAttemptEvent {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/**
 * One connection (not a pool: the migration lock belongs to the session), retried while errors may clear
 * up, until `windowMs` has passed; then a MigrateConnectError.
 */
export async function connectWithin(
  db: HitsConfig['db'],
  windowMs: number,
  onRetry: (e: ConnectAttemptEvent) => void = () => undefined,
  credentials: Login = login(db),
): Promise<Connection> {
  const until = Date.now() + windowMs;
  let user = db.user;
  for (let attempt = 1, delay: number = RETRY_DELAY_MS.first; ; attempt++, delay = Math.min(delay * 2, RETRY_DELAY_MS.max)) {
    try {
      const auth = await credentials.options();
      user = auth.user ?? user;
      return await createConnection({ ...connectionBase(db), ...auth });
    } catch (err) {
      if (isAuthError(err)) credentials.invalidate();
      if (!mayClearUp(err) || Date.now() + delay > until) throw new MigrateConnectError(db.host, db.port, user, attempt, windowMs, err);
      onRetry({ attempt, delayMs: delay, error: err });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export interface MigrateResponse extends MigrationResult {
  readonly database: string;
  readonly appUser: string;
  /** True when this run created the application user (first deploy or a rename). */
  readonly appUserCreated: boolean;
  /**
   * Other accounts that still hold privileges on `<db>.hits` (e.g. the user before a rename), as
   * `'user'@'host'`: left in place, for an operator to drop once nothing uses them.
   */
  readonly otherGrantees: string[];
  /** Present when TENANT_COUNT > 0: what provisioning did (tenants.ts); `leftInPlace` lists tenants at or above the count. */
  readonly tenants?: TenantsReport;
}

export interface TenantsReport {
  /** Tenant numbers created by this run. */
  readonly provisioned: number[];
  /** Tenants below the count that were already complete. */
  readonly present: number;
  /** Tenant numbers at or above the count still in place: lowering the count drops nothing. */
  readonly leftInPlace: number[];
  readonly rowsInserted: number;
}

const accountName = (a: Account) => `'${a.user}'@'${a.host}'`;

export async function migrate(env: Env = process.env, context?: MigrateContext): Promise<MigrateResponse> {
  const log = createLogger({ service: serviceNameFrom(env, 'hits-migrate-local') });
  let config: MigrateConfig;
  try {
    config = loadMigrateConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) log.error('invalid configuration', { variable: err.variable, error: err.message });
    throw err;
  }
  const windowMs = retryWindowMs(context);
  let conn: Connection;
  try {
    conn = await connectWithin(config.db, windowMs, ({ attempt, delayMs, error }) => log.warn('database not ready yet, retrying', { attempt, delayMs, ...errorFields(error) }));
  } catch (err) {
    log.error('migration could not connect', { host: config.db.host, port: config.db.port, ...errorFields(err) });
    throw err;
  }
  try {
    const result = await migrateAndReconcile(conn, {
      migrations: MIGRATIONS,
      database: config.db.name,
      appUser: config.appUser,
      appHost: config.appHost,
      appAuth: config.appAuth,
      log: (msg, fields) => log.info(msg, fields),
    });
    const otherGrantees = result.appUser.otherGrantees.map(accountName);
    if (otherGrantees.length > 0) {
      log.warn('other users still hold privileges on the hits table; drop them once nothing logs in as them', { database: config.db.name, appUser: config.appUser, otherGrantees });
    }
    let tenants: TenantsReport | undefined;
    if (config.tenants) {
      // Tenant users live on host `%` like the application user: RDS Proxy connects from its own addresses.
      const done = await provisionTenants(conn, { ...config.tenants, host: '%', log: (msg, fields) => log.info(msg, fields) });
      tenants = { provisioned: done.provisioned, present: done.present, leftInPlace: done.leftInPlace, rowsInserted: done.rowsInserted };
      if (done.leftInPlace.length > 0) log.warn('tenants at or above TENANT_COUNT are left in place (lowering the count drops nothing)', { leftInPlace: done.leftInPlace });
    }
    const response: MigrateResponse = {
      applied: result.applied,
      versions: result.versions,
      database: config.db.name,
      appUser: config.appUser,
      appUserCreated: result.appUser.created,
      otherGrantees,
      ...(tenants ? { tenants } : {}),
    };
    log.info('migrations done', { ...response, appAuth: config.appAuthMode });
    return response;
  } catch (err) {
    log.error('migration failed', { ...(err instanceof MigrationError ? { version: err.version, migration: err.migrationName, appliedVersions: err.appliedVersions } : {}), ...errorFields(err) });
    throw err;
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export const handler = (_event: unknown, context?: MigrateContext): Promise<MigrateResponse> => migrate(process.env, context);
