/**
 * A short memory of tenants IAM refuses, so that one broken tenant does not cost the others. Without it,
 * every request of a tenant whose grant is revoked makes an AssumeRole and two IAM logins (the login and
 * its one fresh retry): it draws on the account's STS request rate (https://repost.aws/knowledge-center/iam-sts-throttling-error)
 * and on the instance's rate of new IAM connections (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html),
 * which every tenant shares.
 *
 * A refusal that survived its fresh retry, or an STS denial, is kept for as long as its answer tells the
 * client to stay away: REFUSAL_MEMORY_MS after a 500 (a misconfiguration), the Retry-After it sent after a
 * 503 (IAM may still be propagating a deploy: the client comes back then, and finds a real attempt). The
 * tenant's requests meanwhile are answered at once as the refusal was, with no STS call and no login. Then
 * one request tries again; the window is re-armed before it does, so requests that overlap it (local mode)
 * are still answered from memory. The refusal is forgotten once a request of the tenant is served; refused
 * again, the new refusal is kept for a new window.
 */
import { CLOUDWATCH_PERIOD_SECONDS } from '../../contracts';
import { RETRY_AFTER_SECONDS } from '../lib/http';
import type { LogFields } from '../lib/log';

/**
 * How long a refusal answered 500 is remembered: half of CloudWatch's one-minute period. Shorter than the
 * period, so that every minute in which a broken tenant is asked for holds at least one real attempt,
 * counted in LoginFailures or StsDenied as before (the STS errors alarm counts minutes with one), and a
 * grant that is restored serves the tenant again within 30 s. Long enough that the tenant costs each
 * execution environment at most one attempt (two AssumeRole calls and two logins at most) per 30 s,
 * whatever its request rate.
 */
export const REFUSAL_MEMORY_MS = (CLOUDWATCH_PERIOD_SECONDS * 1000) / 2;

/**
 * Refusals one execution environment keeps; past it, the oldest is forgotten (which costs that tenant one
 * more attempt, nothing else). Tenants are up to a million, so the memory may not grow with them. An
 * environment serves one request at a time, and a refused attempt takes at least a call to STS (and two
 * logins when the database refused), a few milliseconds: within one 30 s window it meets about this many
 * refused tenants at most. The bound caps what local mode (overlapping requests) could hold, a few hundred
 * bytes an entry (`npm run bench -- tenants` measures the heap at the bound).
 */
export const MAX_REMEMBERED_REFUSALS = 10_000;

/** What a request was refused with: enough to answer the tenant's next requests the same way. */
export interface Refusal {
  /** The log fields of the refusal (functions/lib/log.ts `errorFields`): the same error code on every answer. */
  readonly fields: LogFields;
  /** Answered as IAM still propagating a deploy (503) rather than a misconfiguration (500). */
  readonly propagation: boolean;
}

/** How long `refusal` is remembered: as long as its answer tells the client to stay away. */
export function rememberedForMs(refusal: Refusal): number {
  return refusal.propagation ? RETRY_AFTER_SECONDS * 1000 : REFUSAL_MEMORY_MS;
}

export class RefusalMemory {
  /** Insertion order is age: an entry is re-inserted whenever it is remembered again, so the first is the oldest. */
  private readonly entries = new Map<number, { refusal: Refusal; until: number }>();

  /** @param now the wall clock windows are measured on (tests move it). */
  constructor(private readonly now: () => number = Date.now) {}

  /** Refusals remembered now (expired ones included until they are tried again or pushed out). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The refusal to answer tenant `t`'s request with, or undefined when the request is to try: nothing is
   * remembered, or the window is over. A request told to try re-arms the window first, so it is the only
   * one that tries.
   */
  recall(tenant: number): Refusal | undefined {
    const entry = this.entries.get(tenant);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.until > now) return entry.refusal;
    entry.until = now + rememberedForMs(entry.refusal);
    return undefined;
  }

  /** Keeps `refusal` for tenant `t`, for its window from now. */
  remember(tenant: number, refusal: Refusal): void {
    this.entries.delete(tenant);
    this.entries.set(tenant, { refusal, until: this.now() + rememberedForMs(refusal) });
    if (this.entries.size > MAX_REMEMBERED_REFUSALS) this.entries.delete(this.entries.keys().next().value!);
  }

  /** A request of tenant `t` was served: its next request tries at once. */
  forget(tenant: number): void {
    this.entries.delete(tenant);
  }
}
