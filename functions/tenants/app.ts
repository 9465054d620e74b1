/**
 * The `tenants` application: `GET /tenants/{tenantId}/items` answers five random rows of that tenant's
 * table, read as that tenant's database user with credentials scoped to it. `handler.ts` builds one
 * instance per execution environment; tests and benchmarks build instances from explicit configurations.
 *
 * Order of work per request: route, then the tenant id (400 invalid, 404 unknown), and only then STS and
 * the database. Errors: STS or the database unavailable → 503 with Retry-After; access refused (by STS or
 * MySQL) or the tenant's table missing → 500 whose body names neither the tenant nor the cause (the log
 * line has both, with an error code).
 */
import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import type { TenantsConfig } from './config';
import { StsAccessDeniedError, StsUnavailableError, TenantCredentials, type AssumeRole } from './credentials';
import { html, json, prefersHtml, type HttpEvent, type HttpResult, type LambdaContext } from '../lib/http';
import { itemsPage, type Item } from './http';
import { TenantDbAccessDeniedError, TenantDbUnavailableError, TenantPools, type Login, type LoginFor } from './pools';
import { tenantName } from '../../contracts';
import { parseTenantId } from './tenant-id';
import { TenantTokens, type SignToken } from './tokens';

/** Seconds a client should wait after a 503. */
export const RETRY_AFTER_SECONDS = 2;
export const ITEMS_PER_RESPONSE = 5;
const ROUTE = /^\/tenants\/([^/]*)\/items$/;
/** `??` is the tenant's database: a fully qualified name, no default schema on the connection. */
const RANDOM_ITEMS = 'SELECT id, c1, c2, c3, c4, c5 FROM ??.items ORDER BY RAND() LIMIT ?';

export type LogSink = (line: string) => void;

export interface TenantsAppOptions {
  /** Where the JSON log lines go (default: stdout). */
  log?: LogSink;
  /** AssumeRole implementation (default: @aws-sdk/client-sts on the regional endpoint). */
  assumeRole?: AssumeRole;
  /** Token signer (default: @aws-sdk/rds-signer). */
  sign?: SignToken;
  now?: () => number;
  /**
   * Changes how a tenant logs in, given the configured login. Tests use it to keep the whole IAM path
   * (STS, cache, signer) while logging in to MariaDB, which has no AWSAuthenticationPlugin, with a password.
   */
  adaptLogin?: (configured: LoginFor) => LoginFor;
}

export interface TenantsApp {
  handler(event: HttpEvent, context?: LambdaContext): Promise<HttpResult>;
  readonly pools: TenantPools;
  /** Present in `iam` mode. */
  readonly credentials?: TenantCredentials;
  readonly tokens?: TenantTokens;
  close(): Promise<void>;
}

/** `iam` login: the user and a clear-text auth plugin answering with the tenant's cached token. */
export function iamLogin(prefix: string, tokens: TenantTokens): LoginFor {
  return async (tenant) => {
    // Fetched now, before the pool connects, so an STS failure is reported as one, not as a failed handshake.
    await tokens.get(tenant);
    const login: Login = {
      user: tenantName(prefix, tenant),
      // Supplying this plugin is mysql2's opt-in to clear-text passwords, only ever over verified TLS (config
      // refuses iam without it). It runs per new connection, with the token cached for less than its life.
      authPlugins: { mysql_clear_password: () => async () => Buffer.from(`${await tokens.get(tenant)}\0`) },
    };
    return login;
  };
}

export function passwordLogin(prefix: string, password: string): LoginFor {
  return async (tenant) => ({ user: tenantName(prefix, tenant), password });
}

