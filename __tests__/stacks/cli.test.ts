/**
 * The README's first command, `npm run cdktf -- synth` (`npm run cdktn -- synth` under CDK Terrain: the engine
 * table says which): the real CLI, offline, quiet. Plain `npx cdktf synth` asks HashiCorp's checkpoint service
 * for the latest version and, offline, prints `getaddrinfo ENOTFOUND checkpoint-api…`; the npm script sets
 * CHECKPOINT_DISABLE so it never asks (CDK Terrain's CLI honours the same variable).
 * Neither it nor the test runner prints a Node.js warning: cdktf 0.21 calls `util.isArray` (DEP0044 on
 * Node.js 22 and later), so the app command and `npm run jest` start node with that one warning disabled.
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
/** How Node.js prints a process warning: `(node:1234) [DEP0044] DeprecationWarning: …`, `(node:1234) NodeVersionSupportWarning: …`. */
const NODE_WARNING = /\(node:\d+\) (\[\w+\] )?\w*Warning\b/;

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
    expect(output).not.toMatch(NODE_WARNING);
    const expected = buildApp(Testing.app(), PROFILES).flatMap((e) => Object.values(e).map((s) => s.node.id)).sort();
    expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual(expected);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test('the test runner (npm run jest, behind npm test and the tiers) prints no Node.js warning while stacks synthesize in process', () => {
  // The snapshot suite synthesizes every stack, outputs included, in the jest process: where cdktf's warning fires.
  const r = spawnSync('npm', ['run', '-s', 'jest', '--', '--selectProjects', 'fast', '--', '__tests__/stacks/snapshot.test.ts'], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  expect({ status: r.status, output: r.status === 0 ? '' : output.slice(-2000) }).toEqual({ status: 0, output: '' });
  expect(output).toMatch(/PASS .*__tests__\/stacks\/snapshot\.test\.ts/);
  expect(output).not.toMatch(NODE_WARNING);
});
