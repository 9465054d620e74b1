/**
 * RDS IAM auth tokens per tenant, signed with the tenant's scoped credentials by the functions' one token
 * signer (functions/lib/credentials.ts: local signing, no network call). A token is valid for 15 minutes and
 * only when a connection opens (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html),
 * and never after the credentials that signed it expire: it is kept for TOKEN_REUSE_MS at most, and not past
 * a minute before its credentials' expiry. When the database refuses a login, `invalidate` forgets both the
 * token and the credentials, so the one fresh login presents a new token signed with new credentials.
 */
import { signRdsToken, type SignToken } from '../lib/credentials';
import type { TenantCredentials } from './credentials';
import { tenantName } from '../../contracts';

/** Well inside the token's 15-minute life, so a cached token is never presented expired. */
export const TOKEN_REUSE_MS = 10 * 60_000;
/** A token is not reused in the last minute of its signing credentials. */
export const CREDENTIALS_EXPIRY_SLACK_MS = 60_000;

export interface TenantTokensOptions {
  /** @default signRdsToken (functions/lib/credentials.ts) */
  readonly sign?: SignToken;
  readonly now?: () => number;
}

export class TenantTokens {
  private readonly cached = new Map<number, { token: string; until: number }>();
  private readonly sign: SignToken;
  private readonly now: () => number;
  /** Tokens signed (cache misses). */
  signed = 0;

  constructor(
    private readonly endpoint: { readonly host: string; readonly port: number; readonly region: string; readonly prefix: string },
    private readonly credentials: TenantCredentials,
    options: TenantTokensOptions = {},
  ) {
    this.sign = options.sign ?? signRdsToken;
    this.now = options.now ?? Date.now;
  }

  async get(tenant: number): Promise<string> {
    const have = this.cached.get(tenant);
    if (have && have.until > this.now()) return have.token;
    const credentials = await this.credentials.get(tenant);
    const { host, port, region, prefix } = this.endpoint;
    const token = await this.sign({ hostname: host, port, username: tenantName(prefix, tenant), region, credentials });
    this.signed++;
    const until = Math.min(this.now() + TOKEN_REUSE_MS, credentials.expiration.getTime() - CREDENTIALS_EXPIRY_SLACK_MS);
    this.cached.set(tenant, { token, until });
    return token;
  }

  /** Forgets tenant `t`'s token and credentials (the database refused a login made with them). */
  invalidate(tenant: number): void {
    this.cached.delete(tenant);
    this.credentials.invalidate(tenant);
  }
}
