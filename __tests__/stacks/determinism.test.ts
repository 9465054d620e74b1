import { execFileSync } from 'child_process';
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
  for (const id of fs.readdirSync(stacks).sort()) files[id] = fs.readFileSync(path.join(stacks, id, 'cdk.tf.json'), 'utf8');
  return files;
}

test('main.ts writes six stacks, and synthesizing twice gives byte-identical JSON', () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-b-'));
  try {
    const first = synthTo(a);
    const second = synthTo(b);
    expect(Object.keys(first)).toEqual(['api-dev', 'api-prod', 'data-dev', 'data-prod', 'network-dev', 'network-prod']);
    for (const id of Object.keys(first)) expect(second[id] === first[id]).toBe(true);
    for (const text of Object.values(first)) expect(text).not.toContain(ROOT);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});
