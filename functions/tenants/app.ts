/**
 * The `tenants` application: `GET /tenants/{tenantId}/items` answers five random rows of that tenant's
 * table, read as that tenant's database user with credentials scoped to it. `handler.ts` builds one
 * instance per execution environment; tests and benchmarks build instances from explicit configurations.
 *
 * Order of work per request: route, then the tenant id (400 invalid, 404 unknown), and only then STS and
 * the database, within one deadline taken from the invocation's remaining time (functions/lib/deadline.ts).
 * Errors, and what each answers (docs/tenants.md lists them with what the log line says):
 * - STS throttles or is unavailable, the database unreachable, saturated, out of time, or every pool of
 *   the environment busy: 503 with Retry-After;
 * - STS refuses the AssumeRole, or the database refuses the tenant's login twice (the second time with a
 *   fresh token signed with fresh credentials): 500, a misconfiguration, unless IAM may still be propagating
 *   the deploy (see `propagating`): then 503 with Retry-After. Either refusal is remembered for the tenant
 *   (refusals.ts): its next requests get the same answer at once, with no STS call and no login, for
 *   REFUSAL_MEMORY_MS after a 500 and for the Retry-After after a 503;
 * - the tenant's table missing, anything else: 500.
 * A 500's body names neither the tenant nor the cause; the request's log line has both, with an error code.
 *
 * Logging and metrics are the hits function's: Powertools Logger through functions/lib/log.ts, one request
 * line carrying the request's Embedded Metric Format metrics (functions/lib/metrics.ts). The tenant is in
 * the line, never a metric dimension: tenants are unbounded, each dimension value a metric of its own.
 */
import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import type { TenantsConfig } from './config';
import { StsAccessDeniedError, StsUnavailableError, TenantCredentials, type AssumeRole } from './credentials';
import { clearPasswordPlugin, type SignToken } from '../lib/credentials';
import { DbAuthError, DbUnavailableError } from '../lib/db-errors';
import { Deadline, requestBudgetMs } from '../lib/deadline';
import { html, internalError, json, prefersHtml, retryLater, type HttpEvent, type HttpResult, type LambdaContext } from '../lib/http';
import { createLogger, errorFields, type LogSink } from '../lib/log';
import { EmfWriter, METRIC, metricsConfigFrom, zeroCounts, type CountMetric, type MetricsConfig } from '../lib/metrics';
import { itemsPage, type Item } from './http';
import { TenantPools, type LoginFor } from './pools';
import { TENANTS_ROUTE_METRIC, tenantName } from '../../contracts';
import { isMissingTable } from '../lib/sql';
import { RefusalMemory, type Refusal } from './refusals';
import { parseTenantId } from './tenant-id';
import { TenantTokens } from './tokens';

export const ITEMS_PER_RESPONSE = 5;
const ROUTE = /^\/tenants\/([^/]*)\/items$/;
/**
 * The route's one statement; values: the tenant's database, ITEMS_PER_RESPONSE. `??` is the tenant's
 * database: a fully qualified name, no default schema on the connection.
 */
export const RANDOM_ITEMS = 'SELECT id, c1, c2, c3, c4, c5 FROM ??.items ORDER BY RAND() LIMIT ?';

/**
 * How long after its start an execution environment may answer an IAM refusal (STS AccessDenied, or a login
 * refused twice) with 503 and Retry-After rather than 500. IAM is eventually consistent: a role or policy a
 * deploy just created may be refused for a while, and AWS gives no signal that tells this apart from a
 * real denial (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * AWS publishes no figure; two minutes is how long the Terraform AWS provider waits for IAM changes to
 * propagate (hashicorp/terraform-provider-aws, internal/service/iam/wait.go, `propagationTimeout`). A deploy
 * that changes the tenants' IAM also replaces the function, so only environments that young can see it,
 * and only until IAM has let one of their requests through (see `propagating` in createTenantsApp).
 */
export const IAM_PROPAGATION_MS = 120_000;

