/**
 * npm run engine                 print the engine this checkout runs (cdktf on a fresh clone)
 * npm run engine -- cdktn        switch to CDK Terrain: imports, package.json, lock file, node_modules
 * npm run engine -- cdktf        switch back: the files are the committed bytes again
 *
 * Exit 0 done, 1 an error (a bad argument, a file that could not be switched back exactly, a failed install).
 * The engine's name goes to stdout, progress to stderr. tools/engine/README.md says what a switch touches.
 */
import * as path from 'path';
import { parseArgs } from 'util';
import { activeEngine, ENGINE_NAMES, ENGINES, isEngineName } from './engines';
import { provideNodeModules, setAsideNodeModules } from './install';
import { planSwitch, switchFiles } from './switch';

export const USAGE = `usage: npm run engine [-- ${ENGINE_NAMES.join('|')}]
  no argument: print the engine this checkout runs; with one: switch the checkout to it and install its packages`;

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}
const PROCESS_IO: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** A bad command line: the message names the argument, and the usage follows it. */
class UsageError extends Error {}

/** The engine to switch to, undefined to print the active one, or 'help'. */
function parse(argv: readonly string[]): string | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) return 'help';
  const { positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected at most one engine, got ${positionals.length}: ${positionals.join(' ')}`);
  if (positionals.length === 1 && !isEngineName(positionals[0])) throw new UsageError(`unknown engine ${JSON.stringify(positionals[0])}: expected ${ENGINE_NAMES.join(' or ')}`);
  return positionals[0];
}

/** The command: returns its exit code and never throws. `root`: the checkout (default: the one holding this file). */
export function engineCommand(argv: readonly string[], io: Io = PROCESS_IO, root = path.resolve(__dirname, '..', '..')): 0 | 1 {
  try {
    const target = parse(argv);
    if (target === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (target === undefined || !isEngineName(target)) {
      io.stdout(`${activeEngine(root).name}\n`);
      return 0;
    }
    const plan = planSwitch(root, target);
    if (plan.from.name === target) {
      io.stderr(`engine: already on ${plan.to.title}\n`);
      io.stdout(`${target}\n`);
      return 0;
    }
    const log = (line: string) => io.stderr(`engine: ${line}\n`);
    log(`${plan.from.title} → ${plan.to.title}: ${plan.writes.size} files, package-lock.json swapped with tools/engine/${target}.package-lock.json`);
    const previous = setAsideNodeModules(root);
    if (previous === 'kept') log(`${plan.from.title}'s node_modules kept in the cache for the way back`);
    switchFiles(root, target);
    const started = Date.now();
    log(`installing ${ENGINES[target].title}'s packages…`);
    const how = provideNodeModules(root);
    log(`node_modules ${how === 'cached' ? 'copied from the cache' : 'installed with npm ci'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    io.stdout(`${target}\n`);
    return 0;
  } catch (err) {
    io.stderr(`engine: ${(err as Error).message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
    return 1;
  }
}

if (require.main === module) process.exitCode = engineCommand(process.argv.slice(2));
