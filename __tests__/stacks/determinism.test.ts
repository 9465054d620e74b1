import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Testing } from 'cdktf';
import { PROFILES } from '../../config';
import { buildApp } from '../../stacks';

const ROOT = path.resolve(__dirname, '../..');
/** The stack ids main.ts must write: every stack of every profile. */
const expectedIds = buildApp(Testing.app(), PROFILES)
  .flatMap((env) => Object.values(env).map((stack) => stack.node.id))
  .sort();

/** The app command of cdktf.json (main.ts compiled by scripts/run-app.cjs), as `cdktf synth` runs it. */
const APP_COMMAND: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')).app;

function synthTo(outdir: string, how: 'app command' | 'tsx', bundleCache?: string): Record<string, string> {
  // A clean environment: no state bucket configured.
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
  if (bundleCache) env.FUNCTION_BUNDLE_CACHE_DIR = bundleCache;
  delete env.TF_STATE_BUCKET;
  if (how === 'tsx') execFileSync(process.execPath, ['--require', 'tsx/cjs', 'main.ts'], { cwd: ROOT, env, stdio: 'pipe' });
  else execFileSync('sh', ['-c', APP_COMMAND], { cwd: ROOT, env, stdio: 'pipe' });
  const stacks = path.join(outdir, 'stacks');
  const files: Record<string, string> = {};
  for (const id of fs.readdirSync(stacks).sort()) {
    files[id] = fs.readFileSync(path.join(stacks, id, 'cdk.tf.json'), 'utf8');
    const assets = path.join(stacks, id, 'assets');
    if (fs.existsSync(assets)) {
      for (const zip of fs.readdirSync(assets, { recursive: true }).map(String).filter((f) => f.endsWith('.zip'))) {
        files[`${id}/${zip}`] = createHash('sha256').update(fs.readFileSync(path.join(assets, zip))).digest('hex');
      }
    }
  }
  return files;
}

test(`the app writes every profile's stacks (${expectedIds.length}); compiled or under tsx, warm or cold, byte-identical JSON and Lambda archives`, () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-b-'));
  const cold = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-'));
  try {
    const first = synthTo(a, 'app command');
    // main.ts straight from its TypeScript, with what a fresh clone has: no bundle cache, so esbuild and the
    // zip run again (other suites keep the shared cache). The compiled app must not differ from it.
    const second = synthTo(b, 'tsx', cold);
    expect(fs.readdirSync(cold).length).toBeGreaterThan(0);
    const ids = Object.keys(first).filter((k) => !k.includes('/'));
    expect(ids).toEqual(expectedIds);
    const functions = ids.reduce((n, id) => n + Object.keys(JSON.parse(first[id]).resource?.aws_lambda_function ?? {}).length, 0);
    expect(functions).toBeGreaterThan(0);
    expect(Object.keys(first).filter((k) => k.endsWith('.zip'))).toHaveLength(functions);
    for (const id of Object.keys(first)) expect(second[id] === first[id]).toBe(true);
    for (const text of Object.values(first)) expect(text).not.toContain(ROOT);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
    fs.rmSync(cold, { recursive: true, force: true });
  }
});
