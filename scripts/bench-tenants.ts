/**
 * Tenants benchmark against a throw-away local MariaDB (127.0.0.1 only):
 * 1. provisioning time for N tenants × M rows (default 1,000 × 1,000), as the deploy-time step runs it
 *    (one connection, batches of 1,000 rows);
 * 2. tenant route latency (median, p99) with R tenants requested round-robin (default 200) by one
 *    execution environment, sequentially as Lambda serves them, each request alternating with a `hits`
 *    listing request (GET /_/hits, pooled, cache off) on the same MariaDB, so both see the same load:
 *    once with the default connection bound (most requests open a pool) and once with every tenant's
 *    pool kept (bound ≥ tenants, when MariaDB allows that many connections);
 * 3. STS calls per 10,000 requests on the IAM path (credentials cache, real token signer; AssumeRole
 *    answered in-process, login with the local password since MariaDB has no AWSAuthenticationPlugin).
 *
 * `npm run bench` (scripts/bench.ts, section `tenants`) calls runTenantsBench; alone:
 *   npx tsx scripts/bench-tenants.ts [--tenants N] [--rows M] [--route-tenants R] [--requests Q (default 10000)]
 */
import { createConnection } from 'mysql2/promise';
import { passwordAuth } from '../functions/migrate/runner';
import { provisionTenants } from '../functions/migrate/tenants';
import { createTenantsApp, type TenantsAppOptions } from '../functions/tenants/app';
import type { TenantsConfig } from '../functions/tenants/config';
import type { AssumeRole } from '../functions/tenants/credentials';
import { createHitsApp } from '../functions/hits/app';
import { loadConfig } from '../functions/lib/config';
import type { HttpEvent, HttpResult } from '../functions/lib/http';
import { median, type Metric } from './bench-stats';
import { MariaDb, migrateLocalDatabase } from './services';
import { DEFAULT_TENANT_PREFIX } from '../contracts';

