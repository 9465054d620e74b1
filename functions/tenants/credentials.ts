/**
 * Scoped credentials per tenant: STS AssumeRole on the tenant-access role with an inline session policy
 * that allows `rds-db:connect` as exactly that tenant's database user. The effective permissions of a
 * session are the intersection of the role's policies and the session policy
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session), so a token
 * signed with tenant 7's credentials cannot log in as tenant 8 whatever the role allows.
 *
 * AWS advises against calling AssumeRole per request: credentials are cached per tenant until
 * REFRESH_MARGIN_MS before they expire, and concurrent misses for one tenant share one STS call.
 */
import { isThrottlingError } from '@smithy/core/retry';
import type { AwsCredentials } from '../lib/credentials';
import type { IamSettings } from './config';
import { tenantName } from '../../contracts';

/** What AssumeRole answers: temporary credentials, always with a session token and an expiry. */
export interface ScopedCredentials extends AwsCredentials {
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Credentials are renewed this long before they expire, so that a token signed with them is never
 * presented after they lapse (a token is only accepted while its signing credentials are valid:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html).
 */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * STS (or the network to it) failed in a way a later request may not: throttling, 5xx, timeouts. Answer 503
 * with Retry-After. `throttled` when STS refused the rate (its `Throttling` error, HTTP 400), as the SDK's own
 * retry strategy classifies it (`isThrottlingError`, the same list of codes it backs off on).
 */
export class StsUnavailableError extends Error {
  readonly code: 'STS_THROTTLED' | 'STS_UNAVAILABLE';
  constructor(
    readonly cause: unknown,
    readonly reason: 'throttled' | 'unavailable' = 'unavailable',
  ) {
    super(`STS ${reason === 'throttled' ? 'throttled AssumeRole' : 'unavailable'}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StsUnavailableError';
    this.code = reason === 'throttled' ? 'STS_THROTTLED' : 'STS_UNAVAILABLE';
  }
}

/**
 * STS refused the AssumeRole (trust policy, missing sts:AssumeRole, policy too large): a misconfiguration,
 * answered 500, unless the refusal may be IAM still propagating a deploy's change: the environment is young
 * and no AssumeRole has succeeded in it yet (functions/tenants/app.ts, IAM_PROPAGATION_MS).
 */
export class StsAccessDeniedError extends Error {
  readonly code = 'STS_ACCESS_DENIED';
  constructor(readonly cause: unknown) {
    super(`STS refused AssumeRole: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StsAccessDeniedError';
  }
}

/**
 * `rds-db:connect` resource of a database user: `dbuser:<prx-id>/<user>` through RDS Proxy
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html), `dbuser:<db-resource-id>/<user>`
 * straight to the instance (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html),
 * whichever DB_RESOURCE_ID names.
 */
export function dbUserArn(iam: IamSettings, user: string): string {
  return `arn:${iam.partition}:rds-db:${iam.region}:${iam.account}:dbuser:${iam.dbResourceId}/${user}`;
}

/** The inline session policy of tenant `t`'s session: `rds-db:connect` as that one user, nothing else. */
export function sessionPolicy(iam: IamSettings, prefix: string, tenant: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: dbUserArn(iam, tenantName(prefix, tenant)) }],
  });
}

/** The session name (`[\w+=,.@-]{2,64}`) names the tenant, so CloudTrail shows which tenant each session served. */
export function sessionName(prefix: string, tenant: number): string {
  return tenantName(prefix, tenant);
}

export interface AssumeRoleRequest {
  readonly RoleArn: string;
  readonly RoleSessionName: string;
  readonly Policy: string;
  readonly DurationSeconds: number;
}

export type AssumeRole = ((request: AssumeRoleRequest) => Promise<ScopedCredentials>) & {
  /** Releases the client's sockets (tests and scripts; Lambda environments simply end). */
  close?: () => Promise<void>;
};

/** Error names STS and the SDK use for a refusal rather than an outage. */
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'MalformedPolicyDocument', 'MalformedPolicyDocumentException', 'PackedPolicyTooLarge', 'PackedPolicyTooLargeException', 'RegionDisabledException', 'ExpiredTokenException', 'InvalidClientTokenId', 'SignatureDoesNotMatch']);

export function isStsDenial(err: unknown): boolean {
  const e = err as { name?: unknown; Code?: unknown } | null;
  return DENIED.has(String(e?.name)) || DENIED.has(String(e?.Code));
}

