/**
 * Benchmarks of the `hits` function (not timed tests): bundle size, module load time, pooled vs
 * connect-per-request throughput, and GET /_/hits latency from the cache vs the database on a
 * table of 100,000 hits. Starts its own MariaDB and memcached (scripts/services.ts).
 *
 *   npx tsx scripts/bench-function.ts      (also called by scripts/bench.ts via runFunctionBench)
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { createHitsApp, type HitsApp } from '../functions/hits/app';
import { loadConfig } from '../functions/lib/config';
import type { HttpEvent } from '../functions/lib/http';
import { bundleFunction } from '../modules/bundle';
import { median, type Metric } from './bench-stats';
import { migrateLocalDatabase, startLocalServices, type LocalServices } from './services';

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const quiet = () => undefined;

function ev(method: string, rawPath: string): HttpEvent {
  return { version: '2.0', rawPath, headers: {}, requestContext: { requestId: 'bench', http: { method, path: rawPath } } };
}

/** Requests per second of one environment (invocations run one after another, as Lambda does). */
async function throughput(app: Pick<HitsApp, 'handler'>, seconds: number, fixedPath?: string): Promise<number> {
  for (let i = 0; i < 20; i++) await app.handler(ev('GET', fixedPath ?? `/warm/${i}`)); // warm-up
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const r = await app.handler(ev('GET', fixedPath ?? `/bench/${n}`));
    if (r.statusCode !== 200) throw new Error(`bench request failed: ${r.statusCode} ${r.body}`);
    n++;
  }
  return n / seconds;
}

async function latencies(app: HitsApp, n: number, expectCache: string): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n + 10; i++) {
    const t = performance.now();
    const r = await app.handler(ev('GET', '/_/hits'));
    const ms = performance.now() - t;
    if (JSON.parse(r.body).cache !== expectCache && i >= 10) throw new Error(`expected cache ${expectCache}, got ${r.body.slice(-20)}`);
    if (i >= 10) xs.push(ms);
  }
  return median(xs);
}

export async function runFunctionBench(): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-bench-'));
  let services: LocalServices | undefined;
  try {
    // 1. Bundle size (the artifact the stacks deploy).
    const { code } = bundleFunction('functions/hits/handler.ts');
    const bundleFile = path.join(dir, 'index.js');
    writeFileSync(bundleFile, code);
    metrics.push({ name: 'function bundle size (minified)', value: round(Buffer.byteLength(code) / 1024 / 1024), unit: 'MiB', target: '≤ 1.5 MiB' });

    // 2. Module load time: a fresh node process per sample, timing require() of the bundle (cold start cost).
    const env = { ...process.env, DB_HOST: 'db.example', DB_NAME: 'hits', DB_USER: 'hits', DB_AUTH: 'iam', AWS_REGION: 'eu-west-1' };
    const loads: number[] = [];
    for (let i = 0; i < 9; i++) {
      const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(bundleFile)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { env });
      loads.push(Number(out.toString().trim()));
    }
    metrics.push({ name: 'function module load time (median of 9)', value: round(median(loads), 1), unit: 'ms', target: '≤ 150 ms' });

    // 3. Throughput: the pooled handler vs the same code connecting per request.
    services = await startLocalServices();
    // As deployed: the schema from the migrations, the function as the application user they create.
    const appEnv = { ...services.env, ...(await migrateLocalDatabase(services.db)).env };
    const noCache = { ...appEnv, CACHE_NODES: '' };
    const pooled = createHitsApp(loadConfig(noCache), { log: quiet });
    // Connect per request: the same app code, built for each request and closed after it, so every
    // request opens (and authenticates) its own connection, as a handler without a module-scope pool does.
    const perRequest = {
      handler: async (e: HttpEvent) => {
        const app = createHitsApp(loadConfig(noCache), { log: quiet });
        try {
          return await app.handler(e);
        } finally {
          await app.close();
        }
      },
    };
    const pooledRps: number[] = [];
    const perRequestRps: number[] = [];
    for (let round_ = 0; round_ < 3; round_++) {
      pooledRps.push(await throughput(pooled, 2));
      perRequestRps.push(await throughput(perRequest, 2));
    }
    const p = median(pooledRps);
    const c = median(perRequestRps);
    metrics.push({ name: 'handler throughput, pooled connection (record route, median of 3 x 2 s)', value: Math.round(p), unit: 'req/s' });
    metrics.push({ name: 'handler throughput, connect per request (same code)', value: Math.round(c), unit: 'req/s' });
    metrics.push({ name: 'throughput ratio pooled / connect-per-request, record route', value: round(p / c, 1), unit: 'x', target: '≥ 8×' });
    // The same comparison on the lightest database route (one indexed read of hits), closest to the original pattern's request.
    const hp: number[] = [];
    const hc: number[] = [];
    for (let round_ = 0; round_ < 3; round_++) {
      hp.push(await throughput(pooled, 1, '/_/health'));
      hc.push(await throughput(perRequest, 1, '/_/health'));
    }
    metrics.push({ name: 'handler throughput, pooled connection (GET /_/health, median of 3 x 1 s)', value: Math.round(median(hp)), unit: 'req/s' });
    metrics.push({ name: 'handler throughput, connect per request (GET /_/health)', value: Math.round(median(hc)), unit: 'req/s' });
    metrics.push({ name: 'throughput ratio pooled / connect-per-request, GET /_/health', value: round(median(hp) / median(hc), 1), unit: 'x', target: '≥ 8×' });

    // 4. GET /_/hits on 100,000 hits: cache hit vs database.
    const admin = await services.db.admin();
    await admin.query('TRUNCATE TABLE hits.hits');
    const batch = 2000;
    for (let i = 0; i < 100_000; i += batch) {
      const rows = Array.from({ length: batch }, (_, j) => [`/filler/${i + j}`, 'GET', '2026-01-01 00:00:00.000']);
      await admin.query('INSERT INTO hits.hits (path, method, created_at) VALUES ?', [rows]);
    }
    const cached = createHitsApp(loadConfig(appEnv), { log: quiet });
    await cached.handler(ev('GET', '/_/hits')); // fill the cache
    const dbMs = await latencies(pooled, 300, 'off');
    const cacheMs = await latencies(cached, 300, 'hit');
    metrics.push({ name: 'GET /_/hits latency from the database (100,000 hits, median)', value: round(dbMs, 3), unit: 'ms' });
    metrics.push({ name: 'GET /_/hits latency from the cache (median)', value: round(cacheMs, 3), unit: 'ms' });
    metrics.push({ name: 'GET /_/hits speed-up cache / database', value: round(dbMs / cacheMs, 1), unit: 'x', target: '≥ 5×' });
    await Promise.all([pooled.close(), cached.close()]);
  } finally {
    await services?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}

if (require.main === module) {
  const started = Date.now();
  runFunctionBench()
    .then((metrics) => {
      for (const m of metrics) console.log(`${m.name}: ${m.value} ${m.unit}${m.target ? ` (target ${m.target})` : ''}`);
      console.log(`(function benchmark took ${Math.round((Date.now() - started) / 1000)} s)`);
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}