export interface TenantsBenchOptions {
  /** Tenants provisioned. @default 1000 */
  readonly tenants?: number;
  /** Rows per tenant. @default 1000 */
  readonly rows?: number;
  /** Tenants requested round-robin. @default 200 */
  readonly routeTenants?: number;
  /** Requests per latency run (tenant route; as many hits listings interleaved). @default 10000 */
  readonly requests?: number;
  /** Progress lines (the figures come back as metrics). @default console.log */
  readonly say?: (line: string) => void;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const PASSWORD = 'bench-tenant-password';

interface Target {
  handler(e: HttpEvent): Promise<HttpResult>;
}

const get = (path: string, i: number): HttpEvent => ({ rawPath: path, headers: { accept: 'application/json' }, requestContext: { requestId: `b${i}`, http: { method: 'GET', path } } });

/** Provisioning, then the route latencies beside the hits listing, then STS calls per `requests`; see the file comment. */
export async function runTenantsBench(options: TenantsBenchOptions = {}): Promise<Metric[]> {
  const tenants = options.tenants ?? 1000;
  const rows = options.rows ?? 1000;
  const routeTenants = options.routeTenants ?? 200;
  const requests = options.requests ?? 10000;
  const say = options.say ?? ((line: string) => console.log(line));
  const metrics: Metric[] = [];
  const db = await MariaDb.start();
  try {
    await db.sql("CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY 'master-pw'");
    await db.sql("GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION");
    const master = await createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw' });
    const provision = (count: number) => provisionTenants(master, { count, prefix: DEFAULT_TENANT_PREFIX, rowsPerTenant: rows, auth: passwordAuth(PASSWORD) });
    const fresh = await provision(tenants);
    metrics.push({ name: `tenants: provisioning ${tenants} tenants × ${rows} rows (fresh)`, value: round(fresh.ms / 1000), unit: 's', target: 'well inside the 900 s Lambda timeout' });
    metrics.push({ name: 'tenants: provisioning insert rate', value: Math.round(fresh.rowsInserted / (fresh.ms / 1000)), unit: 'rows/s' });
    const again = await provision(tenants);
    metrics.push({ name: `tenants: provisioning re-run (nothing to do, ${tenants} tenants)`, value: round(again.ms / 1000), unit: 's' });
    if (routeTenants > tenants) await provision(routeTenants);
    await master.end();

    // The hits listing on the same server, as deployed: migrations first, the function as the app user, cache off.
    const hitsEnv = { ...(await migrateLocalDatabase(db)).env, CACHE_NODES: '' };
    const hits = createHitsApp(loadConfig(hitsEnv), { log: () => undefined });
    for (let i = 0; i < 100; i++) await hits.handler(get(`/seed/${i}`, i)); // a listing of 100 hits

    const base: TenantsConfig = {
      count: routeTenants,
      prefix: DEFAULT_TENANT_PREFIX,
      auth: 'password',
      password: PASSWORD,
      db: { host: db.host, port: db.port, tls: 'off', connectTimeoutMs: 3000, idleRebuildMs: 1_800_000, requestBudgetMs: 8000 },
      maxConnections: 8,
    };
    /** `requests` tenant requests round-robin, each followed by a hits listing; both timed, the first round (cold pools) dropped. */
    const route = async (label: string, config: TenantsConfig, appOptions: TenantsAppOptions = {}) => {
      const app = createTenantsApp(config, { log: () => undefined, ...appOptions });
      const tenantMs: number[] = [];
      const hitsMs: number[] = [];
      const timed = async (target: Target, event: HttpEvent, into: number[], what: string) => {
        const started = performance.now();
        const res = await target.handler(event);
        into.push(performance.now() - started);
        if (res.statusCode !== 200) throw new Error(`${label}: ${what} answered ${res.statusCode}: ${res.body}`);
      };
      try {
        for (let i = 0; i < requests; i++) {
          await timed(app, get(`/tenants/${i % config.count}/items`, i), tenantMs, `tenant request ${i}`);
          await timed(hits, get('/_/hits', i), hitsMs, `hits listing ${i}`);
        }
      } finally {
        await app.close();
      }
      const skip = requests >= 2 * config.count ? config.count : 0;
      const t = tenantMs.slice(skip).sort((a, b) => a - b);
      const h = hitsMs.slice(skip).sort((a, b) => a - b);
      metrics.push({ name: `tenants: route median, ${label}`, value: round(median(t)), unit: 'ms' });
      metrics.push({ name: `tenants: route p99, ${label}`, value: round(percentile(t, 99)), unit: 'ms' });
      metrics.push({ name: `tenants: hits listing median, same run`, value: round(median(h)), unit: 'ms' });
      metrics.push({ name: `tenants: hits listing p99, same run`, value: round(percentile(h, 99)), unit: 'ms' });
      metrics.push({ name: `tenants: route / hits listing, median`, value: round(median(t) / median(h)), unit: '×', target: '≤ 1.5×' });
      say(`  ${label}: ${t.length} timed requests, ${app.pools.opened} pools opened`);
      return app;
    };

    try {
      await route(`${routeTenants} tenants round-robin, bound ${base.maxConnections} connections`, base);
      // The local server allows 100 connections (scripts/services.ts): keep room for the admin and hits sessions.
      const warm = Math.min(routeTenants, 80);
      await route(`${warm} tenants round-robin, every pool kept (bound ${warm})`, { ...base, count: warm, maxConnections: warm });

      let assumeRoles = 0;
      const assumeRole: AssumeRole = async (req) => {
        assumeRoles++;
        return { accessKeyId: `ASIABENCH${assumeRoles}`, secretAccessKey: 'bench', sessionToken: `token-${req.RoleSessionName}`, expiration: new Date(Date.now() + req.DurationSeconds * 1000) };
      };
      const iamConfig: TenantsConfig = {
        ...base,
        auth: 'iam',
        password: undefined,
        iam: { roleArn: 'arn:aws:iam::123456789012:role/tenant-access', partition: 'aws', account: '123456789012', region: 'eu-west-1', dbResourceId: 'prx-0123456789abcdef0', sessionSeconds: 3600 },
      };
      const iamApp = await route(`IAM path (signer + credentials cache), ${routeTenants} tenants, bound ${base.maxConnections}`, iamConfig, {
        assumeRole,
        adaptLogin: (configured) => (t) => ({ ...configured(t), options: async () => ({ user: (await configured(t).options()).user, password: PASSWORD }) }),
      });
      // Counted, not extrapolated: over a run shorter than the credentials' life, every call is a tenant's first.
      metrics.push({ name: `tenants: STS AssumeRole calls per ${requests} requests (${routeTenants} tenants)`, value: assumeRoles, unit: 'calls', target: `≤ ${routeTenants} (one per tenant per credential life)` });
      metrics.push({ name: `tenants: IAM tokens signed per ${requests} requests`, value: iamApp.tokens!.signed, unit: 'tokens' });
    } finally {
      await hits.close();
    }
  } finally {
    await db.destroy();
  }
  return metrics;
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive whole number, got "${process.argv[i + 1]}"`);
  return v;
}

if (require.main === module) {
  runTenantsBench({ tenants: arg('tenants'), rows: arg('rows'), routeTenants: arg('route-tenants'), requests: arg('requests') })
    .then((metrics) => {
      for (const m of metrics) console.log(`${m.name}: ${m.value} ${m.unit}${m.target ? `   target ${m.target}` : ''}`);
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}
