/**
 * Tenants benchmark against a throw-away local MariaDB with TLS (127.0.0.1 only, a test CA):
 * 1. provisioning time for N tenants × M rows (default 1,000 × 1,000), as the deploy-time step runs it
 *    (one connection, batches of 1,000 rows);
 * 2. the route's latency (median, p99) in three configurations, each one execution environment serving
 *    requests one after another as Lambda does:
 *    - as deployed: R tenants round-robin (default 200) with the default bound of 8 connections, so nearly
 *      every request opens a pool; TLS with the certificate checked; the IAM path (credentials cache, the
 *      real token signer, the clear-text plugin's token; AssumeRole answered in-process, and the last step
 *      logs in with a password, since MariaDB has no AWSAuthenticationPlugin);
 *    - plain: the same without TLS and IAM (a password login);
 *    - warm: 70 tenants with every pool kept, TLS and the IAM path;
 *    beside a `hits` listing (GET /_/hits, pooled, cache off) and the route's statement alone on an open
 *    connection. One round makes one request of each, so every figure sees the same machine load, and the
 *    differences of medians say where a request that opens a pool spends its time;
 * 3. alone, for what those differences cannot show: connecting, TLS with the environment's one TLS context
 *    (a resumed session) against a new context per connection (what each tenant pool built before), and
 *    signing a token;
 * 4. STS calls and tokens signed over the runs;
 * 5. the heap the refusal memory (functions/tenants/refusals.ts) holds at its bound, with entries as a refused
 *    login writes them.
 *
 * `npm run bench` (scripts/bench.ts, section `tenants`) calls runTenantsBench; alone:
 *   npx tsx scripts/bench-tenants.ts [--tenants N] [--rows M] [--route-tenants R] [--requests Q] [--samples S] (--help says more)
 */
import { readFileSync, rmSync } from 'fs';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { createConnection, type ConnectionOptions } from 'mysql2/promise';
import { passwordAuth } from '../functions/migrate/runner';
import { provisionTenants } from '../functions/migrate/tenants';
import { createTenantsApp, ITEMS_PER_RESPONSE, RANDOM_ITEMS, type TenantsAppOptions } from '../functions/tenants/app';
import type { TenantsConfig } from '../functions/tenants/config';
import type { AssumeRole } from '../functions/tenants/credentials';
import { MAX_REMEMBERED_REFUSALS, RefusalMemory } from '../functions/tenants/refusals';
import { DbAuthError } from '../functions/lib/db-errors';
import { errorFields } from '../functions/lib/log';
import { createHitsApp } from '../functions/hits/app';
import { loadConfig } from '../functions/lib/config';
import { connectionBase, signRdsToken, tlsOptions } from '../functions/lib/credentials';
import type { HttpEvent, HttpResult } from '../functions/lib/http';
import { median, type Metric } from './bench-stats';
import { MariaDb, makeCerts, migrateLocalDatabase, tempDir } from './services';
import { passwordAfterIam } from './tenant-logins';
import { decimal, parseCommandLine, PROCESS_IO, runCommand, type CommandSpec } from '../tools/command-line';
import { DEFAULT_TENANT_PREFIX, tenantName } from '../contracts';

export interface TenantsBenchOptions {
  /** Tenants provisioned. @default 1000 */
  readonly tenants?: number;
  /** Rows per tenant. @default 1000 */
  readonly rows?: number;
  /** Tenants requested round-robin. @default 200 */
  readonly routeTenants?: number;
  /** Requests per latency run (tenant route; as many hits listings interleaved). @default 10000 */
  readonly requests?: number;
  /** Samples of each part of the budget. @default 500 */
  readonly samples?: number;
  /** Progress lines (the figures come back as metrics). @default console.log */
  readonly say?: (line: string) => void;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const PASSWORD = 'bench-tenant-password';
/**
 * Tenants whose pools are all kept in the warm configuration. The local server allows 100 connections
 * (scripts/services.ts): the two bound-8 configurations, the hits function, the statement's own connection
 * and the admin session need the rest.
 */
const WARM_TENANTS = 70;

const get = (path: string, i: number): HttpEvent => ({ rawPath: path, headers: { accept: 'application/json' }, requestContext: { requestId: `b${i}`, http: { method: 'GET', path } } });

/** Median of `n` timed runs of `f`, after a few untimed ones. */
async function timed(n: number, f: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 10; i++) await f();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await f();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

/** Heap bytes still held by what `build` returns, after full collections: the median of 5 builds. */
function heldBytes(build: () => unknown): number {
  // The collector on demand, without starting node with --expose-gc.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const held: number[] = [];
  // Reachable from outside the loop, so the collector cannot take what is being measured.
  const kept: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    kept.length = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    kept.push(build());
    gc();
    held.push(process.memoryUsage().heapUsed - before);
  }
  return median(held);
}

