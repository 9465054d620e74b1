/**
 * The `tenantId` path parameter, parsed strictly before anything else happens: a decimal integer
 * without sign, leading zeros or whitespace. `07`, `+7`, `7 `, `7.0`, `0x7` are not tenant 7: each
 * spelling of an id must name one database, so logs, caches and pools never hold two keys for it.
 * The bounds and the name are the contracts' (contracts/tenants.ts), shared with the schema and the tools.
 */
import { TENANT_ID_MAX_DIGITS, TENANT_ID_PATTERN } from '../../contracts';

export type TenantIdResult = { readonly kind: 'tenant'; readonly tenant: number } | { readonly kind: 'invalid' } | { readonly kind: 'unknown' };

/**
 * `invalid` → 400, `unknown` (≥ count) → 404, otherwise the tenant number. An id longer than the highest
 * id any count allows is well-formed but names no tenant: unknown, and never parsed as a number (which
 * float parsing would round).
 */
export function parseTenantId(raw: string | undefined, count: number): TenantIdResult {
  if (raw === undefined || !TENANT_ID_PATTERN.test(raw)) return { kind: 'invalid' };
  if (raw.length > TENANT_ID_MAX_DIGITS) return { kind: 'unknown' };
  const tenant = Number(raw);
  return tenant < count ? { kind: 'tenant', tenant } : { kind: 'unknown' };
}
