/**
 * `npm run bench`: synth time and memory, then both engines side by side (scripts/bench-engines.ts), then
 * the function's benchmarks (scripts/bench-function.ts), then the tenants' (scripts/bench-tenants.ts), then
 * the load harness's ceiling (scripts/bench-load.ts).
 * `npm run bench -- <section>` runs one section: synth, engines, metrics, function, tenants or load.
 * Medians of several runs; targets are printed beside each figure, never asserted in tests.
 * Everything runs on this machine and talks only to 127.0.0.1, but for the engines section's first install of
 * the other engine (`npm ci` from the npm registry), which later runs take from the engine cache.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { activeEngine } from '../tools/engine/engines';
import { measure } from './bench-process';
import { median, type Metric } from './bench-stats';

const ROOT = path.resolve(__dirname, '..');

async function benchSynth(label: string, command: string, args: string[], runs: number, timeTarget?: string, memTarget?: string): Promise<Metric[]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
  delete env.TF_STATE_BUCKET;
  const results = [];
  try {
    await measure(command, args, { cwd: ROOT, env }); // warm the file cache and the esbuild binary
    for (let i = 0; i < runs; i++) results.push(await measure(command, args, { cwd: ROOT, env }));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  const metrics: Metric[] = [{ name: `${label}: wall time (median of ${runs})`, value: median(results.map((r) => r.seconds)), unit: 's', target: timeTarget }];
  metrics.push({ name: `${label}: peak RSS (median of ${runs})`, value: median(results.map((r) => r.peakMb)), unit: 'MB', target: memTarget });
  return metrics;
}

/** How many stacks main.ts writes: every stack of every profile, whatever the profiles are. */
function countStacks(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Testing } = require('cdktf') as typeof import('cdktf');
  const { buildApp } = require('../stacks') as typeof import('../stacks');
  const { PROFILES } = require('../config') as typeof import('../config');
  return buildApp(Testing.app(), PROFILES).reduce((n, env) => n + Object.keys(env).length, 0);
}

function print(metrics: Metric[]): void {
  for (const m of metrics) {
    const value = m.unit === 's' ? m.value.toFixed(2) : m.unit === 'MB' ? m.value.toFixed(0) : String(Math.round(m.value * 100) / 100);
    console.log(`${m.name.padEnd(64)} ${`${value} ${m.unit}`.padStart(14)}${m.target ? `   target ${m.target}` : ''}`);
  }
}

async function main(): Promise<void> {
  const only = process.argv[2];
  console.log(`bench on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  if (!only || only === 'synth') {
    const stacks = countStacks();
    // Interleaved in one run, so both see the same machine load.
    // The baseline runs under tsx too (cdktf's own template uses ts-node, which is slower still).
    const naive = await benchSynth('naive 2-stack app (provider root import, tsx)', process.execPath, ['--require', 'tsx/cjs', 'scripts/bench-naive-app.ts'], 3);
    // The command `npm run synth` runs (package.json), without npm's own start-up.
    const synthCommand: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.synth;
    const ours = await benchSynth(`npm run synth: ${synthCommand} (${stacks} stacks)`, 'sh', ['-c', synthCommand], 5, undefined, '≤ 350 MB');
    const cliCommand = activeEngine(ROOT).command;
    const cli = await benchSynth(`npx ${cliCommand} synth (CLI + app, ${stacks} stacks)`, 'npx', [cliCommand, 'synth'], 3);
    const ratio = naive[0].value / ours[0].value;
    const cliExtra = cli[0].value - ours[0].value;
    print([
      ...naive,
      ...ours,
      { name: 'synth speed-up: naive 2-stack app time / npm run synth time', value: ratio, unit: '×', target: '≥ 6×' },
      ...cli,
      { name: `npx ${cliCommand} synth minus npm run synth`, value: cliExtra, unit: 's', target: '≤ 1.5 s' },
    ]);
  }
  if (!only || only === 'engines') {
    const { runEnginesBench } = await import('./bench-engines');
    print(await runEnginesBench({ say: (line) => console.log(line) }));
  }
  if (!only || only === 'metrics') {
    const { runMetricsBench, runPowertoolsBench } = await import('./bench-metrics');
    print(await runMetricsBench());
    print(await runPowertoolsBench());
  }
  if (!only || only === 'function') {
    const { runFunctionBench } = await import('./bench-function');
    print(await runFunctionBench());
  }
  if (!only || only === 'tenants') {
    const { runTenantsBench } = await import('./bench-tenants');
    // 1,000 × 1,000 provisioned in under a minute on a shared 2-core machine (2026-12-01), so the full size is the default.
    const tenants = Number(process.env.BENCH_TENANTS ?? 1000);
    const rows = Number(process.env.BENCH_TENANT_ROWS ?? 1000);
    console.log(`tenants: provisioning ${tenants} tenants × ${rows} rows (BENCH_TENANTS, BENCH_TENANT_ROWS change it), then 200 tenants round-robin`);
    print(await runTenantsBench({ tenants, rows, routeTenants: 200, requests: 10000, say: (line) => console.log(line) }));
  }
  if (!only || only === 'load') {
    const { runLoadBench } = await import('./bench-load');
    print(await runLoadBench({ say: (line) => console.log(line) }));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
