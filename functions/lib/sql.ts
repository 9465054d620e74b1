/** SQL helpers shared by the functions that read and write `hits`. */

/** "2026-01-01 00:00:00.000": a DATETIME(3) value in UTC, from a Date or milliseconds since the epoch. */
export function sqlUtc(at: Date | number): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The table is missing (MySQL error 1146, ER_NO_SUCH_TABLE): the deploy-time migrations have not run. No
 * function creates it: they hold no DDL rights.
 */
export function isMissingTable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ER_NO_SUCH_TABLE';
}
