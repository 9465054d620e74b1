/**
 * Deploy-time provisioning of the tenants (bridge model): for each tenant `t` below `count`, a database
 * `<prefix><t>` with a table `items` (an id and five random integer columns, seeded with `rowsPerTenant`
 * rows) and a user `<prefix><t>` that may SELECT, INSERT and UPDATE that one table and nothing else (no
 * DDL, no other table or database, no GRANT OPTION).
 *
 * Idempotent and incremental: a tenant whose user exists is complete (the user is created after its
 * database is seeded) and gets only its grant re-issued, which heals a run interrupted between the two.
 * Raising the count provisions only the new tenants; lowering it drops nothing: tenants at or above the
 * count are reported in `leftInPlace`. Seeding runs in one transaction per tenant, so an interrupted run
 * never leaves a half-seeded table behind, in multi-row INSERTs of `batchRows` rows with placeholders.
 * A named lock (`GET_LOCK`) keeps two runs from interleaving; like the migrations, this runs on one
 * deploy-time connection as the master user.
 */
import type { AuthClause, SqlConnection } from './runner';
import { MAX_TENANT_COUNT, MAX_TENANT_ROWS, TENANT_PREFIX_PATTERN, tenantName } from '../../contracts';

export interface TenantProvisioningOptions {
  /** Tenants 0 … count-1 are provisioned. */
  readonly count: number;
  /** Database and user name prefix. */
  readonly prefix: string;
  /** Rows seeded into a new tenant's empty table. */
  readonly rowsPerTenant: number;
  /** How tenant users authenticate: IAM_AUTH in AWS, a password locally. */
  readonly auth: AuthClause;
  /** Host part of the tenant users: `%`, since RDS Proxy connects from addresses of its own. @default '%' */
  readonly host?: string;
  /** Rows per INSERT statement. @default 1000 */
  readonly batchRows?: number;
  /** Seconds to wait for another run's lock. @default 120 */
  readonly lockTimeoutSeconds?: number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface TenantProvisioningResult {
  /** Tenants this run created (database, table, rows, user, grant), ascending. */
  readonly provisioned: number[];
  /** Tenants below the count that were already complete. */
  readonly present: number;
  /** Tenants at or above the count found in place (a user or a database), ascending: never dropped. */
  readonly leftInPlace: number[];
  readonly rowsInserted: number;
  readonly ms: number;
}

/** Random values are non-negative 31-bit integers: they fit MySQL's signed INT. */
const RANDOM_RANGE = 2 ** 31;

function check(options: TenantProvisioningOptions): void {
  const { count, prefix, rowsPerTenant, batchRows = 1000 } = options;
  if (!Number.isInteger(count) || count < 0 || count > MAX_TENANT_COUNT) throw new Error(`tenants count must be a whole number between 0 and ${MAX_TENANT_COUNT}, got ${count}`);
  if (!TENANT_PREFIX_PATTERN.test(prefix)) throw new Error(`tenants prefix must match ${TENANT_PREFIX_PATTERN} (with the longest id, a MySQL user name), got "${prefix}"`);
  if (!Number.isInteger(rowsPerTenant) || rowsPerTenant < 0 || rowsPerTenant > MAX_TENANT_ROWS) throw new Error(`tenants rowsPerTenant must be a whole number between 0 and ${MAX_TENANT_ROWS}, got ${rowsPerTenant}`);
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 10_000) throw new Error(`tenants batchRows must be a whole number between 1 and 10000, got ${batchRows}`);
}

async function rows<T>(conn: SqlConnection, sql: string, values: unknown[] = []): Promise<T[]> {
  const result = await conn.query({ sql, values });
  return (Array.isArray(result) ? result[0] : result) as T[];
}

/** Tenant numbers among `names` (exactly `<prefix><decimal without leading zeros>`). */
function tenantsIn(names: readonly string[], prefix: string): Set<number> {
  const found = new Set<number>();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const digits = name.slice(prefix.length);
    if (/^(0|[1-9][0-9]{0,8})$/.test(digits)) found.add(Number(digits));
  }
  return found;
}

