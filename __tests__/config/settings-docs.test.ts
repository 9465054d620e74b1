/**
 * The settings table in docs/configuration.md is generated from the profile schema: it must match the
 * schema as it is now, and every setting a profile can hold must be documented there.
 */
import * as fs from 'node:fs';
import { PROFILES } from '../../config';
import { settingDocs } from '../../config/schema';
import { BEGIN, END, renderSettingsTable, SETTINGS_DOC, withSettingsTable } from '../../scripts/docs-settings';

const document = fs.readFileSync(SETTINGS_DOC, 'utf8');
const table = document.slice(document.indexOf(BEGIN) + BEGIN.length, document.indexOf(END)).trim();

/** Every path a profile sets, down to the sections' leaves; `tags` and `waivers` are documented as a whole. */
function settingPaths(value: unknown, path: string[] = []): string[] {
  const last = path[path.length - 1];
  if (value === null || typeof value !== 'object' || last === 'tags' || last === 'waivers') return [path.join('.')];
  return Object.entries(value).flatMap(([key, child]) => settingPaths(child, [...path, key]));
}

test('the table in docs/configuration.md is the one the schema renders now (run `npm run docs:settings` after changing the schema)', () => {
  expect(document.indexOf(BEGIN)).toBeGreaterThan(-1);
  expect(document.indexOf(END)).toBeGreaterThan(document.indexOf(BEGIN));
  expect(table).toBe(renderSettingsTable());
});

test('a stale table is detected and replaced, and nothing outside the markers changes', () => {
  const stale = document.replace(/^\| `network\.azCount` .*\n/m, '');
  expect(stale).not.toBe(document);
  expect(withSettingsTable(stale)).toBe(document);
  const edited = document.replace(BEGIN, `prose before\n${BEGIN}`);
  expect(withSettingsTable(edited)).toBe(edited);
});

test('a document without the markers is refused, naming them', () => {
  expect(() => withSettingsTable('# Configuration\n')).toThrow(/settings:begin/);
});

test.each(PROFILES.map((p) => [p.name, p] as const))('every setting %s uses has a documented row with a description', (_name, profile) => {
  const documented = new Map(settingDocs().map((row) => [row.path, row]));
  for (const path of settingPaths(profile)) {
    expect({ path, documented: documented.has(path) }).toEqual({ path, documented: true });
    expect({ path, description: documented.get(path)!.description !== '' }).toEqual({ path, description: true });
  }
});

test('every documented setting says what is allowed, and every optional one what its absence means', () => {
  for (const row of settingDocs().filter((r) => r.type !== 'object' || r.path.endsWith('waivers'))) {
    expect({ path: row.path, allowed: row.allowed !== '' }).toEqual({ path: row.path, allowed: true });
  }
  for (const row of settingDocs().filter((r) => !r.required)) expect({ path: row.path, absent: row.absent }).toEqual({ path: row.path, absent: expect.any(String) });
});
