/**
 * `npm run engine` on copies of this checkout, without installing: the switch to the other engine and back
 * gives the committed bytes; what it could not undo exactly, it refuses before writing anything. And the
 * parked lock file is in sync with package.json as the switch writes it, so `npm ci` will take it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineCommand } from '../../tools/engine/engine';
import { activeEngine, Engine, ENGINE_NAMES, ENGINES, parkedLockPath } from '../../tools/engine/engines';
import { lockedRootRanges, rewriteImports, rewritePackageJson, SOURCE_FILE } from '../../tools/engine/rewrite';
import { checkoutFiles, switchFiles } from '../../tools/engine/switch';
import { copyCheckout, uncommittedChanges } from '../../tools/engine/workspace';

const ROOT = path.resolve(__dirname, '..', '..');
const here = activeEngine(ROOT);
const other = ENGINES[ENGINE_NAMES.find((name) => name !== here.name)!];
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

/** Source files of `dir` that import `engine`'s library or binding: those a switch away from it rewrites. */
const importing = (dir: string, engine: Engine) =>
  checkoutFiles(dir).filter((f) => SOURCE_FILE.test(f) && rewriteImports(read(dir, f), engine, engine.name === here.name ? other : here) !== read(dir, f));

let copies: string[] = [];
const copy = () => {
  const dir = copyCheckout(ROOT, 'engine-switch-test-');
  copies.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
  copies = [];
});

async function run(argv: string[], root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await engineCommand(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) }, root);
  return { code, stdout, stderr };
}

test(`switching to ${other.title} and back leaves the copy byte-identical to what was committed`, () => {
  const dir = copy();
  const lockBefore = read(dir, 'package-lock.json');
  const parkedBefore = fs.readFileSync(parkedLockPath(dir, other.name), 'utf8');
  const importers = importing(dir, here);
  expect(importers.length).toBeGreaterThan(20);

  const plan = switchFiles(dir, other.name);
  expect(activeEngine(dir).name).toBe(other.name);
  expect(importing(dir, here)).toEqual([]);
  expect(plan.writes.size).toBe(importers.length + 1); // and package.json
  const pkg = JSON.parse(read(dir, 'package.json'));
  expect(pkg.scripts[other.command]).toBeDefined();
  expect(pkg.scripts[here.command]).toBeUndefined();
  // The lock files trade places, untouched.
  expect(read(dir, 'package-lock.json')).toBe(parkedBefore);
  expect(fs.readFileSync(parkedLockPath(dir, here.name), 'utf8')).toBe(lockBefore);
  expect(fs.existsSync(parkedLockPath(dir, other.name))).toBe(false);
  expect(uncommittedChanges(dir)).not.toBe('');

  switchFiles(dir, here.name);
  expect(uncommittedChanges(dir)).toBe('');
});

test("refuses, naming the file and writing nothing, when a file already imports the target engine's packages", () => {
  const dir = copy();
  fs.appendFileSync(path.join(dir, 'main.ts'), `\n// import { App } from '${other.library}';\n`);
  const before = uncommittedChanges(dir);
  expect(() => switchFiles(dir, other.name)).toThrow(`main.ts: imports ${other.library} or ${other.provider} already`);
  expect(uncommittedChanges(dir)).toBe(before);
});