/** The StsUnavailableError or StsAccessDeniedError an AssumeRole failure is answered with. */
export function stsFailure(err: unknown): StsUnavailableError | StsAccessDeniedError {
  if (isStsDenial(err)) return new StsAccessDeniedError(err);
  const throttled = typeof err === 'object' && err !== null && isThrottlingError(err as Parameters<typeof isThrottlingError>[0]);
  return new StsUnavailableError(err, throttled ? 'throttled' : 'unavailable');
}

/**
 * AssumeRole through @aws-sdk/client-sts on STS's regional endpoint (the SDK v3 default,
 * `useGlobalEndpoint: false`; https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html).
 * `AWS_ENDPOINT_URL_STS` overrides the endpoint (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 * The client is loaded on first use, so `password` mode never loads it.
 */
export function stsClientSettings(region: string) {
  return {
    region,
    // Stated, though it is the default: the regional endpoint, never sts.amazonaws.com.
    useGlobalEndpoint: false,
    // Short bounds: a request waits for STS at most once per tenant per hour, but must not outlive its invocation.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 },
  };
}

export function stsAssumeRole(region: string): AssumeRole {
  type Client = { send(request: AssumeRoleRequest): Promise<ScopedCredentials>; destroy(): void };
  let client: Promise<Client> | undefined;
  const load = async (): Promise<Client> => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    const sts = new STSClient(stsClientSettings(region));
    return {
      async send(request: AssumeRoleRequest): Promise<ScopedCredentials> {
        const out = await sts.send(new AssumeRoleCommand(request));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error('AssumeRole answered without complete credentials');
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      },
      destroy: () => sts.destroy(),
    };
  };
  const assumeRole: AssumeRole = async (request) => {
    client ??= load();
    client.catch(() => (client = undefined));
    return (await client).send(request);
  };
  assumeRole.close = async () => {
    const loaded = client;
    client = undefined;
    (await loaded?.catch(() => undefined))?.destroy();
  };
  return assumeRole;
}

export interface TenantCredentialsOptions {
  readonly assumeRole?: AssumeRole;
  readonly now?: () => number;
  /** Called for every AssumeRole call, in the async context of the request that made it. */
  readonly onAssumeRole?: (tenant: number) => void;
}

/** Per-tenant cache of scoped credentials; see the file comment. */
export class TenantCredentials {
  private readonly cached = new Map<number, ScopedCredentials>();
  private readonly inFlight = new Map<number, Promise<ScopedCredentials>>();
  private readonly assumeRole: AssumeRole;
  private readonly now: () => number;
  private readonly onAssumeRole: (tenant: number) => void;
  /** AssumeRole calls made (successful or not). */
  calls = 0;
  /** AssumeRole calls STS answered with credentials: once one has, the tenant-access role and its trust are in effect. */
  issued = 0;

  constructor(
    private readonly iam: IamSettings,
    private readonly prefix: string,
    options: TenantCredentialsOptions = {},
  ) {
    this.assumeRole = options.assumeRole ?? stsAssumeRole(iam.region);
    this.now = options.now ?? Date.now;
    this.onAssumeRole = options.onAssumeRole ?? (() => undefined);
  }

  /** Whether `c` may still sign a token that is presented within the margin. */
  fresh(c: ScopedCredentials): boolean {
    return c.expiration.getTime() - REFRESH_MARGIN_MS > this.now();
  }

  get(tenant: number): Promise<ScopedCredentials> {
    const have = this.cached.get(tenant);
    if (have && this.fresh(have)) return Promise.resolve(have);
    const pending = this.inFlight.get(tenant);
    if (pending) return pending;
    const call = this.fetch(tenant).finally(() => this.inFlight.delete(tenant));
    this.inFlight.set(tenant, call);
    return call;
  }

  /** Releases the STS client. */
  async close(): Promise<void> {
    await this.assumeRole.close?.();
  }

  /** Forgets tenant `t`'s credentials (after the database refused a token made with them). */
  invalidate(tenant: number): void {
    this.cached.delete(tenant);
  }

  private async fetch(tenant: number): Promise<ScopedCredentials> {
    this.calls++;
    this.onAssumeRole(tenant);
    let creds: ScopedCredentials;
    try {
      creds = await this.assumeRole({
        RoleArn: this.iam.roleArn,
        RoleSessionName: sessionName(this.prefix, tenant),
        Policy: sessionPolicy(this.iam, this.prefix, tenant),
        DurationSeconds: this.iam.sessionSeconds,
      });
    } catch (err) {
      throw stsFailure(err);
    }
    this.issued++;
    this.cached.set(tenant, creds);
    return creds;
  }
}
