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

/** The one database and user name of tenant `t`. */
export function tenantName(prefix: string, tenant: number): string {
  return `${prefix}${tenant}`;
}
