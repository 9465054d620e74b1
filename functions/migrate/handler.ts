/**
 * Lambda entry point of the deploy-time migration (`aws_lambda_invocation` in the data stack; no API
 * route reaches it). Connects as the master user through RDS Proxy with an IAM token over verified TLS
 * (DB_* variables, as for the hits function), applies the migrations in migrations.ts and answers
 * `{ applied, versions, database, appUser }`. A failure throws, so the invocation, and with it
 * `cdktf deploy`, fails with the message naming the migration.
 *
 * Environment, beyond DB_*: APP_DB_USER (required), APP_DB_AUTH `iam` (default; AWSAuthenticationPlugin)
 * or `password` with APP_DB_PASSWORD (local only; the stacks never set it), APP_DB_HOST (default `%`),
 * MIGRATE_CONNECT_WAIT_SECONDS (default 180: how long to keep retrying while a new proxy's target comes up).
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { rootCertificates } from 'tls';
import { ConfigError, loadConfig, type HitsConfig } from '../lib/config';
import { iamTokenMinter, isConnectionError, isSaturationError } from '../lib/db';
import { createLogger, errorFields } from '../lib/log';
import { MIGRATIONS } from './migrations';
import { IAM_AUTH, MigrationError, passwordAuth, runMigrations, type AuthClause, type MigrationResult } from './runner';

type Env = Record<string, string | undefined>;

export interface MigrateConfig {
  readonly db: HitsConfig['db'];
  readonly appUser: string;
  readonly appHost: string;
  readonly appAuth: AuthClause;
  readonly appAuthMode: 'iam' | 'password';
  readonly connectWaitMs: number;
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
  const wait = env.MIGRATE_CONNECT_WAIT_SECONDS?.trim() || '180';
  if (!/^\d+$/.test(wait) || Number(wait) > 840) throw new ConfigError('MIGRATE_CONNECT_WAIT_SECONDS', `must be a whole number from 0 to 840, got "${wait}"`);
  return { db, appUser, appHost: env.APP_DB_HOST?.trim() || '%', appAuth, appAuthMode: mode, connectWaitMs: Number(wait) * 1000 };
}

/** One connection (not a pool: the migration lock belongs to the session) with the hits function's TLS and auth rules. */
export async function connect(db: HitsConfig['db']): Promise<Connection> {
  const mint = db.auth === 'iam' ? iamTokenMinter(db) : undefined;
  if (db.auth === 'secret') throw new ConfigError('DB_AUTH', 'must be iam (AWS) or password (local) for the migration');
  return createConnection({
    host: db.host,
    port: db.port,
    database: db.name,
    user: db.user,
    password: db.auth === 'password' ? db.password : undefined,
    connectTimeout: db.connectTimeoutMs,
    charset: 'UTF8MB4_UNICODE_CI',
    multipleStatements: false,
    ssl: db.tls === 'verify' ? { ca: db.ca ? [...rootCertificates, db.ca] : undefined, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' } : undefined,
    authPlugins: mint ? { mysql_clear_password: () => async () => Buffer.from(`${await mint()}\0`) } : undefined,
  });
}

/** Connects, retrying connection-class errors for up to `waitMs` (a new proxy's target takes minutes to become available). */
async function connectWithin(db: HitsConfig['db'], waitMs: number, onRetry: (err: unknown) => void): Promise<Connection> {
  const until = Date.now() + waitMs;
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15000)) {
    try {
      return await connect(db);
    } catch (err) {
      if (!(isConnectionError(err) || isSaturationError(err)) || Date.now() + delay > until) throw err;
      onRetry(err);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export interface MigrateResponse extends MigrationResult {
  readonly database: string;
  readonly appUser: string;
}

export async function migrate(env: Env = process.env): Promise<MigrateResponse> {
  const log = createLogger();
  let config: MigrateConfig;
  try {
    config = loadMigrateConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) log.error('invalid configuration', { variable: err.variable, error: err.message });
    throw err;
  }
  const conn = await connectWithin(config.db, config.connectWaitMs, (err) => log.warn('database not reachable yet, retrying', errorFields(err)));
  try {
    const result = await runMigrations(conn, {
      migrations: MIGRATIONS,
      database: config.db.name,
      appUser: config.appUser,
      appHost: config.appHost,
      appAuth: config.appAuth,
      log: (msg, fields) => log.info(msg, fields),
    });
    log.info('migrations done', { ...result, database: config.db.name, appUser: config.appUser, appAuth: config.appAuthMode });
    return { ...result, database: config.db.name, appUser: config.appUser };
  } catch (err) {
    log.error('migration failed', { ...(err instanceof MigrationError ? { version: err.version, migration: err.migrationName, appliedVersions: err.appliedVersions } : {}), ...errorFields(err) });
    throw err;
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export const handler = (): Promise<MigrateResponse> => migrate(process.env);
