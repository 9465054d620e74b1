/**
 * npm run parity: proves, on a copy of this checkout, that the other engine runs the same code to the same
 * Terraform JSON. In the copy: switch to the other engine (its node_modules from the cache, or npm ci),
 * type-check, synthesize, compare with this checkout's synth leaf by leaf (only ALLOWED_DIFFERENCES may
 * differ), run the fast tier, then switch back and check that the copy is the committed bytes again.
 *
 * Needs the npm registry the first time a lock file is seen (the install), so it is a CI step after
 * `npm test` (.ci/run), not a test. Exit 0 parity holds, 1 it does not (or a step failed). Prints each
 * step's time; the copy is removed afterwards.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandLine, PROCESS_IO, runCommand, type CommandSpec } from '../command-line';
import { run, synthesize, tempDir } from '../review/lib/processes';
import { describe, parityDifferences } from './compare';
import { activeEngine, ENGINE_NAMES } from './engines';
import { provideNodeModules } from './install';
import { switchFiles } from './switch';
import { copyCheckout, uncommittedChanges } from './workspace';

const ROOT = path.resolve(__dirname, '..', '..');

export const PARITY_COMMAND: CommandSpec = {
  name: 'npm run parity',
  prefix: 'parity',
  synopsis: ['npm run parity'],
  options: {},
  epilogue: [
    'On a copy of this checkout: switch to the other engine, type-check, synthesize, compare the Terraform JSON with',
    "this checkout's leaf by leaf (only tools/engine/engines.ts's allowed differences may differ), run the fast tier,",
    'switch back and check the copy is the committed bytes. Exit 0 parity holds, 1 it does not or a step failed.',
  ],
};

/** Runs a step, printing its name, outcome and time; returns whether it passed. */
async function step(name: string, timings: Array<[string, number]>, body: () => Promise<string | void> | string | void): Promise<boolean> {
  const started = Date.now();
  process.stderr.write(`parity: ${name}…\n`);
  try {
    const note = await body();
    const seconds = (Date.now() - started) / 1000;
    timings.push([name, seconds]);
    process.stderr.write(`parity: ${name}: ok in ${seconds.toFixed(1)} s${note ? ` (${note})` : ''}\n`);
    return true;
  } catch (err) {
    timings.push([name, (Date.now() - started) / 1000]);
    process.stderr.write(`parity: ${name}: FAILED\n${(err as Error).message}\n`);
    return false;
  }
}

/** This process's environment without a state bucket: local backends, the same synth as this checkout's. */
function localEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TF_STATE_BUCKET;
  return env;
}

/** Runs a command in `cwd` with the copy's own node_modules/.bin first on PATH; throws with its output when it fails. */
function exec(cwd: string, command: string, args: string[]): void {
  const r = run(command, args, { cwd, env: { ...localEnv(), PATH: `${path.join(cwd, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` } });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${`${r.stdout}${r.stderr}`.trim().slice(-6000)}`);
}

async function main(): Promise<number> {
  const here = activeEngine(ROOT);
  const other = ENGINE_NAMES.find((name) => name !== here.name)!;
  const work = tempDir('parity-');
  const timings: Array<[string, number]> = [];
  let copy: string | undefined;
  try {
    const env = localEnv();
    const ok =
      (await step(`copy this checkout (${here.name}) and synthesize it`, timings, async () => {
        copy = copyCheckout(ROOT, 'parity-copy-');
        await synthesize(ROOT, path.join(work, here.name), env);
      })) &&
      (await step(`switch the copy to ${other}`, timings, () => `${switchFiles(copy!, other).writes.size} files; node_modules ${provideNodeModules(copy!)}`)) &&
      (await step(`type-check under ${other}`, timings, () => exec(copy!, 'tsc', ['--noEmit']))) &&
      (await step(`synthesize under ${other} and compare leaf by leaf`, timings, async () => {
        await synthesize(copy!, path.join(work, other), env);
        const differences = parityDifferences(path.join(work, here.name), path.join(work, other));
        const forbidden = differences.filter((d) => !d.allowed);
        if (forbidden.length) throw new Error(`${forbidden.length} differences outside the allowed ones (tools/engine/engines.ts):\n${forbidden.slice(0, 40).map((d) => `  ${describe(d)}`).join('\n')}`);
        const allowed = [...new Set(differences.map((d) => describe({ ...d, file: d.file.replace(/^stacks\/[^/]+\//, 'stacks/*/') })))];
        return `${differences.length} allowed differences: ${allowed.join('; ')}`;
      })) &&
      (await step(`fast tier under ${other}`, timings, () => exec(copy!, 'jest', ['--selectProjects', 'fast', '--silent']))) &&
      (await step(`switch the copy back to ${here.name}: the committed bytes`, timings, () => {
        switchFiles(copy!, here.name);
        const changes = uncommittedChanges(copy!);
        if (changes) throw new Error(`the copy differs from what was copied:\n${changes}`);
      }));
    const total = timings.reduce((sum, [, s]) => sum + s, 0);
    process.stdout.write(`parity ${here.name} ↔ ${other}: ${ok ? 'holds' : 'BROKEN'} (${total.toFixed(1)} s: ${timings.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')})\n`);
    return ok ? 0 : 1;
  } finally {
    if (copy) fs.rmSync(copy, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
void runCommand(PARITY_COMMAND, argv, PROCESS_IO, () => {
  parseCommandLine(PARITY_COMMAND, argv);
  return main();
}).then((code) => (process.exitCode = code));
