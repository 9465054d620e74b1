/** The synth comparison on the fixture: added and removed stacks, replacement from the table, and drift from a plan; then the command lines through npm. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { planToStackReport } from '../../tools/review/lib/plan-json';
import { synthesize } from '../../tools/review/lib/processes';
import { usage } from '../../tools/command-line';
import { PLAN_COMMAND } from '../../tools/review/plan';
import { REVIEW_COMMAND } from '../../tools/review/review';
import { FIXTURE_APP, readJson, ROOT, runTool } from './fixture';

jest.setTimeout(120000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-compare-test-'));
const full = path.join(work, 'full');
const reduced = path.join(work, 'reduced');

beforeAll(async () => {
  // Side by side, as `--base` synthesizes its two revisions.
  await Promise.all([
    synthesize(FIXTURE_APP, full, { ...process.env, FIXTURE_GENERATION: '1' }),
    synthesize(FIXTURE_APP, reduced, { ...process.env, FIXTURE_GENERATION: '2', FIXTURE_WITHOUT_DOWNSTREAM: '1' }),
  ]);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function compare(from: string, to: string) {
  const json = path.join(work, `${path.basename(from)}-${path.basename(to)}.json`);
  const r = await runTool('review', ['--compare', from, to, '--json', json]);
  return { ...r, report: readJson(json) };
}

it('reports a removed stack with its resources deleted, in manifest order, and a triggers_replace change as replace', async () => {
  const { code, report } = await compare(full, reduced);
  expect(code).toBe(2);
  expect(report.source).toBe('synth');
  expect(report.stacks.map((s: any) => `${s.stack}:${s.status}`)).toEqual(['upstream:changed', 'midstream:unchanged', 'downstream:removed']);
  expect(report.stacks[2].changes.map((c: any) => `${c.action} ${c.address}`)).toEqual(['delete terraform_data.sink', 'delete output.sink_id']);
  expect(report.stacks[0].changes).toEqual([
    expect.objectContaining({ address: 'terraform_data.seed', action: 'replace', attributes: ['triggers_replace.generation', 'input.generation'] }),
  ]);
});

it('reports an added stack with its resources created', async () => {
  const { report } = await compare(reduced, full);
  expect(report.stacks.find((s: any) => s.stack === 'downstream')).toMatchObject({ status: 'added', changes: [expect.objectContaining({ action: 'create', address: 'terraform_data.sink' }), expect.anything()] });
});

it('gives exit 0 for identical synth outputs', async () => {
  expect((await compare(full, full)).code).toBe(0);
});

it('reports resource_drift as drift, apart from the changes the plan makes, with masked values', () => {
  // The shape `terraform show -json` gives for an object changed outside Terraform (format_version 1.2).
  const drifted = {
    address: 'aws_db_instance.db',
    mode: 'managed' as const,
    type: 'aws_db_instance',
    change: {
      actions: ['update'],
      before: { instance_class: 'db.t4g.micro', password: 'old-password-value' },
      after: { instance_class: 'db.t4g.small', password: 'new-password-value' },
      before_sensitive: { password: true },
      after_sensitive: { password: true },
    },
  };
  const report = planToStackReport('data', { resource_drift: [drifted], resource_changes: [] });
  expect(report.status).toBe('unchanged'); // drift alone is not a change this plan makes
  expect(report.changes).toEqual([expect.objectContaining({ drift: true, action: 'update', attributes: ['instance_class', 'password'], risks: ['cost'] })]);
  expect(JSON.stringify(report)).not.toMatch(/password-value/);
});

describe('the command lines as a user types them', () => {
  /** `npm run <script> -- <args>` from the project root: exit code and output (npm's banner is on stdout). */
  const npmRun = (script: 'review' | 'plan', args: string[]) => {
    const r = spawnSync('npm', ['run', script, '--', ...args], { cwd: ROOT, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it.each([
    ['review', REVIEW_COMMAND],
    ['plan', PLAN_COMMAND],
  ] as const)('npm run %s -- --help: exit 0 with the synopsis and the options', (script, command) => {
    const r = npmRun(script, ['--help']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    // Whole lines, whether npm printed its banner above them or not (npm run -s, or a silent loglevel inherited).
    expect(`\n${r.stdout}`).toContain(`\n${usage(command)}\n`);
    expect(r.stdout).toMatch(new RegExp(`(^|\\n)usage: npm run ${script}`));
  });

  it('npm run review with two sources: exit 1, one line naming both', () => {
    expect(npmRun('review', ['--base', 'HEAD', '--plans', 'plans'])).toMatchObject({ code: 1, stderr: 'review: --base and --plans contradict each other: give exactly one of --base, --plans, --compare\n' });
  });

  it('npm run review on a plan it cannot read: one line, no stack', () => {
    const file = path.join(work, 'odd.plan.json');
    fs.writeFileSync(file, JSON.stringify({ format_version: '1.2', resource_changes: [null] }));
    const r = npmRun('review', ['--plans', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^review: unexpected error: [^\n]+ \(--debug prints its stack\)\n$/);
  });
});
