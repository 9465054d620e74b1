/**
 * The application user, reconciled on every run, outside the versioned migrations: migrations 2 and 3
 * created and granted the user named at the time, and being recorded they never run again, so a renamed
 * APP_DB_USER would otherwise get nothing. Each run therefore makes sure the configured user exists with
 * its authentication clause and holds SELECT, INSERT, DELETE on `<db>.hits` (both statements are
 * idempotent), and names every other account that still holds privileges on that table or its database.
 * Those are left in place: dropping a user is an operator's decision (`DROP USER 'name'@'host'`), for
 * instance once no function logs in as the old name any more.
 * https://dev.mysql.com/doc/refman/8.4/en/create-user.html, https://dev.mysql.com/doc/refman/8.4/en/grant.html
 */
import { applyMigrations, withMigrationLock, type MigrationResult, type RunOptions, type SqlConnection } from './runner';

/** An account `'user'@'host'`, as MySQL names it. */
export interface Account {
  readonly user: string;
  readonly host: string;
}

export interface AppUserReport {
  readonly user: string;
  readonly host: string;
  /** True when this run created the user (a first deploy, or a rename). */
  readonly created: boolean;
  /** Other accounts with privileges on `<db>.hits` or `<db>.*` (the master user's global ones aside), sorted. */
  readonly otherGrantees: readonly Account[];
}

async function rows<T>(conn: SqlConnection, sql: string, values: unknown[]): Promise<T[]> {
  const result = await conn.query({ sql, values });
  return (Array.isArray(result) ? result[0] : result) as T[];
}

/** `'user'@'host'` (information_schema's GRANTEE) as an Account; quotes inside are doubled by MySQL. */
export function parseGrantee(grantee: string): Account {
  const m = /^'((?:[^']|'')*)'@'((?:[^']|'')*)'$/.exec(grantee);
  if (!m) throw new Error(`unexpected GRANTEE "${grantee}"`);
  return { user: m[1].replace(/''/g, "'"), host: m[2].replace(/''/g, "'") };
}

/** True when the account exists (the master user may read `mysql.user`). */
export async function accountExists(conn: SqlConnection, account: Account): Promise<boolean> {
  const found = await rows<{ n: number | string }>(conn, 'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [account.user, account.host]);
  return Number(found[0]?.n) > 0;
}

/**
 * Creates the application user if missing and grants it what the functions need; see the file comment.
 * `existedBefore`: whether the user existed before this run (a caller that ran migrations first knows);
 * by default, whether it exists now.
 */
export async function reconcileAppUser(
  conn: SqlConnection,
  options: Pick<RunOptions, 'database' | 'appUser' | 'appHost' | 'appAuth'>,
  existedBefore?: boolean,
): Promise<AppUserReport> {
  const { database, appUser, appHost, appAuth } = options;
  const created = !(existedBefore ?? (await accountExists(conn, { user: appUser, host: appHost })));
  await conn.query({ sql: `CREATE USER IF NOT EXISTS ?@? ${appAuth.sql}`, values: [appUser, appHost, ...appAuth.values] });
  await conn.query({ sql: 'GRANT SELECT, INSERT, DELETE ON ??.hits TO ?@?', values: [database, appUser, appHost] });
  const grantees = await rows<{ grantee: string }>(
    conn,
    `SELECT DISTINCT GRANTEE AS grantee FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'hits'
     UNION SELECT DISTINCT GRANTEE FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = ?`,
    [database, database],
  );
  const otherGrantees = grantees
    .map((r) => parseGrantee(r.grantee))
    .filter((a) => !(a.user === appUser && a.host === appHost))
    .sort((a, b) => (a.user === b.user ? (a.host < b.host ? -1 : 1) : a.user < b.user ? -1 : 1));
  return { user: appUser, host: appHost, created, otherGrantees };
}

export interface DeployMigrationResult extends MigrationResult {
  readonly appUser: AppUserReport;
}

/** What a deploy runs, under the migration lock: the pending migrations, then the application user's reconcile. */
export function migrateAndReconcile(conn: SqlConnection, options: RunOptions): Promise<DeployMigrationResult> {
  return withMigrationLock(conn, options.database, options.lockTimeoutSeconds ?? 120, async () => {
    // Before the migrations: on a first deploy migration 2 creates the user, and that is a creation too.
    const existed = await accountExists(conn, { user: options.appUser, host: options.appHost });
    const result = await applyMigrations(conn, options);
    return { ...result, appUser: await reconcileAppUser(conn, options, existed) };
  });
}
