/**
 * The `tenantId` path parameter, parsed strictly before anything else happens: a decimal integer
 * without sign, leading zeros or whitespace. `07`, `+7`, `7 `, `7.0`, `0x7` are not tenant 7: each
 * spelling of an id must name one database, so logs, caches and pools never hold two keys for it.
 */
export type TenantIdResult = { readonly kind: 'tenant'; readonly tenant: number } | { readonly kind: 'invalid' } | { readonly kind: 'unknown' };

/** Longest id accepted as syntax: anything longer is invalid, not a huge number rounded by float parsing. */
const MAX_DIGITS = 9;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** `invalid` → 400, `unknown` (≥ count) → 404, otherwise the tenant number. */
export function parseTenantId(raw: string | undefined, count: number): TenantIdResult {
  if (raw === undefined || raw.length > MAX_DIGITS || !DECIMAL.test(raw)) return { kind: 'invalid' };
  const tenant = Number(raw);
  return tenant < count ? { kind: 'tenant', tenant } : { kind: 'unknown' };
}

/**
 * MySQL user names are at most 32 characters (https://dev.mysql.com/doc/refman/8.4/en/user-names.html);
 * with up to 10 digits of tenant id, a prefix may use 22. Lowercase letters, digits and underscores keep
 * the name valid unquoted, in an IAM ARN and in an STS session name alike.
 */
export const PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,21}$/;

/** The one database and user name of tenant `t`. */
export function tenantName(prefix: string, tenant: number): string {
  return `${prefix}${tenant}`;
}