export interface TenantsAppOptions {
  /** Where log lines go (default: stdout for info, stderr for warnings and errors, as Powertools writes them). */
  log?: LogSink;
  /** Namespace and `service` dimension of the EMF metrics in each request line (default: local names). */
  metrics?: MetricsConfig;
  /** AssumeRole implementation (default: @aws-sdk/client-sts on the regional endpoint). */
  assumeRole?: AssumeRole;
  /** Token signer (default: functions/lib/credentials.ts `signRdsToken`). */
  sign?: SignToken;
  /** Wall clock of credentials, tokens, idle gaps and the IAM propagation window (tests move it). */
  now?: () => number;
  /**
   * Changes how a tenant logs in, given the configured login. Tests and the benchmark use it to keep the
   * whole IAM path (STS, caches, signer) while logging in to MariaDB, which has no AWSAuthenticationPlugin,
   * with a password.
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

/** `iam` login: the tenant's user, and the clear-text auth plugin answering with the tenant's cached token. */
export function iamLogin(prefix: string, tokens: TenantTokens): LoginFor {
  return (tenant) => ({
    async options() {
      // Fetched now, before the pool connects, so an STS failure is reported as one, not as a failed handshake.
      await tokens.get(tenant);
      return { user: tenantName(prefix, tenant), authPlugins: clearPasswordPlugin(() => tokens.get(tenant)) };
    },
    invalidate: () => tokens.invalidate(tenant),
    secretFetches: 0,
  });
}

export function passwordLogin(prefix: string, password: string): LoginFor {
  return (tenant) => ({ options: async () => ({ user: tenantName(prefix, tenant), password }), invalidate: () => undefined, secretFetches: 0 });
}

/** What one request caused, counted in its own async context: exact even when requests overlap (local mode). */
type RequestUsage = Record<CountMetric, number> & { dbMs: number; dbCalls: number };

function freshUsage(): RequestUsage {
  return { ...zeroCounts(), dbMs: 0, dbCalls: 0 };
}

export function createTenantsApp(config: TenantsConfig, options: TenantsAppOptions = {}): TenantsApp {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const metrics = options.metrics ?? metricsConfigFrom({}, 'tenants-local');
  // One service name for the line and the EMF dimension it carries.
  const log = createLogger({ service: metrics.service, sink: options.log });
  const emf = new EmfWriter(metrics);
  const usage = new AsyncLocalStorage<RequestUsage>();
  const count = (metric: CountMetric) => {
    const u = usage.getStore();
    if (u) u[metric]++;
  };

  let credentials: TenantCredentials | undefined;
  let tokens: TenantTokens | undefined;
  let login: LoginFor;
  if (config.auth === 'iam') {
    const iam = config.iam!;
    credentials = new TenantCredentials(iam, config.prefix, { assumeRole: options.assumeRole, now, onAssumeRole: () => count(METRIC.stsCalls) });
    tokens = new TenantTokens({ host: config.db.host, port: config.db.port, region: iam.region, prefix: config.prefix }, credentials, { sign: options.sign, now });
    login = iamLogin(config.prefix, tokens);
  } else {
    login = passwordLogin(config.prefix, config.password!);
  }
  const poolEvents = { open: METRIC.poolsOpened, evict: METRIC.poolsEvicted, refuse: METRIC.poolsRefused } as const;
  const pools = new TenantPools(config.db, config.maxConnections, options.adaptLogin ? options.adaptLogin(login) : login, {
    now,
    onPool: (event) => count(poolEvents[event]),
    hooks: (tenant) => ({
      onRetry: (err, kind) =>
        kind === 'auth'
          ? log.warn("database refused the tenant's login, retrying once with a fresh token and credentials", { tenant, ...errorFields(err) })
          : log.warn('database connection error, retrying once', { tenant, ...errorFields(err) }),
      onLoginRefused: () => count(METRIC.loginFailures),
      onQueryDone: (ms) => {
        const u = usage.getStore();
        if (u) {
          u.dbMs += ms;
          u.dbCalls++;
        }
      },
    }),
  });

  /** A request of this environment was served: a login, and every grant it needs, were in effect. */
  let served = false;
  /**
   * Whether a refusal by `by` may be IAM still propagating a deploy: the environment is younger than
   * IAM_PROPAGATION_MS and IAM has not yet let through what was refused. A login accepted shows the grants
   * in effect; an AssumeRole answered (or a login, which needs one) shows the role and its trust in effect,
   * but not its permission to connect, a policy of its own that propagates on its own.
   */
  const propagating = (by: RefusedBy) => now() - startedAt < IAM_PROPAGATION_MS && !served && (by === 'login' || !credentials?.issued);
  const refusals = new RefusalMemory(now);

  function handler(event: HttpEvent, context?: LambdaContext): Promise<HttpResult> {
    return usage.run(freshUsage(), () => handle(event, context));
  }

  async function handle(event: HttpEvent, context?: LambdaContext): Promise<HttpResult> {
    const started = performance.now();
    // STS and the database share one deadline, so the function answers (503) and logs before Lambda's timeout.
    const deadline = new Deadline(requestBudgetMs(config.db.requestBudgetMs, context));
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
    const match = ROUTE.exec(path);
    // The API routes only GET /tenants/{tenantId}/items here: one route value, which the alarms read.
    const route = TENANTS_ROUTE_METRIC;
    let tenant: number | undefined;
    let items: number | undefined;
    let failure: unknown;
    /** The tenant's refusal this request was answered with, from memory: no STS call, no login. */
    let remembered: Refusal | undefined;
    /** Whether the refusal this request met or remembered is answered as IAM propagating. */
    let propagation = false;
    let result: HttpResult;
    try {
      if (!match) result = json(404, { error: 'not found', requestId });
      else if (method !== 'GET') result = json(405, { error: 'method not allowed', requestId }, { allow: 'GET' });
      else {
        const id = parseTenantId(match[1], config.count);
        if (id.kind === 'invalid') result = json(400, { error: 'tenantId must be a decimal integer without sign or leading zeros', requestId });
        else if (id.kind === 'unknown') result = json(404, { error: 'no such tenant', requestId });
        else {
          tenant = id.tenant;
          remembered = refusals.recall(tenant);
          if (remembered) {
            propagation = remembered.propagation;
            result = refused(propagation, requestId);
          } else {
            const rows = await pools.query<Array<Record<string, unknown>>>(tenant, RANDOM_ITEMS, [tenantName(config.prefix, tenant), ITEMS_PER_RESPONSE], deadline);
            served = true;
            refusals.forget(tenant);
            const found: Item[] = rows.map((r) => ({ id: Number(r.id), c1: Number(r.c1), c2: Number(r.c2), c3: Number(r.c3), c4: Number(r.c4), c5: Number(r.c5) }));
            items = found.length;
            result = prefersHtml(event.headers?.accept ?? event.headers?.Accept) ? html(200, itemsPage(tenant, found)) : json(200, { tenant, items: found });
          }
        }
      }
    } catch (err) {
      failure = err;
      const by = refusedBy(err);
      propagation = by !== undefined && propagating(by);
      result = by ? refused(propagation, requestId) : answer(err, requestId);
      if (by && tenant !== undefined) refusals.remember(tenant, { fields: errorFields(err), propagation });
    }
    result.headers['x-request-id'] = requestId;

    const u = usage.getStore()!;
    if (failure instanceof StsUnavailableError) u[failure.reason === 'throttled' ? METRIC.stsErrors.throttled : METRIC.stsErrors.unavailable]++;
    if (failure instanceof StsAccessDeniedError) u[METRIC.stsErrors.denied]++;
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const dbUnavailable = failure instanceof DbUnavailableError ? failure.reason : undefined;
    const { dbMs, dbCalls, ...counts } = u;
    const fields = {
      requestId,
      method,
      // Bounded: the path is whatever the client sent.
      path: path.slice(0, 200),
      route,
      status: result.statusCode,
      latencyMs,
      tenant,
      items,
      stsCalls: u[METRIC.stsCalls],
      poolsOpened: u[METRIC.poolsOpened],
      ...(failure ? errorFields(failure) : {}),
      ...(remembered ? { ...remembered.fields, refusalRemembered: true } : {}),
      ...(isNotProvisioned(failure) ? { errorCode: 'TENANT_NOT_PROVISIONED' } : {}),
      ...(dbUnavailable ? { dbUnavailable } : {}),
      ...(propagation ? { iamPropagation: true } : {}),
      ...emf.request({ route, status: result.statusCode, latencyMs, dbMs: dbCalls > 0 ? Math.round(dbMs * 10) / 10 : undefined, dbUnavailable, counts }),
    };
    if (result.statusCode >= 500) log.error('request', fields);
    else log.info('request', fields);
    return result;
  }

  return {
    handler,
    pools,
    credentials,
    tokens,
    close: async () => {
      // See functions/hits/app.ts: a closed app's AsyncLocalStorage must not slow down the apps that live on.
      usage.disable();
      await Promise.all([pools.close(), credentials?.close()]);
    },
  };
}

/** Any failure but an IAM refusal: 503 when a later request may succeed, else 500. */
function answer(err: unknown, requestId: string): HttpResult {
  return err instanceof StsUnavailableError || err instanceof DbUnavailableError ? retryLater(requestId) : internalError(requestId);
}

/** An IAM refusal: 503 while IAM may still be propagating, else 500 (a misconfiguration). */
function refused(propagation: boolean, requestId: string): HttpResult {
  return propagation ? retryLater(requestId) : internalError(requestId);
}

/** Who refused the tenant's credentials: STS (AssumeRole) or the database (the login, twice). */
type RefusedBy = 'sts' | 'login';

/** Who refused who the function said it was, if `err` is such a refusal: what IAM still propagating looks like too. */
function refusedBy(err: unknown): RefusedBy | undefined {
  if (err instanceof StsAccessDeniedError) return 'sts';
  if (err instanceof DbAuthError) return 'login';
  return undefined;
}

/** The tenant's database or table is missing: provisioning (the deploy-time migration) has not reached it. */
function isNotProvisioned(err: unknown): boolean {
  return isMissingTable(err) || (err as { code?: unknown } | null)?.code === 'ER_BAD_DB_ERROR';
}
