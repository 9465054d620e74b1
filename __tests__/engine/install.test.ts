/**
 * The install half of `npm run engine` (tools/engine/install.ts) with the real npm, offline: a tiny project
 * whose one dependency is a local package (`file:`), so `npm ci` needs no registry. The cache outside the
 * repository, its hard-link copies, the stale-lock message, and keeping a tree aside for the way back.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENGINES } from '../../tools/engine/engines';
import { cacheKey, provideNodeModules, setAsideNodeModules, StaleLockError } from '../../tools/engine/install';

const { cdktf } = ENGINES;
let scratch: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-install-'));
  // Offline, and local packages copied in rather than linked, so node_modules holds real files.
  env = { ...process.env, ENGINE_CACHE_DIR: path.join(scratch, 'cache'), npm_config_offline: 'true', npm_config_install_links: 'true', npm_config_update_notifier: 'false' };
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A project depending on a local stand-in for the engine's library, with the lock file npm writes for it. */
function project(name: string, extraDependency?: string): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(path.join(dir, 'stand-in'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'stand-in', 'package.json'), JSON.stringify({ name: cdktf.library, version: '0.0.1' }));
  fs.writeFileSync(path.join(dir, 'stand-in', 'index.js'), 'module.exports = 1;\n');
  const dependencies = { [cdktf.library]: 'file:stand-in', ...(extraDependency ? { [extraDependency]: 'file:stand-in' } : {}) };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'install-test', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
  const lock = {
    name: 'install-test',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'install-test', version: '1.0.0', dependencies: { [cdktf.library]: 'file:stand-in' } }, [`node_modules/${cdktf.library}`]: { version: '0.0.1', resolved: 'file:stand-in' } },
  };
  fs.writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  return dir;
}

const installed = (dir: string) => path.join(dir, 'node_modules', cdktf.library, 'index.js');
const entries = () => fs.readdirSync(env.ENGINE_CACHE_DIR!).filter((name) => !name.startsWith('.')).sort();

test('the first install runs npm ci and keeps the tree; the next is a hard-link copy of it, with npm’s hidden lock file its own', () => {
  const a = project('a');
  expect(provideNodeModules(a, env)).toBe('installed');
  expect(fs.existsSync(installed(a))).toBe(true);
  expect(entries()).toEqual([cacheKey(a)]);
  expect(cacheKey(a)).toMatch(new RegExp(`^${cdktf.name}-[0-9a-f]{16}$`));

  const b = project('b');
  fs.mkdirSync(path.join(b, 'node_modules', 'left-over'), { recursive: true });
  expect(provideNodeModules(b, env)).toBe('cached');
  const cached = path.join(env.ENGINE_CACHE_DIR!, cacheKey(b), 'node_modules');
  expect(fs.statSync(installed(b)).ino).toBe(fs.statSync(path.join(cached, cdktf.library, 'index.js')).ino);
  expect(fs.statSync(path.join(b, 'node_modules', '.package-lock.json')).ino).not.toBe(fs.statSync(path.join(cached, '.package-lock.json')).ino);
  expect(fs.existsSync(path.join(b, 'node_modules', 'left-over'))).toBe(false);
});

test('a lock file that does not match package.json: npm ci refuses, and the error says what differs and how to refresh it', () => {
  const stale = project('stale', 'stand-in-two');
  let error: unknown;
  try {
    provideNodeModules(stale, env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(StaleLockError);
  expect((error as Error).message).toMatch(/package-lock\.json \(CDK for Terraform's\) does not match package\.json/);
  expect((error as Error).message).toContain('stand-in-two');
  expect((error as Error).message).toContain('Refresh it: `npm install`');
  expect((error as Error).message).not.toContain('npm help ci'); // npm's usage text is left out
  expect(fs.existsSync(env.ENGINE_CACHE_DIR!) ? entries() : []).toEqual([]);
});

test('before a switch, an installed tree that matches its lock file is kept in the cache for the way back; a stale one is removed', () => {
  const a = project('a');
  provideNodeModules(a, { ...env, ENGINE_CACHE_DIR: path.join(scratch, 'other-cache') });
  expect(setAsideNodeModules(a, env)).toBe('kept');
  expect(fs.existsSync(path.join(a, 'node_modules'))).toBe(false);
  const b = project('b');
  expect(provideNodeModules(b, env)).toBe('cached');

  // package.json edited after the install: the tree may not be what it describes.
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(b, 'package.json'), later, later);
  fs.rmSync(env.ENGINE_CACHE_DIR!, { recursive: true, force: true });
  expect(setAsideNodeModules(b, env)).toBe('removed');
  expect(fs.existsSync(path.join(b, 'node_modules'))).toBe(false);
  expect(fs.existsSync(env.ENGINE_CACHE_DIR!)).toBe(false);
  expect(setAsideNodeModules(b, env)).toBe('none');
});

test('keeps the two newest trees of each engine', () => {
  const cache = env.ENGINE_CACHE_DIR!;
  const old = (name: string, minutesAgo: number) => {
    fs.mkdirSync(path.join(cache, name, 'node_modules'), { recursive: true });
    const t = new Date(Date.now() - minutesAgo * 60_000);
    fs.utimesSync(path.join(cache, name), t, t);
  };
  old(`${cdktf.name}-0000000000000001`, 30);
  old(`${cdktf.name}-0000000000000002`, 20);
  old(`${cdktf.name}-0000000000000003`, 10);
  old(`${ENGINES.cdktn.name}-0000000000000004`, 40);
  const a = project('a');
  provideNodeModules(a, env);
  expect(entries()).toEqual([`${cdktf.name}-0000000000000003`, cacheKey(a), `${ENGINES.cdktn.name}-0000000000000004`].sort());
});
