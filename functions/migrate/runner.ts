/**
 * Applies ordered, versioned migrations over one MySQL connection as a user that may create tables and
 * users (the RDS master user in AWS). Safe to run again and concurrently:
 * - a named lock (`GET_LOCK`) held for the whole run, so two runs never interleave; the second waits,
 *   then finds everything applied;
 * - `schema_migrations` records each applied version with a checksum; applied versions are skipped, and an
 *   applied migration whose definition changed stops the run (append a new migration instead);
 * - a failing migration stops the run with a MigrationError naming it; the ones before it stay applied
 *   and recorded (MySQL commits DDL at once, so there is nothing to roll back to).
 * Statements go through `query()` with placeholders; GET_LOCK pins an RDS Proxy session, which is fine for
 * one deploy-time connection and is why nothing in the request path uses it.
 */
import { createHash } from 'crypto';

/** One SQL statement with its placeholder values (`??` identifiers, `?` values). */
export interface Statement {
  readonly sql: string;
  readonly values?: readonly unknown[];
}

/** How the application user authenticates: the SQL that follows `CREATE USER <user>@<host>`. */
export interface AuthClause {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * RDS IAM database authentication, exactly as AWS documents it for MySQL:
 * `CREATE USER 'jane_doe' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html).
 * MariaDB has no such plugin: tests use `passwordAuth` or `pamAuth` instead.
 */
export const IAM_AUTH: AuthClause = { sql: "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", values: [] };

/** A password login (local development and tests only: the stacks never use it). */
export function passwordAuth(password: string): AuthClause {
  return { sql: 'IDENTIFIED BY ?', values: [password] };
}

/** MariaDB's PAM plugin with `service` (how the local IAM test stands in for AWSAuthenticationPlugin). */
export function pamAuth(service: string): AuthClause {
  return { sql: 'IDENTIFIED VIA pam USING ?', values: [service] };
}

export interface MigrationContext {
  /** Database holding the application's tables and `schema_migrations`. */
  readonly database: string;
  readonly appUser: string;
  /** Host part of the application user: `%`, since RDS Proxy connects from addresses of its own. */
  readonly appHost: string;
  readonly appAuth: AuthClause;
}

export interface Migration {
  /** Positive integer; migrations apply in ascending order, each once. */
  readonly version: number;
  readonly name: string;
  readonly statements: (ctx: MigrationContext) => readonly Statement[];
}

export interface MigrationResult {
  /** Versions this run applied (empty when the database was up to date). */
  readonly applied: number[];
  /** Every version recorded after the run, ascending. */
  readonly versions: number[];
}

/** A migration failed; the ones before it are applied. */
export class MigrationError extends Error {
  constructor(
    readonly version: number,
    readonly migrationName: string,
    readonly appliedVersions: readonly number[],
    readonly cause: unknown,
  ) {
    super(
      `migration ${version} (${migrationName}) failed: ${(cause as Error)?.message ?? String(cause)}; ` +
        `applied versions: ${appliedVersions.length ? appliedVersions.join(', ') : 'none'}`,
    );
    this.name = 'MigrationError';
  }
}

/** The one connection method the runner needs (a mysql2 promise Connection fits). */
export interface SqlConnection {
  query(options: { sql: string; values?: unknown[]; timeout?: number }): Promise<unknown>;
}

export interface RunOptions extends MigrationContext {
  readonly migrations: readonly Migration[];
  /** Seconds to wait for another run's lock before giving up. @default 120 */
  readonly lockTimeoutSeconds?: number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Checksum of a migration's definition: its name and statement texts, not the values (passwords stay out). */
export function migrationChecksum(m: Migration): string {
  const sample: MigrationContext = { database: 'db', appUser: 'user', appHost: '%', appAuth: IAM_AUTH };
  return createHash('sha256').update(JSON.stringify([m.name, m.statements(sample).map((s) => s.sql)])).digest('hex');
}

/** The lock name: per database, within MySQL's 64-character limit. */
export function lockName(database: string): string {
  return `schema_migrations:${database}`.slice(0, 64);
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1) throw new Error(`migration "${m.name}" has version ${m.version}; versions are positive integers`);
    if (i > 0 && m.version <= migrations[i - 1].version) throw new Error(`migration ${m.version} (${m.name}) comes after ${migrations[i - 1].version}; versions must ascend`);
  });
}

async function rows<T>(conn: SqlConnection, sql: string, values: unknown[] = []): Promise<T[]> {
  const result = await conn.query({ sql, values });
  return (Array.isArray(result) ? result[0] : result) as T[];
}

/**
 * Runs `work` while holding the database's migration lock (`GET_LOCK`, waiting up to `timeoutSeconds` for
 * another run to finish), and releases it afterwards, whatever `work` does.
 */
export async function withMigrationLock<T>(conn: SqlConnection, database: string, timeoutSeconds: number, work: () => Promise<T>): Promise<T> {
  const lock = lockName(database);
  const got = await rows<{ locked: number | null }>(conn, 'SELECT GET_LOCK(?, ?) AS locked', [lock, timeoutSeconds]);
  if (Number(got[0]?.locked) !== 1) throw new Error(`another migration run holds the lock "${lock}" and did not finish within ${timeoutSeconds} s`);
  try {
    return await work();
  } finally {
    await conn.query({ sql: 'SELECT RELEASE_LOCK(?)', values: [lock] }).catch(() => undefined);
  }
}

/** Applies every migration not yet recorded, in order, under the named lock; see the file comment. */
export async function runMigrations(conn: SqlConnection, options: RunOptions): Promise<MigrationResult> {
  checkOrder(options.migrations);
  return await withMigrationLock(conn, options.database, options.lockTimeoutSeconds ?? 120, () => applyMigrations(conn, options));
}

/** The body of `runMigrations`, for a caller that already holds the lock. */
export async function applyMigrations(conn: SqlConnection, options: RunOptions): Promise<MigrationResult> {
  const { migrations, database } = options;
  const log = options.log ?? (() => undefined);
  checkOrder(migrations);
  await conn.query({
    sql: `CREATE TABLE IF NOT EXISTS ??.schema_migrations (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  checksum CHAR(64) CHARACTER SET ascii NOT NULL,
  applied_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    values: [database],
  });
  const recorded = await rows<{ version: number; checksum: string }>(conn, 'SELECT version, checksum FROM ??.schema_migrations ORDER BY version', [database]);
  const done = new Map(recorded.map((r) => [Number(r.version), r.checksum]));
  for (const m of migrations) {
    const was = done.get(m.version);
    if (was !== undefined && was !== migrationChecksum(m)) {
      throw new MigrationError(m.version, m.name, [...done.keys()], new Error('its definition changed after it was applied; add a new migration instead of editing this one'));
    }
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    const started = Date.now();
    try {
      for (const s of m.statements(options)) await conn.query({ sql: s.sql, values: [...(s.values ?? [])] });
      await conn.query({
        sql: 'INSERT INTO ??.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))',
        values: [database, m.version, m.name, migrationChecksum(m)],
      });
    } catch (err) {
      throw new MigrationError(m.version, m.name, [...done.keys()].sort((a, b) => a - b), err);
    }
    done.set(m.version, migrationChecksum(m));
    applied.push(m.version);
    log('migration applied', { version: m.version, name: m.name, ms: Date.now() - started });
  }
  return { applied, versions: [...done.keys()].sort((a, b) => a - b) };
}