/** The refusal memory full, each entry what a refused login leaves: its log fields with MySQL's message. */
function fullRefusalMemory(): RefusalMemory {
  const memory = new RefusalMemory();
  for (let t = 0; t < MAX_REMEMBERED_REFUSALS; t++) {
    const refused = Object.assign(new Error(`Access denied for user '${tenantName(DEFAULT_TENANT_PREFIX, t)}'@'10.0.1.23' (using password: YES)`), { code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 });
    memory.remember(t, { fields: errorFields(new DbAuthError(refused)), propagation: false });
  }
  return memory;
}

/** Provisioning, the route beside the hits listing, the budget of a pool opening, STS calls; see the file comment. */
export async function runTenantsBench(options: TenantsBenchOptions = {}): Promise<Metric[]> {
  const tenants = options.tenants ?? 1000;
  const rows = options.rows ?? 1000;
  const routeTenants = options.routeTenants ?? 200;
  const requests = options.requests ?? 10000;
  const samples = options.samples ?? 500;
  const say = options.say ?? ((line: string) => console.log(line));
  const metrics: Metric[] = [];
  const dir = tempDir('tenants-bench-');
  const certs = await makeCerts(dir);
  const db = await MariaDb.start({ tls: certs });
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

    let assumeRoles = 0;
    const assumeRole: AssumeRole = async (req) => {
      assumeRoles++;
      return { accessKeyId: `ASIABENCH${assumeRoles}`, secretAccessKey: 'bench', sessionToken: `token-${req.RoleSessionName}`, expiration: new Date(Date.now() + req.DurationSeconds * 1000) };
    };
    /** The whole IAM path (STS cache, signer, the plugin's token) up to the login, which uses the password. */
    const iamPath: TenantsAppOptions = {
      assumeRole,
      adaptLogin: passwordAfterIam(PASSWORD),
    };
    const db8 = { host: db.host, port: db.port, tls: 'verify' as const, ca: readFileSync(certs.caFile, 'utf8'), connectTimeoutMs: 3000, idleRebuildMs: 1_800_000, requestBudgetMs: 8000 };
    const deployed: TenantsConfig = {
      count: routeTenants,
      prefix: DEFAULT_TENANT_PREFIX,
      auth: 'iam',
      iam: { roleArn: 'arn:aws:iam::123456789012:role/tenant-access', partition: 'aws', account: '123456789012', region: 'eu-west-1', dbResourceId: 'prx-0123456789abcdef0', sessionSeconds: 3600 },
      db: db8,
      maxConnections: 8,
    };

    const warmTenants = Math.min(routeTenants, WARM_TENANTS);
    const runs = [
      { key: 'deployed', label: `${routeTenants} tenants, bound ${deployed.maxConnections}, TLS + IAM path (as deployed)`, config: deployed, options: iamPath },
      { key: 'plain', label: `${routeTenants} tenants, bound ${deployed.maxConnections}, no TLS, password`, config: { ...deployed, auth: 'password', iam: undefined, password: PASSWORD, db: { ...db8, tls: 'off', ca: undefined } } as TenantsConfig, options: {} },
      { key: 'warm', label: `${warmTenants} tenants, every pool kept (bound ${warmTenants}), TLS + IAM path`, config: { ...deployed, count: warmTenants, maxConnections: warmTenants }, options: iamPath },
    ] as const;
    const apps = runs.map((r) => createTenantsApp(r.config, { log: () => undefined, ...r.options }));
    const user = (t: number) => tenantName(DEFAULT_TENANT_PREFIX, t);
    // The statement alone, over TLS, as a user that may read every tenant's table.
    const held = await createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw', ssl: connectionBase(db8).ssl });
    // Interleaved, so that every figure sees the same machine load: in each round one request to each
    // configuration, one hits listing, and the route's statement alone on an open connection.
    const ms: Record<(typeof runs)[number]['key'] | 'hits' | 'statement', number[]> = { deployed: [], plain: [], warm: [], hits: [], statement: [] };
    const time = async (into: number[], what: string, call: () => Promise<HttpResult | void>) => {
      const started = performance.now();
      const res = await call();
      into.push(performance.now() - started);
      if (res && res.statusCode !== 200) throw new Error(`${what} answered ${res.statusCode}: ${res.body}`);
    };
    try {
      for (let i = 0; i < requests; i++) {
        for (const [n, r] of runs.entries()) await time(ms[r.key], `${r.label}, request ${i}`, () => apps[n].handler(get(`/tenants/${i % r.config.count}/items`, i)));
        await time(ms.hits, `hits listing ${i}`, () => hits.handler(get('/_/hits', i)));
        const t = i % routeTenants;
        await time(ms.statement, 'statement', async () => void (await held.query({ sql: RANDOM_ITEMS, values: [user(t), ITEMS_PER_RESPONSE] })));
      }
    } finally {
      await held.end();
      await hits.close();
      await Promise.all(apps.map((a) => a.close()));
    }
    // The first round is every tenant's cold start (STS, a token): left out.
    const settled = (xs: number[], tenantsInRun: number) => xs.slice(requests >= 2 * tenantsInRun ? tenantsInRun : 0).sort((a, b) => a - b);
    const med: Record<string, number> = {};
    for (const r of runs) {
      const t = settled(ms[r.key], r.config.count);
      const h = settled(ms.hits, r.config.count);
      med[r.key] = median(t);
      metrics.push({ name: `tenants: route median, ${r.label}`, value: round(median(t)), unit: 'ms' });
      metrics.push({ name: `tenants: route p99, ${r.label}`, value: round(percentile(t, 99)), unit: 'ms' });
      metrics.push({ name: `tenants: route / hits listing, median (${r.key})`, value: round(median(t) / median(h)), unit: '×', target: '≤ 1.5×' });
    }
    const h = settled(ms.hits, routeTenants);
    metrics.push({ name: 'tenants: hits listing median, same runs', value: round(median(h)), unit: 'ms' });
    metrics.push({ name: 'tenants: hits listing p99, same runs', value: round(percentile(h, 99)), unit: 'ms' });
    say(`  ${requests} rounds; pools opened: ${runs.map((r, n) => `${r.key} ${apps[n].pools.opened}`).join(', ')}`);
    // Counted, not extrapolated: over a run shorter than the credentials' life, every call is a tenant's first.
    metrics.push({ name: `tenants: STS AssumeRole calls per ${requests} requests (${routeTenants} + ${warmTenants} tenants, two apps)`, value: assumeRoles, unit: 'calls', target: `≤ ${routeTenants + warmTenants} (one per tenant per credential life)` });
    metrics.push({ name: `tenants: IAM tokens signed per ${requests} requests (as deployed)`, value: apps[0].tokens!.signed, unit: 'tokens', target: `${routeTenants} (one per tenant per 10 minutes)` });

    // 3. Where a request that opens a pool spends its time, from the interleaved medians.
    const statement = median(settled(ms.statement, routeTenants));
    const parts: Array<[string, number]> = [
      ["the statement (ORDER BY RAND() LIMIT 5 over the tenant's rows)", statement],
      ['the route around it (handler, pool lookup, cached token, log line): warm route minus the statement', med.warm - statement],
      ['closing the evicted pool and connecting, no TLS: plain minus warm', med.plain - med.warm],
      ['TLS (the one context, session resumed) and the IAM login (cached token): as deployed minus plain', med.deployed - med.plain],
    ];
    for (const [part, value] of parts) metrics.push({ name: `tenants: opening a pool: ${part}`, value: round(value), unit: 'ms' });

    // Alone, for what the medians above cannot show.
    const plain: ConnectionOptions = { host: db.host, port: db.port, user: user(0), password: PASSWORD, charset: 'UTF8MB4_UNICODE_CI' };
    const connectAndClose = await timed(samples, async () => (await createConnection(plain)).end());
    const sharedTls = await timed(samples, async () => (await createConnection({ ...plain, ssl: connectionBase(db8).ssl })).end());
    // tlsOptions builds a new object per call: a new TLS context per connection, and no session to resume.
    const newContextTls = await timed(Math.min(samples, 200), async () => (await createConnection({ ...plain, ssl: tlsOptions(db8) })).end());
    const credentials = { accessKeyId: 'ASIABENCH', secretAccessKey: 'bench', sessionToken: 'bench-session' };
    const sign = await timed(samples, async () => void (await signRdsToken({ hostname: db.host, port: db.port, username: user(0), region: 'eu-west-1', credentials })));
    metrics.push({ name: 'tenants: alone: connect and close, no TLS', value: round(connectAndClose), unit: 'ms' });
    metrics.push({ name: 'tenants: alone: TLS on top, the one context, session resumed (now)', value: round(sharedTls - connectAndClose), unit: 'ms' });
    metrics.push({ name: 'tenants: alone: TLS on top, a new context per connection (each pool, before)', value: round(newContextTls - connectAndClose), unit: 'ms' });
    metrics.push({ name: 'tenants: alone: signing a token (a cache miss, once per tenant per 10 min)', value: round(sign), unit: 'ms' });

    const memoryBytes = heldBytes(fullRefusalMemory);
    metrics.push({ name: `tenants: refusal memory at its bound (${MAX_REMEMBERED_REFUSALS} tenants), heap`, value: round(memoryBytes / 2 ** 20), unit: 'MiB' });
    metrics.push({ name: 'tenants: refusal memory, heap per remembered tenant', value: Math.round(memoryBytes / MAX_REMEMBERED_REFUSALS), unit: 'bytes' });
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}

