/**
 * The README's first command, `npm run cdktf -- synth` (`npm run cdktn -- synth` under CDK Terrain: the engine
 * table says which): the real CLI, offline, quiet. Plain `npx cdktf synth` asks HashiCorp's checkpoint service
 * for the latest version and, offline, prints `getaddrinfo ENOTFOUND checkpoint-api…`; the npm script sets
 * CHECKPOINT_DISABLE so it never asks (CDK Terrain's CLI honours the same variable).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { PROFILES } from '../../config';
import { buildApp } from '../../stacks';
import { activeEngine } from '../../tools/engine/engines';

const ROOT = path.resolve(__dirname, '../..');
const CLI = activeEngine(ROOT).command;

test(`npm run ${CLI} -- synth writes every stack with no checkpoint lookup`, () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-synth-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CHECKPOINT_DISABLE; // the script must set it itself
    delete env.TF_STATE_BUCKET;
    const r = spawnSync('npm', ['run', '-s', CLI, '--', 'synth', '--output', outdir], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    const output = `${r.stdout}${r.stderr}`;
    expect({ status: r.status, output: r.status === 0 ? '' : output.slice(-2000) }).toEqual({ status: 0, output: '' });
    expect(output).not.toMatch(/checkpoint|ENOTFOUND/i);
    const expected = buildApp(Testing.app(), PROFILES).flatMap((e) => Object.values(e).map((s) => s.node.id)).sort();
    expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual(expected);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
