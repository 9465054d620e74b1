/**
 * npx tsx tools/review/fixture-example.ts
 *
 * Prints two real review comments, produced from Terraform plans of the test fixture
 * (__tests__/fixtures/review-app, builtin provider only, offline) in a temporary directory:
 * 1. a first plan, before anything is applied: the dependants wait for their upstream stack;
 * 2. after an apply, a change that forces a replacement, changes a sensitive value and updates an argument.
 * docs/reviewing-changes.md shows this output ("Example comments").
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './lib/processes';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURE = path.join(ROOT, '__tests__', 'fixtures', 'review-app');

function script(name: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(TSX, [path.join(ROOT, 'tools', 'review', `${name}.ts`), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status === 1 || r.error) throw new Error(`${name} failed:\n${r.stderr}`);
  return r.stdout;
}

const work = tempDir('review-example-');
try {
  const plans = path.join(work, 'plans');
  const common = ['--project', FIXTURE, '--cdktf-out', path.join(work, 'cdktf.out'), '--out', plans];
  const first = { FIXTURE_GENERATION: '1', FIXTURE_TOKEN: 'example-token-one', FIXTURE_LABEL: 'first' };
  script('plan', common, first);
  process.stdout.write(`<!-- 1. first plan, nothing applied yet -->\n${script('review', ['--plans', plans])}\n`);
  script('plan', [...common, '--apply'], first);
  script('plan', common, { FIXTURE_GENERATION: '2', FIXTURE_TOKEN: 'example-token-two', FIXTURE_LABEL: 'second' });
  process.stdout.write(`<!-- 2. after apply: a forced replacement, a sensitive value, an update -->\n${script('review', ['--plans', plans])}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