const BENCH_TENANTS_COMMAND = {
  name: 'npx tsx scripts/bench-tenants.ts',
  synopsis: ['npx tsx scripts/bench-tenants.ts [options]'],
  options: {
    tenants: { type: 'string', value: '<n>', help: 'tenants provisioned, each with --rows rows (default: 1000)' },
    rows: { type: 'string', value: '<n>', help: 'rows per tenant (default: 1000)' },
    'route-tenants': { type: 'string', value: '<n>', help: 'tenants the route rounds go through (default: 200)' },
    requests: { type: 'string', value: '<n>', help: 'requests per round (default: 10000)' },
    samples: { type: 'string', value: '<n>', help: 'samples of each connection step (default: 500)' },
  },
  epilogue: ['npm run bench -- tenants runs it with the defaults (BENCH_TENANTS, BENCH_TENANT_ROWS change the first two)'],
} as const satisfies CommandSpec;

if (require.main === module) {
  const argv = process.argv.slice(2);
  void runCommand(BENCH_TENANTS_COMMAND, argv, PROCESS_IO, async () => {
    const { values } = parseCommandLine(BENCH_TENANTS_COMMAND, argv);
    const whole = (name: keyof typeof BENCH_TENANTS_COMMAND.options) => (values[name] === undefined ? undefined : decimal(name, values[name]!, { min: 1, max: 10_000_000, integer: true }));
    const options = { tenants: whole('tenants'), rows: whole('rows'), routeTenants: whole('route-tenants'), requests: whole('requests'), samples: whole('samples') };
    for (const m of await runTenantsBench(options)) console.log(`${m.name}: ${m.value} ${m.unit}${m.target ? `   target ${m.target}` : ''}`);
    return 0;
  }).then((code) => (process.exitCode = code));
}
