/**
 * npm run engine                 print the engine this checkout runs (cdktf on a fresh clone)
 * npm run engine -- cdktn        switch to CDK Terrain: imports, package.json, lock file, node_modules
 * npm run engine -- cdktf        switch back: the files are the committed bytes again
 *
 * Exit 0 done, 1 an error (a bad argument, a file that could not be switched back exactly, a failed install).
 * A failed install puts the checkout back on the engine it ran, files and node_modules, except for a lock file
 * that no longer matches package.json: that is refreshed where the switch stopped (README.md).
 * The engine's name goes to stdout, progress to stderr. tools/engine/README.md says what a switch touches.
 */
import * as path from 'path';
import { parseCommandLine, PROCESS_IO, runCommand, UsageError, type CommandIo, type CommandSpec } from '../command-line';
import { activeEngine, ENGINE_NAMES, ENGINES, isEngineName, type EngineName } from './engines';
import { provideNodeModules, setAsideNodeModules, StaleLockError } from './install';
import { applySwitch, planSwitch, switchFiles } from './switch';

export const ENGINE_COMMAND: CommandSpec = {
  name: 'npm run engine',
  prefix: 'engine',
  synopsis: ['npm run engine', `npm run engine -- ${ENGINE_NAMES.join('|')}`],
  options: {},
  allowPositionals: true,
  epilogue: [
    'No argument: print the engine this checkout runs. With one: switch the checkout to it (imports, package.json,',
    'lock file) and install its packages. Exit 0 done, 1 an error. tools/engine/README.md says what a switch touches.',
  ],
};


/** The engine to switch to, or undefined to print the active one. */
function parse(argv: readonly string[]): EngineName | undefined {
  const { tokens } = parseCommandLine(ENGINE_COMMAND, argv);
  const positionals = tokens.filter((t) => t.kind === 'positional').map((t) => (t as { value: string }).value);
  if (positionals.length > 1) throw new UsageError(`expected at most one engine, got ${positionals.length}: ${positionals.join(' ')}`);
  if (positionals.length === 1 && !isEngineName(positionals[0])) throw new UsageError(`unknown engine ${JSON.stringify(positionals[0])}: expected ${ENGINE_NAMES.join(' or ')}`);
  return positionals[0] as EngineName | undefined;
}

/** The command: resolves to its exit code and never throws. `root`: the checkout (default: the one holding this file). */
export function engineCommand(argv: readonly string[], io: CommandIo = PROCESS_IO, root = path.resolve(__dirname, '..', '..')): Promise<number> {
  return runCommand(
    ENGINE_COMMAND,
    argv,
    io,
    async () => {
      const target = parse(argv);
      if (target === undefined) {
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
      applySwitch(root, plan);
      const started = Date.now();
      log(`installing ${ENGINES[target].title}'s packages…`);
      let how: 'cached' | 'installed';
      try {
        how = provideNodeModules(root);
      } catch (err) {
        // A stale lock is refreshed in the switched checkout (`npm install`, README.md); any other failure (no
        // registry, no disk) puts the checkout back as it was, so that it keeps working and can try again.
        if (err instanceof StaleLockError) throw err;
        switchFiles(root, plan.from.name);
        const restored = previous === 'kept' ? provideNodeModules(root) : undefined;
        throw new Error(
          `${(err as Error).message}\nthe checkout is back on ${plan.from.title} (its files as they were${restored ? ', and its node_modules from the cache' : '; run npm ci to reinstall its node_modules'})`,
        );
      }
      log(`node_modules ${how === 'cached' ? 'copied from the cache' : 'installed with npm ci'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      io.stdout(`${target}\n`);
      return 0;
    },
    // Its own refusals (a file that would not switch back, a stale lock, a failed install) are plain Errors that
    // say what to do; a TypeError and the like is a bug, printed as one and with its stack behind --debug.
    (err) => err instanceof Error && (err.constructor === Error || err instanceof StaleLockError),
  );
}

if (require.main === module) void engineCommand(process.argv.slice(2)).then((code) => (process.exitCode = code));