export function createTenantsApp(config: TenantsConfig, options: TenantsAppOptions = {}): TenantsApp {
  const sink = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  // What each request caused, counted in its own async context: exact even when requests overlap (local mode).
  const usage = new AsyncLocalStorage<{ stsCalls: number; poolsOpened: number }>();
  let credentials: TenantCredentials | undefined;
  let tokens: TenantTokens | undefined;
  let login: LoginFor;
  if (config.auth === 'iam') {
    const iam = config.iam!;
    credentials = new TenantCredentials(iam, config.prefix, {
      assumeRole: options.assumeRole,
      now: options.now,
      onAssumeRole: () => void (usage.getStore() && usage.getStore()!.stsCalls++),
    });
    tokens = new TenantTokens({ host: config.db.host, port: config.db.port, region: iam.region, prefix: config.prefix }, credentials, { sign: options.sign, now: options.now });
    login = iamLogin(config.prefix, tokens);
  } else {
    login = passwordLogin(config.prefix, config.password!);
  }
  const pools = new TenantPools(config, options.adaptLogin ? options.adaptLogin(login) : login, {
    onPool: (event) => void (event === 'open' && usage.getStore() && usage.getStore()!.poolsOpened++),
  });

  async function handler(event: HttpEvent, context?: LambdaContext): Promise<HttpResult> {
    const started = performance.now();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    const used = { stsCalls: 0, poolsOpened: 0 };
    const fields: Record<string, unknown> = {};
    let result: HttpResult;
    try {
      result = await usage.run(used, route);
    } catch (err) {
      result = failure(err, fields);
    }
    sink(
      JSON.stringify({
        time: new Date().toISOString(),
        level: result.statusCode >= 500 ? 'error' : 'info',
        msg: 'request',
        requestId,
        method,
        // Bounded: the path is whatever the client sent.
        path: path.slice(0, 200),
        status: result.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        stsCalls: used.stsCalls,
        poolsOpened: used.poolsOpened,
        ...fields,
      }),
    );
    return result;

    async function route(): Promise<HttpResult> {
      const match = ROUTE.exec(path);
      if (!match) return json(404, { error: 'not found', requestId });
      if (method !== 'GET') return json(405, { error: 'method not allowed', requestId }, { allow: 'GET' });
      const id = parseTenantId(match[1], config.count);
      if (id.kind === 'invalid') return json(400, { error: 'tenantId must be a decimal integer without sign or leading zeros', requestId });
      if (id.kind === 'unknown') return json(404, { error: 'no such tenant', requestId });
      fields.tenant = id.tenant;
      const rows = await pools.query<Record<string, unknown>>(id.tenant, RANDOM_ITEMS, [tenantName(config.prefix, id.tenant), ITEMS_PER_RESPONSE]);
      const items: Item[] = rows.map((r) => ({ id: Number(r.id), c1: Number(r.c1), c2: Number(r.c2), c3: Number(r.c3), c4: Number(r.c4), c5: Number(r.c5) }));
      fields.items = items.length;
      if (prefersHtml(event.headers?.accept)) return html(200, itemsPage(id.tenant, items));
      return json(200, { tenant: id.tenant, items });
    }

    function failure(err: unknown, into: Record<string, unknown>): HttpResult {
      const e = err as { code?: unknown; message?: unknown; name?: unknown };
      into.errorCode = typeof e?.code === 'string' ? e.code : 'INTERNAL';
      into.error = String(e?.message ?? err);
      into.errorName = e?.name;
      if (err instanceof StsUnavailableError || err instanceof TenantDbUnavailableError) {
        return json(503, { error: 'temporarily unavailable, retry later', requestId }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      if (err instanceof StsAccessDeniedError || err instanceof TenantDbAccessDeniedError) into.errorCode = err.code;
      else if (e?.code === 'ER_NO_SUCH_TABLE' || e?.code === 'ER_BAD_DB_ERROR') into.errorCode = 'TENANT_NOT_PROVISIONED';
      // Nothing about the tenant or the cause in the body: the log line carries both.
      return json(500, { error: 'internal error', requestId });
    }
  }

  return {
    handler,
    pools,
    credentials,
    tokens,
    close: async () => {
      await Promise.all([pools.close(), credentials?.close()]);
    },
  };
}
