/**
 * Writes the settings table of docs/configuration.md from the profile schema (config/schema.ts), between
 * `<!-- settings:begin -->` and `<!-- settings:end -->`, so each setting's type, allowed values and
 * description are written once, in the schema. `npm run docs:settings` rewrites it; `--check` only
 * reports whether it is current (exit 1 when not). __tests__/config/settings-docs.test.ts runs the check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settingDocs } from '../config/schema';

export const SETTINGS_DOC = path.join(__dirname, '..', 'docs', 'configuration.md');
export const BEGIN = '<!-- settings:begin -->';
export const END = '<!-- settings:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table of every profile setting, in schema order. */
export function renderSettingsTable(): string {
  const rows = settingDocs().map((s) =>
    [`\`${s.path}\``, s.type, s.allowed, s.required ? 'required' : `optional; absent: ${s.absent ?? 'not set'}`, s.description].map(cell).join(' | '),
  );
  return ['| Setting | Type | Allowed | When absent | Description |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r} |`)].join('\n');
}

/** `document` with the text between the markers replaced by the current table. */
export function withSettingsTable(document: string): string {
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${path.relative(process.cwd(), SETTINGS_DOC)} must hold ${BEGIN} followed by ${END}`);
  return `${document.slice(0, begin + BEGIN.length)}\n${renderSettingsTable()}\n${document.slice(end)}`;
}

if (require.main === module) {
  const current = fs.existsSync(SETTINGS_DOC) ? fs.readFileSync(SETTINGS_DOC, 'utf8') : `# Configuration\n\n${BEGIN}\n${END}\n`;
  const next = withSettingsTable(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error(`${path.relative(process.cwd(), SETTINGS_DOC)}: the settings table is out of date; run \`npm run docs:settings\``);
      process.exit(1);
    }
  } else if (next !== current) {
    fs.writeFileSync(SETTINGS_DOC, next);
    console.log(`wrote the settings table of ${path.relative(process.cwd(), SETTINGS_DOC)}`);
  }
}
