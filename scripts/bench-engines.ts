/**
 * `npm run bench -- engines`: cdktf and CDK Terrain side by side in one run. This checkout runs one engine;
 * a copy of it is switched to the other (tools/engine: node_modules from the engine cache, or `npm ci`, which
 * needs the npm registry the first time). For each: `npm run synth` (the app alone) wall time and peak RSS,
 * the CLI's synth (`cdktf synth` / `cdktn synth`: CLI + app) and its start alone (`--version`), and the size
 * of node_modules. Runs alternate between the engines, so both see the same machine load. Medians.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { activeEngine, Engine, ENGINE_NAMES, ENGINES } from '../tools/engine/engines';
import { provideNodeModules } from '../tools/engine/install';
import { switchFiles } from '../tools/engine/switch';
import { copyCheckout } from '../tools/engine/workspace';
import { measure } from './bench-process';
import { median, type Metric } from './bench-stats';

const ROOT = path.resolve(__dirname, '..');

/** Apparent size (bytes) and file count of a directory tree; symbolic links are not followed. */
export function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const pending = [dir];
  while (pending.length) {
    const current = pending.pop()!;
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) {
        bytes += fs.lstatSync(full).size;
        files += 1;
      }
    }
  }
  return { bytes, files };
}

interface Side {
  readonly engine: Engine;
  readonly dir: string;
  readonly out: string;
}

export async function runEnginesBench(options: { say: (line: string) => void; runs?: number; cliRuns?: number }): Promise<Metric[]> {
  const runs = options.runs ?? 5;
  const cliRuns = options.cliRuns ?? 3;
  const here = activeEngine(ROOT);
  const other = ENGINES[ENGINE_NAMES.find((name) => name !== here.name)!];
  const copy = copyCheckout(ROOT, 'bench-engines-');
  const outs = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-engines-out-'));
  try {
    switchFiles(copy, other.name);
    const started = Date.now();
    const how = provideNodeModules(copy);
    options.say(`engines: ${other.title}'s node_modules for the copy ${how === 'cached' ? 'copied from the cache' : 'installed with npm ci'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const sides: Side[] = [here, other].map((engine) => ({ engine, dir: engine === here ? ROOT : copy, out: path.join(outs, engine.name) }));
    const env = (out: string): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: '1' };
      delete e.TF_STATE_BUCKET;
      return e;
    };
    const synthCommand: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.synth;
    const cli = (side: Side) => path.join(side.dir, 'node_modules', '.bin', side.engine.command);
    type Sample = { seconds: number; peakMb: number };
    const samples = new Map<string, Sample[]>();
    const record = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
    // Warm each side once (file cache, the compiled app in .build/, the function bundles), then alternate.
    for (const side of sides) await measure('sh', ['-c', synthCommand], { cwd: side.dir, env: env(side.out) });
    for (let i = 0; i < runs; i++) {
      for (const side of sides) record(`${side.engine.name} synth`, await measure('sh', ['-c', synthCommand], { cwd: side.dir, env: env(side.out) }));
    }
    for (let i = 0; i < cliRuns; i++) {
      for (const side of sides) {
        record(`${side.engine.name} cli`, await measure(cli(side), ['synth', '--output', `${side.out}-cli`], { cwd: side.dir, env: env(side.out) }));
        record(`${side.engine.name} version`, await measure(cli(side), ['--version'], { cwd: side.dir, env: env(side.out) }));
      }
    }
    const metrics: Metric[] = [];
    const mid = (key: string, field: keyof Sample) => median(samples.get(key)!.map((s) => s[field]));
    for (const side of sides) {
      const name = side.engine.name;
      metrics.push(
        { name: `${name}: npm run synth (${synthCommand}) wall time, median of ${runs}`, value: mid(`${name} synth`, 'seconds'), unit: 's' },
        { name: `${name}: npm run synth peak RSS, median of ${runs}`, value: mid(`${name} synth`, 'peakMb'), unit: 'MB', target: '≤ 350 MB' },
        { name: `${name}: ${side.engine.command} synth (CLI + app) wall time, median of ${cliRuns}`, value: mid(`${name} cli`, 'seconds'), unit: 's' },
        { name: `${name}: ${side.engine.command} synth peak RSS, median of ${cliRuns}`, value: mid(`${name} cli`, 'peakMb'), unit: 'MB' },
        { name: `${name}: ${side.engine.command} synth minus npm run synth (the CLI's own cost)`, value: mid(`${name} cli`, 'seconds') - mid(`${name} synth`, 'seconds'), unit: 's', target: '≤ 1.5 s' },
        { name: `${name}: ${side.engine.command} --version (the CLI's start alone), median of ${cliRuns}`, value: mid(`${name} version`, 'seconds'), unit: 's' },
      );
    }
    for (const side of sides) {
      // What npm ci installs: without the function bundle cache the synth keeps in node_modules/.cache.
      const all = treeSize(path.join(side.dir, 'node_modules'));
      const built = fs.existsSync(path.join(side.dir, 'node_modules', '.cache')) ? treeSize(path.join(side.dir, 'node_modules', '.cache')) : { bytes: 0, files: 0 };
      const installed = { bytes: all.bytes - built.bytes, files: all.files - built.files };
      metrics.push({ name: `${side.engine.name}: installed node_modules (${installed.files.toLocaleString('en-US')} files)`, value: installed.bytes / 2 ** 20, unit: 'MB' });
      for (const role of ['provider', 'cli', 'library'] as const) {
        const pkg = path.join(side.dir, 'node_modules', side.engine[role]);
        metrics.push({ name: `${side.engine.name}:   of which ${side.engine[role]}`, value: treeSize(pkg).bytes / 2 ** 20, unit: 'MB' });
      }
    }
    return metrics;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
    fs.rmSync(outs, { recursive: true, force: true });
  }
}
