/**
 * The function archive writer: Info-ZIP's unzip (what the CI installs) reads the archive, its CRC checks,
 * the content comes back byte for byte with the fixed time and a regular 0644 mode, and the same input
 * always gives the same bytes.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { zipSingleFile } from '../../modules/zip';

const dir = mkdtempSync(path.join(tmpdir(), 'hits-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('unzip tests, lists and extracts it: one regular file, 0644, 1980-01-01, content intact', () => {
  // Text that compresses and random bytes that do not, past 64 KiB.
  const data = Buffer.concat([Buffer.from('exports.handler = async () => "é";\n'.repeat(3000)), randomBytes(70_000)]);
  const file = path.join(dir, 'archive.zip');
  writeFileSync(file, zipSingleFile('index.js', data));
  expect(execFileSync('unzip', ['-t', file]).toString()).toMatch(/No errors detected/);
  expect(execFileSync('unzip', ['-Z', file]).toString()).toMatch(/^-rw-r--r-- .* unx +\d+ b. defN 80-Jan-01 00:00 index\.js$/m);
  expect(execFileSync('unzip', ['-p', file, 'index.js']).equals(data)).toBe(true);
});

test('deterministic: the same input gives the same bytes; other content gives other bytes', () => {
  const a = zipSingleFile('index.js', Buffer.from('one'));
  expect(zipSingleFile('index.js', Buffer.from('one')).equals(a)).toBe(true);
  expect(zipSingleFile('index.js', Buffer.from('two')).equals(a)).toBe(false);
});
