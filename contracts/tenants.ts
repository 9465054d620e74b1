/**
 * The tenants' names and numbers, as the profile schema, the functions (migration and tenants route) and
 * the load tool all read them. Tenants are numbered 0 … count-1; tenant `t` owns the MySQL database and
 * user `<prefix><t>`.
 */

/** MySQL account names are at most 32 characters: https://dev.mysql.com/doc/refman/8.4/en/user-names.html */
export const MYSQL_USER_NAME_MAX_LENGTH = 32;

/**
 * Highest tenant count. A million keeps every id within 6 digits. With end-to-end IAM no tenant needs a
 * secret, so RDS Proxy's 200-secret quota does not bound it; what does is the per-user pool cost
 * (docs/tenants.md).
 */
export const MAX_TENANT_COUNT = 1_000_000;

/** Digits of the highest tenant id (MAX_TENANT_COUNT - 1). */
export const TENANT_ID_MAX_DIGITS = String(MAX_TENANT_COUNT - 1).length;

/** How a tenant id is spelled in a path: a decimal integer without sign, leading zeros or whitespace. */
export const TENANT_ID_PATTERN = /^(0|[1-9][0-9]*)$/;

/** The prefix a profile gets unless it names one. */
export const DEFAULT_TENANT_PREFIX = 'tenant_';

/** Longest prefix: with the longest id, `<prefix><id>` still fits a MySQL user name. */
export const TENANT_PREFIX_MAX_LENGTH = MYSQL_USER_NAME_MAX_LENGTH - TENANT_ID_MAX_DIGITS;

/**
 * Lowercase letters, digits and underscores starting with a letter: the name stays valid unquoted in SQL,
 * in an IAM `dbuser` ARN and in an STS session name (`[\w+=,.@-]{2,64}`).
 */
export const TENANT_PREFIX_PATTERN = new RegExp(`^[a-z][a-z0-9_]{0,${TENANT_PREFIX_MAX_LENGTH - 1}}$`);

/** Rows seeded into a new tenant's table, at most. */
export const MAX_TENANT_ROWS = 100_000;

/** The one database and user name of tenant `t`. */
export function tenantName(prefix: string, tenant: number): string {
  return `${prefix}${tenant}`;
}
