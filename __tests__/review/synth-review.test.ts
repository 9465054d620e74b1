/**
 * `npm run review -- --base HEAD` on a real temporary git repository holding a copy of this project:
 * the base is synthesized in a git worktree, the working tree beside it, and the stacks compared.
 * Expectations are about resource types and actions, never about profile or stack names.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyCheckout } from '../../tools/engine/workspace';
import { readJson, ROOT, runScript, runTool } from './fixture';

jest.setTimeout(240000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-synth-test-'));
/** The project's copy the tests edit (beforeAll). */
let repo: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });

/**
 * The one place this test edits a profile: replaces the single `key: from` in `file` with `key: to`.
 * Fails loudly when the text is not there exactly once, so a restructured config/ breaks here, not silently.
 */
function editProfile(key: string, to: (current: string) => string): void {
  // The first profile file of config/ that sets `key` once, whatever its name or value (a fork edits them).
  const files = fs.readdirSync(path.join(repo, 'config')).sort().map((f) => path.join('config', f));
  const line = new RegExp(`(\\b${key}: )'([^']*)'`);
  const file = files.find((f) => (fs.readFileSync(path.join(repo, f), 'utf8').match(new RegExp(line.source, 'g')) ?? []).length === 1);
  if (!file) throw new Error(`editProfile: no profile in config/ sets ${key} exactly once`);
  const full = path.join(repo, file);
  fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replace(line, (_m, head: string, value: string) => `${head}'${to(value)}'`));
}

/**
 * Switches off the cache of a profile that has it on, whichever that is (a fork may have turned dev's off
 * already): the profile files are the config/*.ts holding a `cache: { enabled: true` block.
 */
function turnCacheOffInAProfile(): void {
  const on = /(cache: \{\s*enabled: )true\b/;
  const files = fs.readdirSync(path.join(repo, 'config')).map((f) => path.join('config', f));
  const file = files.find((f) => on.test(fs.readFileSync(path.join(repo, f), 'utf8')));
  if (!file) throw new Error('turnCacheOffInAProfile: no profile in config/ has its cache on');
  fs.writeFileSync(path.join(repo, file), fs.readFileSync(path.join(repo, file), 'utf8').replace(on, '$1false'));
}

/** A real change to the function's bundle (an exported constant survives minification). */
function editFunctionCode(): void {
  fs.appendFileSync(path.join(repo, 'functions', 'hits', 'handler.ts'), "\nexport const reviewProbe = 'changed';\n");
}

/**
 * `npm run review -- --base HEAD` in the copy. `commandLine`: through tsx in the copy's directory, as a user
 * runs it (the project defaults to the current directory); otherwise the same function in this process.
 */
async function review(commandLine = false) {
  const json = path.join(work, `report-${Date.now()}.json`);
  const args = ['--base', 'HEAD', '--json', json];
  const r = commandLine ? runScript('review', args, { cwd: repo }) : await runTool('review', [...args, '--project', repo]);
  if (r.code === 1) throw new Error(`review failed:\n${r.stderr}`);
  return { ...r, report: readJson(json) };
}

const allChanges = (report: any) => report.stacks.flatMap((s: any) => s.changes.map((c: any) => ({ ...c, stack: s.stack })));

beforeAll(() => {
  // The project as a user has it: tracked and new files, not node_modules or build output, committed on main.
  repo = copyCheckout(ROOT, 'review-synth-project-');
  // After the commit: .gitignore's `node_modules/` matches directories only, and this is a symlink.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(repo, { recursive: true, force: true });
});

afterEach(() => {
  git('checkout', '-q', '--', '.');
});

it('gives exit 0 and every stack unchanged when nothing was edited', async () => {
  const { code, report, stderr } = await review(true);
  expect(stderr).toMatch(/dependencies linked/); // same lockfile: node_modules reused, not installed
  expect(report.stacks.length).toBeGreaterThanOrEqual(3);
  expect(report.stacks.filter((s: any) => s.status !== 'unchanged')).toEqual([]);
  expect(code).toBe(0);
  expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1); // the base worktree is gone
});

it('flags a renamed database as a data-loss replace, a cache switched off as deletes, and new function code as such', async () => {
  editProfile('databaseName', (name) => `${name}_renamed`);
  turnCacheOffInAProfile();
  editFunctionCode();
  const { code, stdout, report } = await review();
  expect(code).toBe(2);
  const changes = allChanges(report);

  const databases = changes.filter((c: any) => c.type === 'aws_db_instance');
  expect(databases.length).toBeGreaterThan(0);
  for (const db of databases) expect(db).toMatchObject({ action: 'replace', attributes: expect.arrayContaining(['db_name']), risks: expect.arrayContaining(['data-loss']) });
  expect(stdout).toMatch(/🔴 `[^`]+` \*\*replace\*\* `aws_db_instance\.[^`]+` \(`db_name`\): data-loss/);

  const caches = changes.filter((c: any) => c.type.startsWith('aws_elasticache_'));
  expect(caches.length).toBeGreaterThan(0);
  expect(new Set(caches.map((c: any) => c.action))).toEqual(new Set(['delete']));
  for (const c of caches.filter((x: any) => x.type === 'aws_elasticache_cluster')) expect(c.risks).toContain('data-loss');
  // The cache's security group and its rules go with it.
  expect(changes.filter((c: any) => c.action === 'delete' && c.type.includes('security_group')).length).toBeGreaterThan(0);

  const functions = changes.filter((c: any) => c.type === 'aws_lambda_function');
  expect(functions.length).toBeGreaterThan(0);
  for (const f of functions) {
    expect(f.action).toBe('update');
    expect(f.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^function code changed \(bundle \d+\.\d KiB → \d+\.\d KiB zipped, \+\d+ bytes\)$/)]));
  }
  expect(stdout).not.toMatch(/filebase64sha256|archive\.zip/); // no hash diff for the code
});

it('reports a changed instance class as an in-place update with a cost risk', async () => {
  // Another class of the same family and generation: an in-place change whatever the profile had.
  const sizes = ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge'];
  editProfile('instanceClass', (cls) => cls.replace(/\.([a-z0-9]+)$/, (_m, size: string) => `.${sizes[sizes.indexOf(size) + 1] ?? 'large'}`));
  const { code, report } = await review();
  expect(code).toBe(2);
  const changes = allChanges(report);
  const databases = changes.filter((c: any) => c.type === 'aws_db_instance');
  expect(databases.length).toBeGreaterThan(0);
  for (const c of databases) expect(c).toMatchObject({ action: 'update', attributes: ['instance_class'], risks: ['cost'] });
  // Nothing else but the alarms whose thresholds follow the instance class (memory, max_connections), in place.
  for (const c of changes.filter((c: any) => c.type !== 'aws_db_instance')) expect(c).toMatchObject({ type: 'aws_cloudwatch_metric_alarm', action: 'update' });
});
