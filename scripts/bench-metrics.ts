/**
 * What the function's metrics cost (not a timed test): the `hits` bundle built as deployed, and again with
 * Powertools Metrics replaced by an empty stub, compared for size and for module load time in fresh node
 * processes (the cold-start cost); plus the time to build one request's EMF fields. The issue's budget for
 * the library: 50 KB of bundle and 10 ms of load.
 *
 * Also what Powertools Logger adds to the deployed bundle and what Tracer would add (`runPowertoolsBench`):
 * the handler bundled with the Logger stubbed out, as deployed, and with Tracer imported and instantiated as
 * a function using it would be, compared for size and load CPU in fresh node processes that look like
 * Lambda to Tracer.
 *
 *   npx tsx scripts/bench-metrics.ts      (also called by scripts/bench.ts)
 */
import { execFileSync } from 'child_process';
import { build, type Plugin } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { EmfWriter } from '../functions/lib/metrics';
import { bundleOptions, LAMBDA_RUNTIME } from '../modules/bundle';
import { median, type Metric } from './bench-stats';

const ROOT = path.resolve(__dirname, '..');
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

const STUB = `export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' };
export class Metrics { addDimensions() {} addMetric() {} serializeMetrics() { return {}; } clearMetrics() {} clearDimensions() {} }`;

/** Enough of the Logger's exports for the handler's module scope to load (it logs nothing while loading). */
const LOGGER_STUB = `export class LogFormatter {}\nexport class LogItem {}\nexport class Logger {}\n`;

/** An esbuild plugin that bundles `contents` in place of the package `name`. */
function stubOf(name: string, contents: string): Plugin {
  return {
    name: `stub-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`) }, () => ({ path: name, namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents, loader: 'js' }));
    },
  };
}

/** The `hits` handler bundled with `extra` module code appended (imports and instantiations of a library). */
async function bundleWith(extra: string, plugins: Plugin[] = []): Promise<string> {
  const handler = path.join(ROOT, 'functions/hits/handler.ts');
  const out = await build({
    ...bundleOptions(handler),
    entryPoints: undefined,
    plugins,
    stdin: { contents: `export * from ${JSON.stringify(handler)};\n${extra}`, resolveDir: ROOT, loader: 'ts', sourcefile: 'variant.ts' },
  });
  return out.outputFiles[0].text;
}

async function bundle(entry: string, stubbed: boolean): Promise<string> {
  const out = await build({ ...bundleOptions(path.join(ROOT, entry)), plugins: stubbed ? [stubOf('@aws-lambda-powertools/metrics', STUB)] : [] });
  return out.outputFiles[0].text;
}

/**
 * Median CPU ms (user + system) of `require(file)` in fresh node processes, the files alternating so drift
 * hits both alike. CPU time, not wall time: on a shared machine wall time mostly measures the neighbours.
 */
function loadTimes(files: string[], samples: number, extraEnv: Record<string, string> = {}): number[] {
  const env = { ...process.env, DB_HOST: 'db.example', DB_NAME: 'hits', DB_USER: 'hits', DB_AUTH: 'iam', AWS_REGION: 'eu-west-1', ...extraEnv };
  const times = files.map(() => [] as number[]);
  for (let i = 0; i < samples; i++) {
    files.forEach((file, j) => {
      const out = execFileSync(process.execPath, ['-e', `const c=process.cpuUsage();require(${JSON.stringify(file)});const d=process.cpuUsage(c);console.log((d.user+d.system)/1e3)`], { env });
      times[j].push(Number(out.toString().trim()));
    });
  }
  return times.map(median);
}

