/**
 * scripts/run-app.cjs, the app command: it compiles main.ts with esbuild for the toolchain's floor (the major
 * of package.json's engines.node) and rebuilds only when what it built from changed. Run on a small project
 * beside a copy of the script, with this checkout's esbuild.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-app-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'run-app.cjs'), path.join(dir, 'scripts', 'run-app.cjs'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'main.ts'), "import { said } from './said';\nconsole.log(said);\n");
  fs.writeFileSync(path.join(dir, 'said.ts'), "export const said: string = 'first';\n");
  engines('>=22.19.0');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function engines(range: string): void {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fixture', engines: { node: range } }));
}
const run = () => execFileSync(process.execPath, [path.join(dir, 'scripts', 'run-app.cjs')], { cwd: dir, encoding: 'utf8' }).trim();
const manifest = () => JSON.parse(fs.readFileSync(path.join(dir, '.build', 'app.manifest.json'), 'utf8'));
const built = () => fs.statSync(path.join(dir, '.build', 'app.js')).mtimeMs;

test('builds for the engines floor; rebuilds when an input or the floor changes, and only then', () => {
  expect(run()).toBe('first');
  expect(manifest().target).toBe('node22');
  const first = built();

  expect(run()).toBe('first');
  expect(built()).toBe(first);

  fs.writeFileSync(path.join(dir, 'said.ts'), "export const said: string = 'second';\n");
  expect(run()).toBe('second');
  const second = built();
  expect(second).not.toBe(first);

  engines('>=24.0.0');
  expect(run()).toBe('second');
  expect(manifest().target).toBe('node24');
  expect(built()).not.toBe(second);
});
