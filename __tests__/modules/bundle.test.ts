import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { strFromU8, unzipSync } from 'fflate';
import { bundleFunction, deterministicZip } from '../../modules/bundle';

const ROOT = path.resolve(__dirname, '../..');
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Bundles `entry` in a fresh process (no in-memory memo), as a new synth would; returns what it reports. */
function bundleInFreshProcess(entry: string, env: NodeJS.ProcessEnv = {}): { sha256: string; archivePath: string; esbuildRan: boolean } {
  const script = `
    const r = require('./modules/bundle').bundleFunction(${JSON.stringify(entry)});
    process.stdout.write(JSON.stringify({ sha256: r.sha256, archivePath: r.archivePath, esbuildRan: !r.fromCache }));`;
  return JSON.parse(execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, env: { ...process.env, FUNCTION_BUNDLE_CACHE_DIR: cacheDir, ...env }, encoding: 'utf8' }));
}

// The fresh processes keep their cache in a directory of this test's own, removed after.
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-test-'));
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe('function bundle cache', () => {
  // A throw-away function inside the project, so esbuild resolves it like any entry; removed after.
  const dir = fs.mkdtempSync(path.join(ROOT, '__tests__', 'fixtures', 'bundle-cache-'));
  const entry = path.relative(ROOT, path.join(dir, 'handler.ts'));
  const helper = path.join(dir, 'helper.ts');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a second synth reuses the bundle without esbuild; editing an imported file rebuilds it', () => {
    fs.writeFileSync(helper, `export const greeting = 'hello';\n`);
    fs.writeFileSync(path.join(dir, 'handler.ts'), `import { greeting } from './helper';\nexport const handler = async () => ({ statusCode: 200, body: greeting });\n`);
    const first = bundleInFreshProcess(entry);
    expect(first.esbuildRan).toBe(true);
    const second = bundleInFreshProcess(entry);
    expect(second).toEqual({ ...first, esbuildRan: false });

    fs.writeFileSync(helper, `export const greeting = 'bonjour';\n`);
    const third = bundleInFreshProcess(entry);
    expect(third.esbuildRan).toBe(true);
    expect(third.sha256).not.toBe(first.sha256);
    expect(strFromU8(unzipSync(fs.readFileSync(third.archivePath))['index.js'])).toContain('bonjour');
    expect(path.relative(cacheDir, third.archivePath).startsWith('..')).toBe(false);
  });

  test('a damaged cached archive is rebuilt, never deployed', () => {
    const before = bundleInFreshProcess(entry);
    const good = fs.readFileSync(before.archivePath);
    fs.writeFileSync(before.archivePath, Buffer.concat([good.subarray(0, 100), Buffer.from('damaged'), good.subarray(107)]));
    const after = bundleInFreshProcess(entry);
    expect(after.esbuildRan).toBe(true);
    expect(after.sha256).toBe(before.sha256);
    expect(sha256(fs.readFileSync(after.archivePath))).toBe(sha256(good));
  });
});

describe('deterministic archive', () => {
  test('the same code gives the same zip bytes in any time zone', () => {
    const code = bundleFunction('__tests__/fixtures/echo-handler.ts').code;
    const zips = ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles'].map((tz) =>
      execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', `process.stdout.write(Buffer.from(require('./modules/bundle').deterministicZip(require('fs').readFileSync(0, 'utf8'))).toString('hex'))`], {
        cwd: ROOT,
        env: { ...process.env, TZ: tz },
        input: code,
        encoding: 'utf8',
      }),
    );
    expect(new Set(zips).size).toBe(1);
    expect(zips[0]).toBe(Buffer.from(deterministicZip(code)).toString('hex'));
  });

  test('Info-ZIP unzip, an independent reader, extracts the same code with mode 0644', () => {
    const bundle = bundleFunction('__tests__/fixtures/echo-handler.ts');
    expect(execFileSync('unzip', ['-p', bundle.archivePath, 'index.js'], { encoding: 'utf8' })).toBe(bundle.code);
    expect(execFileSync('unzip', ['-Z', bundle.archivePath], { encoding: 'utf8' })).toMatch(/^-rw-r--r-- .* index\.js$/m);
    expect(execFileSync('unzip', ['-tq', bundle.archivePath], { encoding: 'utf8' })).toMatch(/No errors detected/);
  });

  test('one entry, index.js, mode 0644, dated 1980-01-01', () => {
    const zip = Buffer.from(deterministicZip('exports.handler = async () => 1;'));
    const files = unzipSync(zip);
    expect(Object.keys(files)).toEqual(['index.js']);
    // Central directory: "PK\x01\x02"; external attributes at +38 (mode in the high 16 bits), DOS date at +14.
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    expect((zip.readUInt32LE(central + 38) >>> 16) & 0o777).toBe(0o644);
    const dosDate = zip.readUInt16LE(central + 14);
    expect([(dosDate >> 9) + 1980, (dosDate >> 5) & 0xf, dosDate & 0x1f]).toEqual([1980, 1, 1]);
  });
});