test('refuses when package.json and package-lock.json disagree on the engine, since the way back would not restore package.json', () => {
  const dir = copy();
  const pkg = JSON.parse(read(dir, 'package.json'));
  pkg.dependencies[here.library] = '9.9.9'; // edited by hand, no npm install after it
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  expect(() => switchFiles(dir, other.name)).toThrow(/package\.json: its .* entries differ from package-lock\.json's/);
  expect(read(dir, 'package-lock.json')).toBe(read(ROOT, 'package-lock.json'));
});

test('refuses a checkout whose parked lock file of the target engine is missing', () => {
  const dir = copy();
  fs.rmSync(parkedLockPath(dir, other.name));
  expect(() => switchFiles(dir, other.name)).toThrow(`tools/engine/${other.name}.package-lock.json is missing`);
});

test(`the parked ${other.title} lock file matches package.json as the switch writes it (else npm ci refuses it)`, () => {
  const parked = fs.readFileSync(parkedLockPath(ROOT, other.name), 'utf8');
  const switched = JSON.parse(rewritePackageJson(read(ROOT, 'package.json'), here, other, lockedRootRanges(parked)));
  // What npm ci checks first: the root package's dependency ranges, each kind as package.json lists it.
  const root = JSON.parse(parked).packages[''];
  expect({ dependencies: root.dependencies, devDependencies: root.devDependencies }).toEqual({ dependencies: switched.dependencies, devDependencies: switched.devDependencies });
  // constructs is pinned once, to a version both engines accept: the switch never changes it.
  const locked = (lock: string) => JSON.parse(lock).packages['node_modules/constructs'].version;
  expect(locked(parked)).toBe(locked(read(ROOT, 'package-lock.json')));
  expect(switched.dependencies.constructs).toBe(JSON.parse(read(ROOT, 'package.json')).dependencies.constructs);
});

describe('npm run engine', () => {
  test('prints the engine the checkout runs', async () => {
    expect(await run([], ROOT)).toEqual({ code: 0, stdout: `${here.name}\n`, stderr: '' });
  });

  test('switching to the engine it runs does nothing', async () => {
    const dir = copy();
    expect(await run([here.name], dir)).toMatchObject({ code: 0, stdout: `${here.name}\n` });
    expect(uncommittedChanges(dir)).toBe('');
  });

  test.each([
    [['terraform'], 'unknown engine "terraform": expected cdktf or cdktn'],
    [['--force'], 'unknown option --force (npm run engine -- --help lists the options)'],
    [['cdktf', 'cdktn'], 'expected at most one engine, got 2: cdktf cdktn'],
  ])('%j exits 1 with one line naming the argument', async (argv, message) => {
    const r = await run(argv, ROOT);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`engine: ${message}\n`);
  });

  test('--help prints the synopsis and exits 0', async () => {
    const r = await run(['--help'], ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run engine\n {7}npm run engine -- cdktf\|cdktn\n/);
  });

  test('an install that fails (here: npm offline with an empty cache) puts the checkout back: files, and node_modules from the cache', async () => {
    const dir = copy();
    // The engine's current node_modules, as npm leaves it: its hidden lock newer than package.json and the lock.
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(modules);
    fs.writeFileSync(path.join(modules, 'marker'), here.name);
    const later = new Date(Date.now() + 60_000);
    fs.writeFileSync(path.join(modules, '.package-lock.json'), '{}');
    fs.utimesSync(path.join(modules, '.package-lock.json'), later, later);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-offline-'));
    copies.push(scratch);
    const saved = { ...process.env };
    Object.assign(process.env, { ENGINE_CACHE_DIR: path.join(scratch, 'trees'), npm_config_offline: 'true', npm_config_cache: path.join(scratch, 'npm-cache') });
    try {
      const r = await run([other.name], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('npm ci failed');
      expect(r.stderr).toContain(`the checkout is back on ${here.title} (its files as they were, and its node_modules from the cache)`);
    } finally {
      process.env = saved;
    }
    expect(activeEngine(dir).name).toBe(here.name);
    expect(uncommittedChanges(dir)).toBe('');
    expect(fs.readFileSync(path.join(modules, 'marker'), 'utf8')).toBe(here.name);
  });

  test('outside a git checkout: exit 1 saying why', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-no-git-'));
    copies.push(dir);
    for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    fs.mkdirSync(path.join(dir, 'tools', 'engine'), { recursive: true });
    fs.copyFileSync(parkedLockPath(ROOT, other.name), parkedLockPath(dir, other.name));
    const r = await run([other.name], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a git checkout: the switch rewrites the files git lists/);
  });
});

describe('npm run parity, as typed', () => {
  const parity = (...args: string[]) => spawnSync('npm', ['run', '-s', 'parity', '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  test('--help prints the synopsis and exits 0, before anything runs', () => {
    const r = parity('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run parity\n/);
    expect(r.stderr).toBe('');
  });

  test('an unknown option exits 1 with one line naming it', () => {
    const r = parity('--fast');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('parity: unknown option --fast (npm run parity -- --help lists the options)\n');
  });
});
