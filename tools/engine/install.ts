/**
 * node_modules for a checkout's package.json and lock file, from a cache outside the repository when one was
 * installed before, else from `npm ci` (then kept in the cache). A second engine's install costs a minute and
 * ~700 MB; from the cache it is a hard-link copy (`cp -al`): seconds, and no second copy on disk.
 *
 * The cache lives in `$XDG_CACHE_HOME/cdktf-serverless-mysql-proxy/node_modules/` (default `~/.cache/…`,
 * beside the Node.js .ci/run fetches), one entry per engine, package.json, lock file and Node ABI; the two
 * newest entries of each engine are kept. Hard links share file contents with the cache, so nothing may edit
 * an installed file in place; npm never does (it replaces), and the function bundle cache
 * (node_modules/.cache) is never stored.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { activeEngine, DEFAULT_ENGINE, Engine } from './engines';

/** The cache of installed trees; `ENGINE_CACHE_DIR` moves it (tests, a CI cache path). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENGINE_CACHE_DIR) return env.ENGINE_CACHE_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cdktf-serverless-mysql-proxy', 'node_modules');
}

/** Entries kept per engine: the current lock and the one before it. */
const KEPT_PER_ENGINE = 2;

/** The name of the cache entry for `root` as it is now: engine, and a hash of what decides the tree. */
export function cacheKey(root: string, engine: Engine = activeEngine(root)): string {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) hash.update(fs.readFileSync(path.join(root, file))).update('\0');
  // Native addons (the CLIs' node-pty) are built for one Node ABI, platform and architecture.
  hash.update(`${process.versions.modules} ${process.platform} ${process.arch}`);
  return `${engine.name}-${hash.digest('hex').slice(0, 16)}`;
}

/** A failed `npm ci` whose lock file does not match package.json. */
export class StaleLockError extends Error {}

function copyTree(from: string, to: string): void {
  // Hard links where the file system allows them (one copy on disk), a plain copy where it does not.
  const linked = spawnSync('cp', ['-al', from, to], { encoding: 'utf8' });
  if (linked.status === 0) return;
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

function store(root: string, key: string, dir: string): void {
  const entry = path.join(dir, key);
  if (fs.existsSync(path.join(entry, 'node_modules'))) return;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, `.${key}-`));
  copyTree(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));
  fs.rmSync(path.join(tmp, 'node_modules', '.cache'), { recursive: true, force: true });
  try {
    fs.renameSync(tmp, entry);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process stored the same entry first
  }
  prune(dir, key.split('-')[0]);
}

function prune(dir: string, engine: string): void {
  const entries = fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(`${engine}-`))
    .map((name) => ({ name, mtime: fs.statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(KEPT_PER_ENGINE)) fs.rmSync(path.join(dir, old.name), { recursive: true, force: true });
}

/** Runs `npm ci` in `root`; a lock that does not match package.json becomes a StaleLockError saying how to refresh it. */
function npmCi(root: string, engine: Engine, env: NodeJS.ProcessEnv): void {
  // Errors at least, whatever loglevel the caller's environment sets (`npm run -s` sets silent): they are read below.
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 0) return;
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (/can only install packages when your package\.json and package-lock\.json .*are in sync/.test(output)) {
    // npm's own list of what differs (`Missing: x@1 from lock file`), without the usage text it prints after it.
    const differences = output.split('\n').filter((line) => /\b(Missing|Invalid):/.test(line)).map((line) => line.replace(/^npm error\s*/, '  '));
    throw new StaleLockError(
      `package-lock.json (${engine.title}'s) does not match package.json, so npm ci refused it:\n${differences.slice(0, 8).join('\n')}${differences.length > 8 ? `\n  … ${differences.length - 8} more` : ''}\n` +
        `Refresh it: \`npm install\` (it keeps every version it still can) and run the tests; then ` +
        (engine.name === DEFAULT_ENGINE
          ? 'commit package-lock.json.'
          : `switch back (npm run engine -- ${DEFAULT_ENGINE}) and commit tools/engine/${engine.name}.package-lock.json, where the switch parks it.`),
    );
  }
  throw new Error(`npm ci failed in ${root} (exit ${r.status}):\n${output.trim().slice(-3000)}`);
}

/**
 * Gives `root` the node_modules its package.json and lock file describe: a hard-link copy of the cache entry
 * when there is one (`cached`), else `npm ci`, then stored (`installed`).
 */
export function provideNodeModules(root: string, env: NodeJS.ProcessEnv = process.env): 'cached' | 'installed' {
  const engine = activeEngine(root);
  const dir = cacheDir(env);
  const key = cacheKey(root, engine);
  const entry = path.join(dir, key, 'node_modules');
  const target = path.join(root, 'node_modules');
  if (fs.existsSync(entry)) {
    fs.rmSync(target, { recursive: true, force: true });
    copyTree(entry, target);
    // npm rewrites its hidden lock file in place on the next `npm install`: that one file gets its own copy.
    const hidden = path.join(target, '.package-lock.json');
    if (fs.existsSync(hidden)) {
      const text = fs.readFileSync(hidden);
      fs.unlinkSync(hidden);
      fs.writeFileSync(hidden, text);
    }
    // Used now: pruning keeps the newest.
    const now = new Date();
    fs.utimesSync(path.dirname(entry), now, now);
    return 'cached';
  }
  npmCi(root, engine, env);
  store(root, key, dir);
  return 'installed';
}

/**
 * Before a switch: keeps `root`'s node_modules in the cache when it is what package.json and the lock file
 * describe (npm's own rule: its hidden lock file node_modules/.package-lock.json is newer than both), so
 * switching back needs no install; then removes it. Returns what it did.
 */
export function setAsideNodeModules(root: string, env: NodeJS.ProcessEnv = process.env): 'kept' | 'removed' | 'none' {
  const target = path.join(root, 'node_modules');
  if (!fs.existsSync(target)) return 'none';
  const dir = cacheDir(env);
  const key = cacheKey(root);
  const hidden = fs.statSync(path.join(target, '.package-lock.json'), { throwIfNoEntry: false });
  const current = hidden && ['package.json', 'package-lock.json'].every((f) => fs.statSync(path.join(root, f)).mtimeMs <= hidden.mtimeMs);
  if (current && !fs.existsSync(path.join(dir, key))) {
    fs.rmSync(path.join(target, '.cache'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, key), { recursive: true });
    try {
      fs.renameSync(target, path.join(dir, key, 'node_modules'));
      prune(dir, key.split('-')[0]);
      return 'kept';
    } catch {
      fs.rmSync(path.join(dir, key), { recursive: true, force: true }); // another file system: not kept
    }
  }
  fs.rmSync(target, { recursive: true, force: true });
  return 'removed';
}
