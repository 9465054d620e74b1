/**
 * The schema of the `hits` database and its application user, as ordered, versioned migrations.
 *
 * To change the schema, append a migration with the next version; never edit or reorder one that has been
 * deployed: the runner records a checksum of each applied migration and refuses to run when one changed.
 * Each statement is one `query()` with placeholders (`??` an identifier, `?` a value), never several
 * statements in one string. The stacks re-run the migration function when this file changes.
 */
import type { Migration } from './runner';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create the hits table',
    statements: ({ database }) => [
      {
        // path: up to 2048 bytes of utf8mb4 compared byte for byte; created_at: UTC with milliseconds.
        sql: `CREATE TABLE IF NOT EXISTS ??.hits (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  path VARCHAR(2048) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  method VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
        values: [database],
      },
    ],
  },
  {
    version: 2,
    name: 'create the application user',
    // The authentication clause is the runner's: IAM in AWS (no password anywhere), a password or PAM locally.
    statements: ({ appUser, appHost, appAuth }) => [{ sql: `CREATE USER IF NOT EXISTS ?@? ${appAuth.sql}`, values: [appUser, appHost, ...appAuth.values] }],
  },
  {
    version: 3,
    name: 'grant the application user SELECT, INSERT, DELETE on hits',
    // SELECT and INSERT serve the hits function. DELETE is for the scheduled prune job, which runs as the
    // application user to remove hits older than the profile's retention. Nothing else: no DDL, no other
    // table (not even schema_migrations), no other database, no GRANT OPTION.
    statements: ({ database, appUser, appHost }) => [{ sql: 'GRANT SELECT, INSERT, DELETE ON ??.hits TO ?@?', values: [database, appUser, appHost] }],
  },
];
