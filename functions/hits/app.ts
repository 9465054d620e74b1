/**
 * The `hits` application: routes, recording and listing of hits, cache-aside reads, error mapping
 * and the per-request log line. `handler.ts` builds one instance per execution environment from
 * the environment; tests and benchmarks build instances from explicit configurations.
 */
import { AsyncLocalStorage } from 'async_hooks';
import { createHash, randomUUID } from 'crypto';
import type { HitsConfig } from '../lib/config';
import { MemcachedClient, type CacheHealth } from '../lib/cache';
import { Database, type DatabaseOptions } from '../lib/db';
import { DbAuthError, DbUnavailableError } from '../lib/db-errors';
import { Deadline, requestBudgetMs } from '../lib/deadline';
import { emptyCacheable, hitsPage, html, internalError, json, jsonText, prefersHtml, retryLater, RETRY_AFTER_SECONDS, type CacheOutcome, type Hit, type HttpEvent, type HttpResult, type LambdaContext } from '../lib/http';
import { createLogger, errorFields, type LogSink } from '../lib/log';
import { EmfWriter, metricsConfigFrom, type CacheUse, type MetricsConfig } from '../lib/metrics';
import { isMissingTable, sqlUtc } from '../lib/sql';

export const MAX_PATH_BYTES = 2048;
export const LIST_LIMIT = 100;
/**
 * The cache key of the listing of the database at `db`: its host, port and schema, hashed (a key holds no
 * space or control character, and fits memcached's 250 bytes whatever the host). The direct arm may have an
 * instance of its own behind the same cache cluster as the proxy arm's: the same key for both would serve
 * one database's listing as the other's.
 */
export function listingCacheKey(db: Pick<HitsConfig['db'], 'host' | 'port' | 'name'>): string {
  return `hits:recent:v2:${createHash('sha256').update(`${db.host}:${db.port}/${db.name}`).digest('hex').slice(0, 16)}`;
}
/** Browsers ask for it on their own; it is answered empty and never recorded as a hit. */
export const FAVICON_PATH = '/favicon.ico';
/** How long a browser may keep the empty favicon answer (one day) before asking again. */
export const FAVICON_MAX_AGE_SECONDS = 86400;
const INSERT_HIT = 'INSERT INTO hits (path, method, created_at) VALUES (?, ?, ?)';
const SELECT_RECENT = 'SELECT id, path, method, created_at FROM hits ORDER BY id DESC LIMIT ?';
/** Health reads the table, not just `SELECT 1`: a database without the schema cannot serve a request. */
const HEALTH_CHECK = 'SELECT 1 AS ok FROM hits LIMIT 1';

export interface HitsAppOptions {
  /** Where log lines go (default: stdout for info, stderr for warnings and errors, as Powertools writes them). */
  log?: LogSink;
  db?: DatabaseOptions;
  /** Cache back-off after repeated failures (default 5000 ms). */
  cacheBackoffMs?: number;
  /** Namespace and `service` dimension of the EMF metrics in each request line (default: local names). */
  metrics?: MetricsConfig;
}

/** What one request spent, gathered from the database and cache hooks of the request's async context. */
interface RequestUsage {
  dbMs: number;
  dbCalls: number;
  cacheErrors: number;
}

export interface HitsApp {
  handler(event: HttpEvent, context?: LambdaContext): Promise<HttpResult>;
  readonly db: Database;
  readonly cache: MemcachedClient;
  close(): Promise<void>;
}

interface Row {
  id: number | string;
  path: string;
  method: string;
  created_at: string;
}

function toHit(r: Row): Hit {
  return { id: Number(r.id), path: r.path, method: r.method, at: r.created_at.replace(' ', 'T') + 'Z' };
}

