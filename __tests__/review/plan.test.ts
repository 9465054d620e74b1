/**
 * `npm run plan` and `npm run review -- --plans` against real Terraform: the fixture app uses only the builtin
 * provider, so init, plan and apply run offline. The steps share one state directory and run in order.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FIXTURE_APP, readJson, runScript, runTool } from './fixture';

jest.setTimeout(180000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-plan-test-'));
const cdktfOut = path.join(work, 'cdktf.out');
const plans = path.join(work, 'plans');
const FIRST_TOKEN = 'first-token-4f1c9a';
const SECOND_TOKEN = 'second-token-8d2e7b';
// Each stack's .terraform lives in its directory under cdktf.out (in `work`), so no TF_DATA_DIR may be shared.
const baseEnv = { FIXTURE_TOKEN: FIRST_TOKEN, FIXTURE_GENERATION: '1', FIXTURE_LABEL: 'first', TF_PLUGIN_CACHE_DIR: path.join(work, 'plugin-cache'), TF_DATA_DIR: '' };
fs.mkdirSync(baseEnv.TF_PLUGIN_CACHE_DIR);

function plan(extra: string[] = [], env: Record<string, string> = {}) {
  return runTool('plan', ['--project', FIXTURE_APP, '--cdktf-out', cdktfOut, '--out', plans, ...extra], { env: { ...baseEnv, ...env } });
}

async function review(jsonName: string, source = plans) {
  const json = path.join(work, jsonName);
  const r = await runTool('review', ['--plans', source, '--json', json]);
  return { ...r, report: r.code === 1 && !fs.existsSync(json) ? undefined : readJson(json) };
}

const statusOf = (report: any) => Object.fromEntries(report.stacks.map((s: any) => [s.stack, s.waitingFor ? `${s.status}:${s.waitingFor.join(',')}` : s.status]));

beforeAll(() => {
  try {
    execFileSync('terraform', ['version'], { env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '' } });
  } catch (err) {
    throw new Error(`these tests run real Terraform (>= 1.10) on a builtin-provider fixture, offline; is it installed? ${(err as Error).message}`);
  }
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

it('plans the upstream stack and reports its dependants as waiting, without failing', async () => {
  const r = await plan();
  expect(r.stderr).not.toMatch(/plan: .*failed/);
  expect(r.code).toBe(2);
  // Order and dependencies come from the fixture's manifest.json.
  const manifest = readJson(path.join(cdktfOut, 'manifest.json'));
  expect(manifest.stacks.midstream.dependencies).toEqual(['upstream']);
  const { code, stdout, report } = await review('first.json');
  expect(code).toBe(2);
  expect(statusOf(report)).toEqual({ upstream: 'changed', midstream: 'waiting:upstream', downstream: 'waiting:midstream' });
  expect(report.stacks[0].changes.map((c: any) => `${c.action} ${c.address}`)).toEqual(
    expect.arrayContaining(['create terraform_data.seed', 'create terraform_data.credential']),
  );
  expect(stdout).toContain('⏳ waiting for upstream');
});

it('applies stack by stack in manifest order, so each dependant is planned once its upstream has state', async () => {
  // The configuration of the first plan: its synth output is planned again, not synthesized again.
  const r = await plan(['--no-synth', '--apply']);
  expect(r.code).toBe(2);
  expect(r.stderr.match(/plan: (\w+): applied/g)).toEqual(['plan: upstream: applied', 'plan: midstream: applied', 'plan: downstream: applied']);
  for (const stack of ['upstream', 'midstream', 'downstream']) expect(fs.existsSync(path.join(work, `terraform.${stack}.tfstate`))).toBe(true);
});

it('gives exit 0 and says so when nothing changed', async () => {
  expect((await plan(['--no-synth'])).code).toBe(0);
  const { code, stdout, report } = await review('same.json');
  expect(code).toBe(0);
  expect(statusOf(report)).toEqual({ upstream: 'unchanged', midstream: 'unchanged', downstream: 'unchanged' });
  expect(stdout).toContain('No changes');
});

it('reports a stack as waiting when its upstream state lacks an output it now reads', async () => {
  expect((await plan([], { FIXTURE_READ_CREDENTIAL: '1' })).code).toBe(2);
  const { report } = await review('new-output.json');
  // upstream would publish the new output (a change to apply); midstream cannot read it yet.
  expect(statusOf(report)).toEqual({ upstream: 'changed', midstream: 'waiting:upstream', downstream: 'waiting:midstream' });
});

it('reports a triggers_replace change as a replace and an argument change as an update', async () => {
  expect((await plan([], { FIXTURE_GENERATION: '2', FIXTURE_LABEL: 'second' })).code).toBe(2);
  const { code, report } = await review('replace.json');
  expect(code).toBe(2);
  const changes = Object.fromEntries(report.stacks.flatMap((s: any) => s.changes.map((c: any) => [`${s.stack} ${c.address}`, c])));
  expect(changes['upstream terraform_data.seed']).toMatchObject({ action: 'replace', attributes: expect.arrayContaining(['triggers_replace']) });
  expect(changes['midstream terraform_data.relay']).toMatchObject({ action: 'update', attributes: ['input.label'] });
  expect(changes['downstream terraform_data.sink']).toBeUndefined();
});

it('never prints a sensitive value, although show -json holds it in clear', async () => {
  expect((await plan([], { FIXTURE_TOKEN: SECOND_TOKEN })).code).toBe(2);
  const raw = fs.readFileSync(path.join(plans, 'upstream.plan.json'), 'utf8');
  expect(raw).toContain(FIRST_TOKEN); // the test is only meaningful while Terraform prints it
  expect(raw).toContain(SECOND_TOKEN);
  const { stdout, report } = await review('sensitive.json');
  const printed = stdout + JSON.stringify(report);
  expect(printed).toContain('(sensitive)');
  expect(printed).not.toContain(FIRST_TOKEN);
  expect(printed).not.toContain(SECOND_TOKEN);
  expect(report.stacks[0].changes.map((c: any) => `${c.action} ${c.address}`)).toEqual(['update terraform_data.credential', 'update output.token_echo']);
});

describe('a plan source is recognised by its content, and no plan is never "no changes"', () => {
  const other = path.join(work, 'other-names');

  it('reads plan JSON under any file name, skipping what is not a plan, and a single plan file', async () => {
    fs.mkdirSync(other);
    // A user's own `terraform show -json > plan.json`, and a name without `.plan.json`.
    fs.copyFileSync(path.join(plans, 'upstream.plan.json'), path.join(other, 'plan.json'));
    fs.copyFileSync(path.join(plans, 'midstream.plan.json'), path.join(other, 'mid-output.json'));
    fs.copyFileSync(path.join(plans, 'upstream.tfplan'), path.join(other, 'upstream.tfplan')); // binary: not JSON
    fs.writeFileSync(path.join(other, 'notes.json'), '{"format_version":"1.2"}'); // JSON, but no plan in it
    const { code, report } = await review('other-names.json', other);
    expect(code).toBe(2);
    expect(statusOf(report)).toEqual({ 'mid-output': 'unchanged', plan: 'changed' });
    expect(report.stacks.find((s: any) => s.stack === 'plan').changes.map((c: any) => c.address)).toContain('terraform_data.credential');

    const single = await review('single.json', path.join(other, 'plan.json'));
    expect(single.code).toBe(2);
    expect(statusOf(single.report)).toEqual({ plan: 'changed' });
  });

  it('exits 1 naming what it looked for and where, for an empty directory or one without a plan', () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    const r = runScript('review', ['--plans', empty]); // the command line itself: exit code and message
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('No changes');
    expect(r.stderr).toContain(empty);
    expect(r.stderr).toMatch(/no Terraform plan found \(it is empty\).*format_version.*resource_changes/);

    const noPlan = path.join(work, 'no-plan');
    fs.mkdirSync(noPlan);
    fs.writeFileSync(path.join(noPlan, 'notes.json'), '{"format_version":"1.2"}');
    fs.writeFileSync(path.join(noPlan, 'api-dev.plan.json'), ''); // a CI step that failed half way
    return review('no-plan.json', noPlan).then(({ code, stderr, stdout }) => {
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/none of them a plan: api-dev\.plan\.json, notes\.json/);
    });
  });
});

it('reports a stack whose plan failed with status error, in red, counted, and exit 1', async () => {
  const r = await plan([], { FIXTURE_FAIL_PLAN: 'midstream' });
  expect(r.code).toBe(1);
  const { code, stdout, report } = await review('failed.json');
  expect(code).toBe(1);
  expect(statusOf(report)).toEqual({ upstream: 'unchanged', midstream: 'error', downstream: 'waiting:midstream' });
  expect(report.stacks[1].error).toMatch(/terraform plan failed: [\s\S]*The fixture was asked to fail this plan/);
  expect(stdout).not.toContain('No changes');
  expect(stdout).toContain('| midstream | 🔴 **error** |');
  expect(stdout).toMatch(/> \[!CAUTION\]\n> \*\*1 stack could not be planned or read: this review is incomplete\.\*\*\n>\n> - 🔴 `midstream`: terraform plan failed/);
  expect(stdout.split('\n')[3]).toMatch(/^🔴 1 of 3 stacks failed · 1 waiting$/);

  // A summary that lists a plan file nobody wrote: an error too, not a crash or a pass.
  const summary = readJson(path.join(plans, 'plan-summary.json'));
  summary.stacks[0] = { stack: 'upstream', status: 'planned', planJson: 'gone.plan.json' };
  fs.writeFileSync(path.join(plans, 'plan-summary.json'), JSON.stringify(summary));
  const missing = await review('missing.json');
  expect(missing.code).toBe(1);
  expect(missing.report.stacks[0]).toMatchObject({ stack: 'upstream', status: 'error', error: expect.stringContaining('gone.plan.json') });
});

it('applies one environment at a time: only its stacks, in manifest order, and lists the environments', async () => {
  const envs = path.join(work, 'environments');
  const envOut = ['--project', FIXTURE_APP, '--cdktf-out', path.join(envs, 'cdktf.out'), '--out', path.join(envs, 'plans')];
  const env = { FIXTURE_ENVIRONMENTS: 'green,blue' };
  // Each option once: the command line refuses a second --out (the helper plan() sets its own).
  const planEnvironments = (extra: string[]) => runTool('plan', [...envOut, ...extra], { env: { ...baseEnv, ...env } });
  // --list-environments plans nothing, so it takes no --out (the command line refuses the pair).
  const listed = await runTool('plan', ['--project', FIXTURE_APP, '--cdktf-out', path.join(envs, 'cdktf.out'), '--list-environments'], { env: { ...baseEnv, ...env } });
  expect(listed.stderr).toBe('');
  expect(listed.code).toBe(0);
  // Manifest order: the environments in the order of their first stack, whatever the synth order.
  expect(JSON.parse(listed.stdout)).toEqual(['blue', 'green']);

  const r = await planEnvironments(['--no-synth', '--apply', '--environment', 'green']);
  expect(r.code).toBe(2);
  expect(r.stderr.match(/plan: ([\w-]+): applied/g)).toEqual(['plan: upstream-green: applied', 'plan: midstream-green: applied', 'plan: downstream-green: applied']);
  expect(fs.readdirSync(envs).filter((f) => f.endsWith('.tfstate')).sort()).toEqual(['terraform.downstream-green.tfstate', 'terraform.midstream-green.tfstate', 'terraform.upstream-green.tfstate']);
  expect(readJson(path.join(envs, 'plans', 'plan-summary.json')).stacks.map((s: any) => s.stack)).toEqual(['upstream-green', 'midstream-green', 'downstream-green']);

  const unknown = await planEnvironments(['--no-synth', '--environment', 'purple']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/no stack of environment purple .*\(environments: blue, green\)/);
});
