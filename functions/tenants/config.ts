/**
 * Runtime configuration of the `tenants` function, read once per execution environment (cold start).
 * Every problem is a ConfigError (functions/lib/env.ts, shared with the other functions) naming the variable, so a misconfigured deployment fails at init
 * with a message an operator can act on.
 *
 * | variable | meaning |
 * |---|---|
 * | `TENANT_COUNT` | tenants served: ids 0 … count-1 (required; 0 serves none) |
 * | `TENANT_PREFIX` | database and user name prefix (default `tenant_`) |
 * | `TENANT_AUTH` | `iam` (default: scoped STS credentials and an RDS IAM token per tenant) or `password` (local only) |
 * | `TENANT_PASSWORD` | the tenants' users' password, `password` mode only |
 * | `TENANT_ACCESS_ROLE_ARN` | role assumed per tenant (`iam`); its partition and account name the `dbuser` ARN |
 * | `DB_RESOURCE_ID` | the resource id each session policy's `dbuser` ARN names (`iam`): the proxy's `prx-…` (the last segment of its ARN) when DB_HOST is the proxy, the instance's `db-…` when DB_HOST is the instance (the direct arm) |
 * | `AWS_REGION` | region of the database, of STS's regional endpoint and of the token (`iam`; Lambda sets it) |
 * | `DB_HOST`, `DB_PORT` | where to connect (the proxy endpoint or, on the direct arm, the instance; port default 3306) |
 * | `DB_TLS` | `verify` (default) or `off` (local only; refused with `iam`); `DB_CA_FILE` adds a CA bundle |
 * | `DB_CA_BUNDLE` | `rds`: trust the RDS CA bundle instead of the public roots (an instance's certificate chains to an RDS CA) |
 * | `TENANT_MAX_CONNECTIONS` | connections one execution environment may hold across all tenants (default 8) |
 * | `TENANT_SESSION_SECONDS` | lifetime asked of STS for scoped credentials (default and maximum 3600, minimum 900) |
 * | `DB_CONNECT_TIMEOUT_MS`, `DB_REQUEST_BUDGET_MS`, `DB_IDLE_REBUILD_SECONDS` | one connect, one request's database time (STS included), the idle gap that rebuilds a pool: the hits function's variables and bounds (functions/lib/config.ts `dbTiming`) |
 */
import { readFileSync } from 'fs';
import { dbTiming } from '../lib/config';
import type { DbSettings } from '../lib/db';
import { caBundleSetting, caFileBundle, ConfigError, oneOf, required, wholeNumber, type Env } from '../lib/env';
import { AWS_REGION_PATTERN, DEFAULT_TENANT_PREFIX, MAX_TENANT_COUNT, TENANT_PREFIX_PATTERN } from '../../contracts';

export type TenantAuth = 'iam' | 'password';
export type TenantTls = 'verify' | 'off';

export interface IamSettings {
  readonly roleArn: string;
  /** From the role ARN: `aws`, `aws-cn`, `aws-us-gov`, … */
  readonly partition: string;
  /** From the role ARN: the database lives in the same account as the role that may connect to it. */
  readonly account: string;
  readonly region: string;
  /** What `rds-db:connect` names: the proxy's `prx-…` or, straight to the instance, its `db-…` resource id. */
  readonly dbResourceId: string;
  readonly sessionSeconds: number;
}

export interface TenantsConfig {
  readonly count: number;
  readonly prefix: string;
  readonly auth: TenantAuth;
  /** Set exactly when auth is `iam`. */
  readonly iam?: IamSettings;
  /** Set exactly when auth is `password`. */
  readonly password?: string;
  /**
   * Where every tenant's pool connects (no default schema: statements name `<tenant>.items`) and the time a
   * connect and a request may take. One object per environment: every tenant's connections share its TLS
   * context and session cache (functions/lib/credentials.ts `connectionBase`).
   */
  readonly db: DbSettings & { readonly tls: TenantTls };
  readonly maxConnections: number;
}


/**
 * IAM role ARN (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): partition, a
 * 12-digit account, `role/` and a path-qualified name.
 */
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
/**
 * A proxy's resource id is the last segment of its ARN: `prx-` and lowercase hex. An instance's (its
 * DbiResourceId) is `db-` and uppercase letters and digits
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).
 */
const DB_RESOURCE_ID = /^(prx-[0-9a-z]{1,40}|db-[0-9A-Z]{1,40})$/;

/** Reads and checks the whole configuration; see the file comment for the variables. */
export function loadTenantsConfig(env: Env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): TenantsConfig {
  const count = wholeNumber(env, 'TENANT_COUNT', undefined, 0, MAX_TENANT_COUNT);
  const prefix = env.TENANT_PREFIX?.trim() || DEFAULT_TENANT_PREFIX;
  if (!TENANT_PREFIX_PATTERN.test(prefix)) throw new ConfigError('TENANT_PREFIX', `must match ${TENANT_PREFIX_PATTERN} (with the longest id, a MySQL user name), got "${prefix}"`);
  const auth = oneOf<TenantAuth>(env, 'TENANT_AUTH', ['iam', 'password'], 'iam');
  const tls = oneOf<TenantTls>(env, 'DB_TLS', ['verify', 'off'], 'verify');
  if (auth === 'iam' && tls === 'off') throw new ConfigError('DB_TLS', 'TENANT_AUTH=iam requires DB_TLS=verify: the IAM token would travel in clear text');

  let iam: IamSettings | undefined;
  let password: string | undefined;
  if (auth === 'iam') {
    const roleArn = required(env, 'TENANT_ACCESS_ROLE_ARN');
    const arn = ROLE_ARN.exec(roleArn);
    if (!arn) throw new ConfigError('TENANT_ACCESS_ROLE_ARN', `must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>), got "${roleArn}"`);
    const dbResourceId = required(env, 'DB_RESOURCE_ID');
    if (!DB_RESOURCE_ID.test(dbResourceId)) {
      throw new ConfigError('DB_RESOURCE_ID', `must be the proxy's resource id (prx-…, the last segment of its ARN, not its name) or the instance's (db-…, its DbiResourceId, not its identifier), got "${dbResourceId}"`);
    }
    const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
    if (!region) throw new ConfigError('AWS_REGION', 'is required for the STS endpoint and the IAM token (Lambda sets it)');
    if (!AWS_REGION_PATTERN.test(region)) throw new ConfigError('AWS_REGION', `must be a region code such as eu-west-1, got "${region}"`);
    // Lambda's role assuming the tenant-access role is role chaining, which caps sessions at one hour:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
    const sessionSeconds = wholeNumber(env, 'TENANT_SESSION_SECONDS', 3600, 900, 3600);
    iam = { roleArn, partition: arn[1], account: arn[2], region, dbResourceId, sessionSeconds };
  } else {
    password = env.TENANT_PASSWORD;
    if (password === undefined) throw new ConfigError('TENANT_PASSWORD', 'is required when TENANT_AUTH=password');
  }

  const ca = caFileBundle(env, readFile);
  const caBundle = caBundleSetting(env, tls);

  return {
    count,
    prefix,
    auth,
    iam,
    password,
    db: {
      host: required(env, 'DB_HOST'),
      port: wholeNumber(env, 'DB_PORT', 3306, 1, 65535),
      tls,
      ca,
      caBundle,
      ...dbTiming(env),
    },
    maxConnections: wholeNumber(env, 'TENANT_MAX_CONNECTIONS', 8, 1, 1000),
  };
}