export function createHitsApp(config: HitsConfig, options: HitsAppOptions = {}): HitsApp {
  const metrics = options.metrics ?? metricsConfigFrom({});
  // One service name for the line and the EMF dimension it carries.
  const log = createLogger({ service: metrics.service, sink: options.log });
  const emf = new EmfWriter(metrics);
  // Per request, not per environment: tests (and a future in-process concurrency) run requests side by side.
  const usage = new AsyncLocalStorage<RequestUsage>();
  const db = new Database(config.db, {
    ...options.db,
    hooks: {
      onPoolCreated: (reason) => {
        if (reason !== 'new') log.info('database pool rebuilt', { reason });
      },
      onRetry: (err, kind) =>
        kind === 'auth'
          ? log.warn('database refused the credentials, retrying once with fresh ones', errorFields(err))
          : log.warn('database connection error, retrying once', errorFields(err)),
      onQueryDone: (ms) => {
        const u = usage.getStore();
        if (u) {
          u.dbMs += ms;
          u.dbCalls++;
        }
      },
    },
  });
  const cache = new MemcachedClient({
    nodes: config.cache.nodes,
    tls: config.cache.tls,
    ca: config.cache.ca,
    timeoutMs: config.cache.timeoutMs,
    backoffMs: options.cacheBackoffMs,
    onError: (node, op, err) => {
      const u = usage.getStore();
      if (u) u.cacheErrors++;
      log.warn('cache call failed, bypassed', { node, op, ...errorFields(err) });
    },
    onBackoff: (node, until) => log.warn('cache node backing off', { node, until: new Date(until).toISOString() }),
  });

  const cacheKey = listingCacheKey(config.db);
  const listFromDb = async (deadline: Deadline): Promise<Hit[]> => (await db.query<Row[]>(SELECT_RECENT, [LIST_LIMIT], deadline)).map(toHit);

  /**
   * GET /_/hits, cache-aside. The cache holds the serialized `hits` array, which a hit splices into
   * the response as is (no parse, no re-serialization): that is what makes a hit cheap.
   */
  const listCached = async (deadline: Deadline): Promise<{ body: string; cache: CacheOutcome }> => {
    if (!cache.enabled) return { body: JSON.stringify({ hits: await listFromDb(deadline), cache: 'off' }), cache: 'off' };
    const cached = await cache.get(cacheKey);
    if (cached && cached[0] === 0x5b /* [ */ && cached[cached.length - 1] === 0x5d /* ] */) {
      return { body: `{"hits":${cached.toString('utf8')},"cache":"hit"}`, cache: 'hit' };
    }
    const hitsJson = JSON.stringify(await listFromDb(deadline));
    await cache.set(cacheKey, hitsJson, config.cache.ttlSeconds);
    return { body: `{"hits":${hitsJson},"cache":"miss"}`, cache: 'miss' };
  };

  const record = async (path: string, method: string, deadline: Deadline): Promise<{ hits: Hit[]; cache: CacheOutcome }> => {
    await db.query(INSERT_HIT, [path, method, sqlUtc(new Date())], deadline);
    const hits = await listFromDb(deadline);
    if (!cache.enabled) return { hits, cache: 'off' };
    // The listing came from the database without asking the cache (a cached one could only be
    // older than this write): "bypass", not "miss". It then refreshes the cached listing.
    await cache.set(cacheKey, JSON.stringify(hits), config.cache.ttlSeconds);
    return { hits, cache: 'bypass' };
  };

  const respond = (event: HttpEvent, status: number, body: { hits: Hit[]; cache: CacheOutcome }): HttpResult =>
    prefersHtml(event.headers?.accept ?? event.headers?.Accept) ? html(status, hitsPage(body.hits, body.cache)) : json(status, body);

  function handler(event: HttpEvent, context?: LambdaContext): Promise<HttpResult> {
    return usage.run({ dbMs: 0, dbCalls: 0, cacheErrors: 0 }, () => handle(event, context));
  }

  /**
   * The cache's part in a request, for the metrics: a listing served or missed; a write, or a failed cache
   * call, bypasses it (the database answers). Health checks and requests that never reached it count nothing.
   */
  const cacheUse = (route: string, outcome: string | undefined, u: RequestUsage): CacheUse | undefined => {
    if (!cache.enabled || outcome === undefined || route === 'health') return undefined;
    if (u.cacheErrors > 0 || route !== 'list') return 'bypass';
    return outcome === 'hit' ? 'hit' : outcome === 'miss' ? 'miss' : 'bypass';
  };

  async function handle(event: HttpEvent, context?: LambdaContext): Promise<HttpResult> {
    const started = performance.now();
    // Every database call of this request shares one deadline, so the function answers (503) and
    // logs before Lambda's own timeout would cut it off with a bare 500 from API Gateway.
    const deadline = new Deadline(requestBudgetMs(config.db.requestBudgetMs, context));
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
    const pathBytes = Buffer.byteLength(path, 'utf8');
    let route = 'record';
    let cacheOutcome: CacheOutcome | CacheHealth | undefined;
    let result: HttpResult;
    let failure: unknown;
    try {
      if (!/^[A-Z][A-Z_-]{0,15}$/.test(method)) {
        route = 'invalid';
        result = json(400, { error: 'unsupported method', requestId });
      } else if (pathBytes > MAX_PATH_BYTES) {
        route = 'invalid';
        result = json(414, { error: `path longer than ${MAX_PATH_BYTES} bytes`, requestId });
      } else if ((method === 'GET' || method === 'HEAD') && path === FAVICON_PATH) {
        route = 'favicon';
        result = emptyCacheable(FAVICON_MAX_AGE_SECONDS);
      } else if (method === 'GET' && path === '/_/health') {
        route = 'health';
        const [dbOk, cacheState] = await Promise.all([
          db.query(HEALTH_CHECK, [], deadline)
            .then(() => true)
            .catch((err: unknown) => {
            failure = err;
            return false;
          }),
          cache.health(),
        ]);
        cacheOutcome = cacheState;
        result = dbOk
          ? json(200, { status: 'ok', db: 'ok', cache: cacheState })
          : failure instanceof DbUnavailableError
            ? json(503, { status: 'down', db: 'down', cache: cacheState }, { 'retry-after': String(RETRY_AFTER_SECONDS) })
            : json(500, { status: 'down', db: 'error', cache: cacheState, requestId });
      } else if (method === 'GET' && path === '/_/hits') {
        route = 'list';
        const listed = await listCached(deadline);
        cacheOutcome = listed.cache;
        result = jsonText(200, listed.body);
      } else {
        const body = await record(path, method, deadline);
        cacheOutcome = body.cache;
        result = respond(event, 200, body);
      }
    } catch (err) {
      failure = err;
      result = err instanceof DbUnavailableError ? retryLater(requestId, 'database unavailable, retry later') : internalError(requestId);
    }
    if (isMissingTable(failure)) {
      // Its own line, for an alarm: the schema comes from the deploy-time migration, which has not run here.
      log.error('the hits table does not exist: run the deploy-time migrations (functions/migrate)', { requestId, database: config.db.name, ...errorFields(failure) });
    }
    if (failure instanceof DbAuthError) {
      // Its own line, for an alarm: retrying will not help until the grant, user or secret is fixed.
      log.error('database refused the credentials', { requestId, auth: config.db.auth, user: config.db.user || undefined, ...errorFields(failure) });
    }
    result.headers['x-request-id'] = requestId;
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const u = usage.getStore()!;
    const fields = {
      requestId,
      method,
      pathBytes,
      route,
      status: result.statusCode,
      latencyMs,
      cache: cacheOutcome ?? (cache.enabled ? 'none' : 'off'),
      ...(failure ? errorFields(failure) : {}),
      ...(failure instanceof DbUnavailableError ? { dbUnavailable: failure.reason } : {}),
      ...emf.request({
        route,
        status: result.statusCode,
        latencyMs,
        dbMs: u.dbCalls > 0 ? Math.round(u.dbMs * 10) / 10 : undefined,
        cache: cacheUse(route, cacheOutcome, u),
        dbUnavailable: failure instanceof DbUnavailableError ? failure.reason : undefined,
      }),
    };
    if (result.statusCode >= 500) log.error('request', fields);
    else log.info('request', fields);
    return result;
  }

  return {
    handler,
    db,
    cache,
    async close() {
      cache.close();
      // An enabled AsyncLocalStorage stays in Node's list of stores, and every async operation of the process
      // pays for each one: a closed app must not slow down the apps that live on (tests, the benchmark).
      usage.disable();
      await db.close();
    },
  };
}
