/**
 * `npm run engine` on copies of this checkout, without installing: the switch to the other engine and back
 * gives the committed bytes; what it could not undo exactly, it refuses before writing anything. And the
 * parked lock file is in sync with package.json as the switch writes it, so `npm ci` will take it.
 */
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

function run(argv: string[], root: string): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = engineCommand(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) }, root);
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
  test('prints the engine the checkout runs', () => {
    expect(run([], ROOT)).toEqual({ code: 0, stdout: `${here.name}\n`, stderr: '' });
  });

  test('switching to the engine it runs does nothing', () => {
    const dir = copy();
    expect(run([here.name], dir)).toMatchObject({ code: 0, stdout: `${here.name}\n` });
    expect(uncommittedChanges(dir)).toBe('');
  });

  test.each([
    [['terraform'], 'unknown engine "terraform": expected cdktf or cdktn'],
    [['--force'], "Unknown option '--force'"],
    [['cdktf', 'cdktn'], 'expected at most one engine, got 2'],
  ])('%j exits 1 naming the argument, with the usage', (argv, message) => {
    const r = run(argv, ROOT);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('usage: npm run engine');
  });

  test('outside a git checkout: exit 1 saying why', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-no-git-'));
    copies.push(dir);
    for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    fs.mkdirSync(path.join(dir, 'tools', 'engine'), { recursive: true });
    fs.copyFileSync(parkedLockPath(ROOT, other.name), parkedLockPath(dir, other.name));
    const r = run([other.name], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a git checkout: the switch rewrites the files git lists/);
  });
});
