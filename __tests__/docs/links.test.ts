/**
 * The documentation a user reads holds together: every relative link in README.md and docs/ leads to a file
 * that exists (and to a heading that exists, when it names one), every `npm run <script>` that README.md,
 * docs/ or `help` tells you to type is a script in package.json (or an engine's CLI script: `npm run cdktf`
 * under cdktf, `npm run cdktn` under CDK Terrain, tools/engine), and no file of the repository points at
 * notes a user who clones it does not have.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENGINES } from '../../tools/engine/engines';

const ROOT = path.resolve(__dirname, '../..');

/** README.md and every Markdown file under docs/, relative to the root. */
function documentationFiles(root: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  if (fs.existsSync(path.join(root, 'docs'))) walk('docs');
  return files;
}

/** The text outside fenced code blocks, line by line (fences of three or more backticks or tildes). */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && opener) fence = opener[1];
    else if (fence !== undefined && opener && opener[1][0] === fence[0] && opener[1].length >= fence.length && line.trim() === opener[1]) fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** Link targets in the prose: inline links and images, and reference definitions. Code spans are not links. */
export function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const raw of proseLines(markdown)) {
    const line = raw.replace(/(`+)(?:(?!\1).)+?\1/g, 'code');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(line);
    if (definition) targets.push(definition[1]);
  }
  return targets;
}

/** The anchors GitHub gives the headings of `markdown` (its slugger: lower case, punctuation dropped, spaces to hyphens, repeats numbered). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
      .replace(/<[^>]+>/g, '') // inline HTML
      .replace(/[`*]/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every relative link of `files` (relative to `root`) that leads nowhere, as `file: target (why)`. */
export function brokenLinks(root: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
  for (const file of files) {
    for (const target of linkTargets(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // https:, mailto:: not ours to check offline
      const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
      const linkPath = decodeURI(rawPath);
      const resolved = linkPath === '' ? file : path.normalize(path.join(path.dirname(file), linkPath));
      if (resolved.startsWith('..') || path.isAbsolute(linkPath)) {
        problems.push(`${file}: ${target} (leaves the repository)`);
        continue;
      }
      if (!fs.existsSync(path.join(root, resolved))) {
        problems.push(`${file}: ${target} (no file ${resolved})`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !headingAnchors(read(resolved)).has(anchor)) {
        problems.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  return problems;
}

/** The script names that `text` tells you to run: `npm run <name>` (with or without -s) and `npm test`. */
export function npmScriptsMentioned(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\bnpm run(?:\s+(?:-s|--silent))?\s+([A-Za-z0-9][A-Za-z0-9:_.-]*)/g)) names.add(m[1].replace(/[.:]+$/, ''));
  if (/\bnpm test\b/.test(text)) names.add('test');
  return names;
}

// Spelt in parts so that this file does not cite what it looks for.
const FOREIGN_NOTES = [['DESIGN', 'md'].join('.'), ['FIELD', 'NOTES'].join('-')];

/** Tracked (and new, not ignored) files of the repository at `root` whose text names a team note the repository does not ship. */
export function filesCitingForeignNotes(root: string): string[] {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  return files.filter((file) => {
    const full = path.join(root, file);
    if (!fs.existsSync(full) || !fs.statSync(full).isFile()) return false;
    const text = fs.readFileSync(full, 'utf8').toLowerCase();
    return FOREIGN_NOTES.some((note) => text.includes(note.toLowerCase()));
  });
}

const docs = documentationFiles(ROOT);

describe('documentation links', () => {
  test('README.md and docs/ are found', () => {
    expect(docs).toContain('README.md');
    expect(docs).toContain(path.join('docs', 'README.md'));
  });

  test('README.md stays a first screen: under 12 KB, the rest in docs/', () => {
    expect(fs.statSync(path.join(ROOT, 'README.md')).size).toBeLessThan(12 * 1024);
  });

  test('every relative link resolves to a file, and every #anchor to a heading of it', () => {
    expect(brokenLinks(ROOT, docs)).toEqual([]);
  });

  test('the link check catches a missing file, a missing heading and a link out of the repository', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-links-'));
    try {
      fs.mkdirSync(path.join(dir, 'docs'));
      fs.writeFileSync(path.join(dir, 'docs', 'a.md'), '# Page A\n\n## Two words: `code`\n\n## Two words: `code`\n');
      fs.writeFileSync(
        path.join(dir, 'README.md'),
        [
          '# Readme',
          '[ok](docs/a.md) [ok](docs/a.md#page-a) [ok](docs/a.md#two-words-code) [ok](docs/a.md#two-words-code-1) [ok](#readme)',
          '[web](https://example.com/missing.md) `[in code](nowhere.md)`',
          '```',
          '[in a fence](nowhere.md)',
          '```',
          '[gone](docs/b.md) [bad anchor](docs/a.md#page-b) [out](../elsewhere.md) [self](#nothing)',
          '[ref]: docs/c.md',
        ].join('\n'),
      );
      expect(brokenLinks(dir, ['README.md', 'docs/a.md'])).toEqual([
        'README.md: docs/b.md (no file docs/b.md)',
        'README.md: docs/a.md#page-b (no heading #page-b in docs/a.md)',
        'README.md: ../elsewhere.md (leaves the repository)',
        'README.md: #nothing (no heading #nothing in README.md)',
        'README.md: docs/c.md (no file docs/c.md)',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('commands the documentation mentions', () => {
  // The documentation speaks of both engines' CLI scripts (npm run cdktf, npm run cdktn); a checkout has the active one's.
  const scripts = [
    ...Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts),
    ...Object.values(ENGINES).map((engine) => engine.command),
  ];

  test('every `npm run <script>` in README.md, docs/ and help is a script of package.json', () => {
    const missing: string[] = [];
    for (const file of [...docs, 'help']) {
      for (const name of npmScriptsMentioned(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
        if (!scripts.includes(name)) missing.push(`${file}: npm run ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the documentation tells you the two first commands, and the scan finds them', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm run cdktf -- synth');
    expect([...npmScriptsMentioned(readme)]).toEqual(expect.arrayContaining(['cdktf', 'test']));
  });

  test('the scan reads script names as a shell would', () => {
    expect([...npmScriptsMentioned('npm run -s plan -- --apply; `npm run test:fast`. Then npm run review, and npm test.')].sort()).toEqual(['plan', 'review', 'test', 'test:fast']);
    expect([...npmScriptsMentioned('npm run <script> or npm testing')]).toEqual([]);
  });
});

describe('the repository cites only its own files', () => {
  test('no file names the team notes a clone does not have', () => {
    expect(filesCitingForeignNotes(ROOT)).toEqual([]);
  });

  test('README.md, docs/ and help do not mention field notes', () => {
    const mentions = [...docs, 'help'].filter((file) => /field[ -]notes/i.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(mentions).toEqual([]);
  });

  test('the citation check finds a note named in any file, in any case', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-cites-'));
    try {
      execFileSync('git', ['init', '-q'], { cwd: dir });
      fs.writeFileSync(path.join(dir, 'clean.ts'), 'export const x = 1;\n');
      fs.writeFileSync(path.join(dir, 'cites.ts'), `// see ${FOREIGN_NOTES[1].toLowerCase()}.md\n`);
      fs.mkdirSync(path.join(dir, 'docs'));
      fs.writeFileSync(path.join(dir, 'docs', 'x.md'), `as ${FOREIGN_NOTES[0]} says\n`);
      expect(filesCitingForeignNotes(dir).sort()).toEqual(['cites.ts', 'docs/x.md']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the README's layout table", () => {
  test('names only paths that exist, and every top-level folder of the repository', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Layout\n'));
    expect(section).toBeDefined();
    const named = section!
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\/$/, '')));
    expect(named.filter((p) => !fs.existsSync(path.join(ROOT, p)))).toEqual([]);
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f.includes('/'));
    const folders = [...new Set(tracked.map((f) => f.split('/')[0]))];
    const covered = (folder: string) => named.some((p) => p === folder || p.startsWith(`${folder}/`));
    expect(folders.filter((folder) => !covered(folder))).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  test('holds the generated settings table between its markers, each on a line of its own', () => {
    const lines = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8').split('\n');
    const begin = lines.filter((l) => l === '<!-- settings:begin -->').length;
    const end = lines.filter((l) => l === '<!-- settings:end -->').length;
    expect({ begin, end }).toEqual({ begin: 1, end: 1 });
    expect(lines.indexOf('<!-- settings:begin -->')).toBeLessThan(lines.indexOf('<!-- settings:end -->'));
  });
});