export async function runMetricsBench(): Promise<Metric[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-bench-metrics-'));
  try {
    const [real, stubbed] = await Promise.all([bundle('functions/hits/handler.ts', false), bundle('functions/hits/handler.ts', true)]);
    const realFile = path.join(dir, 'real.js');
    const stubFile = path.join(dir, 'stub.js');
    writeFileSync(realFile, real);
    writeFileSync(stubFile, stubbed);
    const [withMs, withoutMs] = loadTimes([realFile, stubFile], 25);

    const emf = new EmfWriter({ namespace: 'bench', service: 'bench' });
    const n = 20000;
    for (let i = 0; i < 1000; i++) emf.request({ route: 'list', status: 200, latencyMs: 1.2, dbMs: 0.4, cache: 'miss' });
    const t = performance.now();
    for (let i = 0; i < n; i++) emf.request({ route: 'list', status: 200, latencyMs: 1.2, dbMs: 0.4, cache: i % 2 ? 'hit' : 'miss' });
    const perRequestUs = ((performance.now() - t) * 1000) / n;

    return [
      { name: 'Powertools Metrics: bundle size it adds', value: round((Buffer.byteLength(real) - Buffer.byteLength(stubbed)) / 1024, 1), unit: 'KiB', target: '≤ 50 KB' },
      { name: 'module load CPU, with Powertools (median of 25)', value: round(withMs, 1), unit: 'ms' },
      { name: 'module load CPU, Powertools stubbed out (median of 25)', value: round(withoutMs, 1), unit: 'ms' },
      { name: 'Powertools Metrics: load CPU time it adds', value: round(withMs - withoutMs, 1), unit: 'ms', target: '≤ 10 ms' },
      { name: 'EMF fields of one request line (mean of 20,000)', value: round(perRequestUs, 1), unit: 'µs' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TRACER = `import { Tracer } from '@aws-lambda-powertools/tracer';\nexport const powertoolsTracer = new Tracer({ serviceName: 'hits' });\n`;

/**
 * Bundle size and module load CPU of the handler with Powertools Logger stubbed out, as deployed (with the
 * Logger), and as deployed plus Tracer (imported and constructed at module scope, as a handler using it
 * does); each compared with the one before. The load runs with Lambda's environment markers set, so Tracer
 * initialises as it would in Lambda (tracing enabled, the X-Ray SDK loaded and its HTTP capture installed).
 */
export async function runPowertoolsBench(samples = 15): Promise<Metric[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-bench-powertools-'));
  try {
    const variants = [
      { name: 'with Powertools Logger stubbed out', code: await bundleWith('', [stubOf('@aws-lambda-powertools/logger', LOGGER_STUB)]) },
      { name: 'as deployed', adds: 'Powertools Logger', code: await bundleWith('') },
      { name: 'as deployed plus Powertools Tracer', adds: 'Powertools Tracer', code: await bundleWith(TRACER) },
    ];
    const files = variants.map((v, i) => {
      const file = path.join(dir, `variant-${i}.js`);
      writeFileSync(file, v.code);
      return file;
    });
    const lambdaEnv = { AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME}`, AWS_LAMBDA_FUNCTION_NAME: 'hits-bench', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', LAMBDA_TASK_ROOT: dir, _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' };
    const loads = loadTimes(files, samples, lambdaEnv);
    const metrics: Metric[] = [];
    variants.forEach((v, i) => {
      metrics.push({ name: `hits bundle ${v.name}: size`, value: round(Buffer.byteLength(v.code) / 1024, 1), unit: 'KiB' });
      metrics.push({ name: `hits bundle ${v.name}: module load CPU (median of ${samples})`, value: round(loads[i], 1), unit: 'ms' });
      if (v.adds) {
        metrics.push({ name: `${v.adds}: bundle it adds`, value: round((Buffer.byteLength(v.code) - Buffer.byteLength(variants[i - 1].code)) / 1024, 1), unit: 'KiB' });
        metrics.push({ name: `${v.adds}: load CPU it adds`, value: round(loads[i] - loads[i - 1], 1), unit: 'ms' });
      }
    });
    return metrics;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // One after the other: load times measured side by side would measure each other.
  runMetricsBench()
    .then(async (metrics) => [...metrics, ...(await runPowertoolsBench())])
    .then((metrics) => {
      for (const m of metrics) console.log(`${m.name}: ${m.value} ${m.unit}${m.target ? ` (target ${m.target})` : ''}`);
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}