/** `LIKE` pattern for names starting with `prefix` (its `_` escaped: LIKE reads it as any character). */
function startsWith(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function randomRows(n: number): number[] {
  const values = new Array<number>(n * 5);
  for (let i = 0; i < values.length; i++) values[i] = Math.floor(Math.random() * RANDOM_RANGE);
  return values;
}

/** Provisions the tenants; see the file comment. */
export async function provisionTenants(conn: SqlConnection, options: TenantProvisioningOptions): Promise<TenantProvisioningResult> {
  check(options);
  const started = Date.now();
  const { count, prefix, rowsPerTenant, auth } = options;
  const host = options.host ?? '%';
  const batchRows = options.batchRows ?? 1000;
  const log = options.log ?? (() => undefined);
  const lock = `tenants:${prefix}`;
  const lockTimeout = options.lockTimeoutSeconds ?? 120;
  const got = await rows<{ locked: number | null }>(conn, 'SELECT GET_LOCK(?, ?) AS locked', [lock, lockTimeout]);
  if (Number(got[0]?.locked) !== 1) throw new Error(`another provisioning run holds the lock "${lock}" and did not finish within ${lockTimeout} s`);
  try {
    // RDS's master user may read mysql.user (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html).
    const users = tenantsIn((await rows<{ user: string }>(conn, 'SELECT User AS user FROM mysql.user WHERE Host = ? AND User LIKE ?', [host, startsWith(prefix)])).map((r) => String(r.user)), prefix);
    const databases = tenantsIn((await rows<{ name: string }>(conn, 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [startsWith(prefix)])).map((r) => String(r.name)), prefix);
    const provisioned: number[] = [];
    let present = 0;
    let rowsInserted = 0;
    for (let t = 0; t < count; t++) {
      const name = tenantName(prefix, t);
      const grant = { sql: 'GRANT SELECT, INSERT, UPDATE ON ??.items TO ?@?', values: [name, name, host] };
      if (users.has(t)) {
        await conn.query(grant);
        present++;
        continue;
      }
      await conn.query({ sql: 'CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', values: [name] });
      await conn.query({
        sql: `CREATE TABLE IF NOT EXISTS ??.items (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  c1 INT NOT NULL, c2 INT NOT NULL, c3 INT NOT NULL, c4 INT NOT NULL, c5 INT NOT NULL
) ENGINE=InnoDB`,
        values: [name],
      });
      const [{ n }] = await rows<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM ??.items', [name]);
      if (Number(n) === 0 && rowsPerTenant > 0) {
        await conn.query({ sql: 'START TRANSACTION' });
        try {
          for (let done = 0; done < rowsPerTenant; done += batchRows) {
            const batch = Math.min(batchRows, rowsPerTenant - done);
            await conn.query({ sql: `INSERT INTO ??.items (c1, c2, c3, c4, c5) VALUES ${new Array(batch).fill('(?, ?, ?, ?, ?)').join(', ')}`, values: [name, ...randomRows(batch)] });
          }
          await conn.query({ sql: 'COMMIT' });
        } catch (err) {
          await conn.query({ sql: 'ROLLBACK' }).catch(() => undefined);
          throw err;
        }
        rowsInserted += rowsPerTenant;
      }
      await conn.query({ sql: `CREATE USER IF NOT EXISTS ?@? ${auth.sql}`, values: [name, host, ...auth.values] });
      await conn.query(grant);
      provisioned.push(t);
    }
    const beyond = new Set([...users, ...databases].filter((t) => t >= count));
    const leftInPlace = [...beyond].sort((a, b) => a - b);
    const ms = Date.now() - started;
    log('tenants provisioned', { count, provisioned: provisioned.length, present, leftInPlace: leftInPlace.length, rowsInserted, ms });
    return { provisioned, present, leftInPlace, rowsInserted, ms };
  } finally {
    await conn.query({ sql: 'SELECT RELEASE_LOCK(?)', values: [lock] }).catch(() => undefined);
  }
}
