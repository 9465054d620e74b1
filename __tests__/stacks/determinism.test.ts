import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

function synthTo(outdir: string): Record<string, string> {
  // The real entry point, as `cdktf synth` runs it, with a clean environment (no state bucket configured).
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
  delete env.TF_STATE_BUCKET;
  execFileSync(process.execPath, [require.resolve('tsx/cli'), 'main.ts'], { cwd: ROOT, env, stdio: 'pipe' });
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

/** What a fresh clone looks like to the bundler: the same code, written at another time. */
function ageBundles(): void {
  const root = path.join(ROOT, '.build', 'functions');
  for (const dir of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    const file = path.join(root, dir, 'index.js');
    if (fs.existsSync(file)) fs.utimesSync(file, new Date(), new Date());
  }
}

test('main.ts writes every stack; synthesizing twice gives byte-identical JSON and Lambda archives', () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-b-'));
  try {
    const first = synthTo(a);
    ageBundles();
    const second = synthTo(b);
    expect(Object.keys(first).filter((k) => !k.includes('/'))).toEqual(['api-dev', 'api-prod', 'data-dev', 'data-prod', 'network-dev', 'network-prod', 'ops-dev', 'ops-prod']);
    // Per environment: the hits function (api) and the prune (ops).
    expect(Object.keys(first).filter((k) => k.endsWith('archive.zip'))).toHaveLength(4);
    for (const id of Object.keys(first)) expect(second[id] === first[id]).toBe(true);
    for (const text of Object.values(first)) expect(text).not.toContain(ROOT);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});
