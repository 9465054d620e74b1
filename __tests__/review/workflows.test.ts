/** The GitHub workflows shipped for users' repositories: thin YAML over the npm scripts, least privilege. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { parse } from 'yaml';
import { deployOrder, readManifest, stacksOfEnvironment } from '../../tools/review/lib/manifest';
import { cacheDir } from '../../tools/engine/install';
import { PROFILES } from '../../config';
import { synthEnvironments, synthInProcess } from '../support/synth';
import { ROOT, runTool } from './fixture';

const DIR = path.join(ROOT, '.github', 'workflows');
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const workflows = files.map((file) => ({ file, text: fs.readFileSync(path.join(DIR, file), 'utf8'), doc: parse(fs.readFileSync(path.join(DIR, file), 'utf8')) }));
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; name?: string };
type Job = {
  steps: Step[];
  permissions?: Record<string, string>;
  needs?: string | string[];
  environment?: unknown;
  strategy?: { matrix?: Record<string, unknown>; 'fail-fast'?: boolean };
  outputs?: Record<string, string>;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  env?: Record<string, string>;
};
const jobsOf = (doc: any): Array<[string, Job]> => Object.entries(doc.jobs ?? {}) as Array<[string, Job]>;
const isCredentials = (s: Step) => /^aws-actions\/configure-aws-credentials@/.test(s.uses ?? '');
const isTest = (s: Step) => /(^|\s)(bash \.ci\/run|npm test|npm run -s test|npm run test)(\s|$)/m.test(s.run ?? '');
const isInstall = (s: Step) => /npm ci|bash \.ci\/run/.test(s.run ?? '');

it('ships the pull-request review and the apply workflow', () => {
  const triggers = workflows.map((w) => Object.keys(w.doc.on ?? {}).join(','));
  expect(triggers).toEqual(expect.arrayContaining(['pull_request', 'push']));
});

it.each(workflows.map((w) => [w.file, w] as const))('%s calls only npm scripts that exist', (_f, w) => {
  const called = [...w.text.matchAll(/npm run(?: -s)? ([\w:-]+)/g)].map((m) => m[1]);
  expect(called.length).toBeGreaterThan(0);
  for (const name of called) expect({ name, exists: name in scripts }).toEqual({ name, exists: true });
});

it.each(workflows.map((w) => [w.file, w] as const))('%s pins every action to a full commit SHA', (_f, w) => {
  const uses = jobsOf(w.doc).flatMap(([, job]) => job.steps.map((s) => s.uses).filter((u): u is string => Boolean(u)));
  expect(uses.length).toBeGreaterThan(0);
  for (const u of uses) expect(u).toMatch(/^(\.\/.+|[\w.-]+\/[\w./-]+@[0-9a-f]{40})$/);
});

it.each(workflows.map((w) => [w.file, w] as const))('%s grants least privilege: nothing by default, OIDC and write scopes only where used', (_f, w) => {
  expect(w.doc.permissions).toEqual({});
  for (const [name, job] of jobsOf(w.doc)) {
    const perms = job.permissions ?? {};
    expect({ job: name, declared: job.permissions !== undefined }).toEqual({ job: name, declared: true });
    expect(Object.values(perms).every((v) => v === 'read' || v === 'write' || v === 'none')).toBe(true);
    const assumesRole = job.steps.some(isCredentials);
    expect({ job: name, idToken: perms['id-token'] === 'write' }).toEqual({ job: name, idToken: assumesRole });
    const comments = job.steps.some((s) => /upsert-comment\.sh/.test(s.run ?? ''));
    expect({ job: name, prWrite: perms['pull-requests'] === 'write' }).toEqual({ job: name, prWrite: comments });
    for (const [scope, level] of Object.entries(perms)) if (!['id-token', 'pull-requests'].includes(scope)) expect({ scope, level }).toEqual({ scope, level: 'read' });
  }
});

it.each(workflows.map((w) => [w.file, w] as const))('%s configures AWS credentials only after install and tests', (_f, w) => {
  const jobs = new Map(jobsOf(w.doc));
  for (const [name, job] of jobs) {
    const at = job.steps.findIndex(isCredentials);
    if (at < 0) continue;
    const before = job.steps.slice(0, at);
    expect({ job: name, installedFirst: before.some(isInstall) }).toEqual({ job: name, installedFirst: true });
    const needs = [job.needs ?? []].flat();
    const testedFirst = before.some(isTest) || needs.some((n) => jobs.get(n)?.steps.some(isTest));
    expect({ job: name, testedFirst }).toEqual({ job: name, testedFirst: true });
    // Nothing after the credentials installs packages (install scripts would run with them).
    expect(job.steps.slice(at).some((s) => /npm (ci|install)|\.ci\/run/.test(s.run ?? ''))).toBe(false);
  }
});

it.each(workflows.map((w) => [w.file, w] as const))('%s pins Terraform, keeps its exit codes, and uploads no plan', (_f, w) => {
  for (const [, job] of jobsOf(w.doc)) {
    for (const s of job.steps) {
      if (/^hashicorp\/setup-terraform@/.test(s.uses ?? '')) {
        expect(String(s.with?.terraform_version)).toMatch(/^\d+\.\d+\.\d+$/);
        expect(s.with?.terraform_wrapper).toBe(false);
      }
      expect(s.uses ?? '').not.toMatch(/upload-artifact/);
    }
  }
});

it('hard-codes no stack name: the scripts take stacks from the manifest', () => {
  const stackIds = synthEnvironments().flatMap((env) => [env.stacks.network, env.stacks.data, env.stacks.api].map((s) => s.node.id));
  expect(stackIds.length).toBeGreaterThan(0);
  for (const w of workflows) for (const id of stackIds) expect({ file: w.file, id, found: w.text.includes(id) }).toEqual({ file: w.file, id, found: false });
});

describe('apply.yml applies one environment per job, behind the GitHub environment of that name', () => {
  const apply = workflows.find((w) => Object.keys(w.doc.on ?? {}).includes('push'))!;
  const jobs = new Map(jobsOf(apply.doc));
  const applying = jobsOf(apply.doc).filter(([, job]) => job.steps.some((s) => /npm run -s plan -- --apply/.test(s.run ?? '')));

  it('takes its matrix from the environment list a first job reads from the manifest', () => {
    expect(applying).toHaveLength(1);
    const [, job] = applying[0];
    const matrix = String(job.strategy?.matrix?.environment ?? '');
    const source = /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\) \}\}$/.exec(matrix);
    expect({ matrix, fromAJobOutput: Boolean(source) }).toEqual({ matrix, fromAJobOutput: true });
    const [, lister, output] = source!;
    expect([job.needs ?? []].flat()).toContain(lister);
    const listJob = jobs.get(lister)!;
    const stepId = /^\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(listJob.outputs?.[output] ?? '');
    expect(stepId).not.toBeNull();
    const step = listJob.steps.find((s) => (s as { id?: string }).id === stepId![1])!;
    expect(step.run).toMatch(new RegExp(`echo "${stepId![2]}=\\$\\(npm run -s plan -- --list-environments\\)" >> "\\$GITHUB_OUTPUT"`));
    // The list comes from a synth of this commit, after the tests and without credentials.
    expect(listJob.steps.some(isTest)).toBe(true);
    expect(listJob.steps.some(isCredentials)).toBe(false);
  });

  it('gates each job with its own environment, applies only that environment, and never cancels an apply', () => {
    const [, job] = applying[0];
    expect(apply.doc.environment).toBeUndefined();
    expect(job.environment).toBe('${{ matrix.environment }}');
    for (const [name, other] of jobs) if (other !== job) expect({ name, environment: other.environment }).toEqual({ name, environment: undefined });
    const step = job.steps.find((s) => /npm run -s plan -- --apply/.test(s.run ?? ''))!;
    const envVar = Object.entries((step as { env?: Record<string, string> }).env ?? {}).find(([, v]) => v === '${{ matrix.environment }}')?.[0];
    expect(envVar).toBeDefined();
    expect(step.run).toContain(`--environment "$${envVar}"`);
    expect(job.strategy?.['fail-fast']).toBe(false);
    expect(job.concurrency).toEqual({ group: expect.stringContaining('${{ matrix.environment }}'), 'cancel-in-progress': false });
  });

  it('lists the environments of the synthesized app, each applying its stacks in manifest order', async () => {
    // In process: the listing reads the app's own cdktf.out (its manifest), not the shared JSON.
    const environments = synthInProcess(PROFILES);
    const outdir = (environments[0].stacks.network.node.root as App).outdir;
    const r = await runTool('plan', ['--list-environments', '--no-synth', '--cdktf-out', outdir]);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as string[];
    const manifest = readManifest(outdir);
    // Every environment once; its stacks are exactly the stacks the app built for that profile.
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.length).toBe(environments.length);
    for (const env of environments) {
      const ids = Object.values(env.stacks).map((s) => s.node.id);
      const named = listed.filter((e) => ids.every((id) => id.endsWith(`-${e}`)));
      expect({ ids, named: named.length }).toEqual({ ids, named: 1 });
      const order = deployOrder(stacksOfEnvironment(manifest, named[0]));
      expect([...order].sort()).toEqual([...ids].sort());
      // Manifest order: every stack after the stacks manifest.json says it depends on.
      for (const [i, stack] of order.entries()) for (const d of manifest.get(stack)!.dependencies) expect(order.indexOf(d)).toBeLessThan(i);
    }
  });
});

it.each(workflows.map((w) => [w.file, w] as const))("%s: every job that runs .ci/run (and so npm run parity) first restores the engine cache, keyed by the parked lock files", (_f, w) => {
  // The directory tools/engine/install.ts keeps the second engine's node_modules in, under the runner's home.
  const cache = `~/${path.relative(os.homedir(), cacheDir({})).split(path.sep).join('/')}`;
  const running = jobsOf(w.doc).filter(([, job]) => job.steps.some((s) => /bash \.ci\/run/.test(s.run ?? '')));
  // Each workflow runs CI before it plans or applies: a workflow without it would pass this test unseen.
  expect(running.length).toBeGreaterThan(0);
  for (const [name, job] of running) {
    const ci = job.steps.findIndex((s) => /bash \.ci\/run/.test(s.run ?? ''));
    const restore = job.steps.slice(0, ci).find((s) => /^actions\/cache@/.test(s.uses ?? ''));
    expect({ job: name, path: restore?.with?.path }).toEqual({ job: name, path: cache });
    expect(String(restore?.with?.key)).toContain(`hashFiles('package.json', 'tools/engine/*.package-lock.json'`);
  }
});

describe('one Node.js version for CI, the workflows and the engines range', () => {
  const nvmrc = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
  const engines = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node as string;

  it.each(workflows.map((w) => [w.file, w] as const))('%s: every setup-node reads .nvmrc, none names a version of its own', (_f, w) => {
    const setups = jobsOf(w.doc).flatMap(([, job]) => job.steps.filter((s) => /^actions\/setup-node@/.test(s.uses ?? '')));
    expect(setups.length).toBeGreaterThan(0);
    for (const s of setups) expect(s.with).toMatchObject({ 'node-version-file': '.nvmrc' });
    for (const s of setups) expect(s.with?.['node-version']).toBeUndefined();
  });

  it(".nvmrc's major is within package.json's engines (>= the floor)", () => {
    const floor = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines);
    expect(floor).not.toBeNull();
    expect(Number(nvmrc)).toBeGreaterThanOrEqual(Number(floor![1]));
  });
  // How .ci/run gets that major on an older machine: __tests__/ci/use-node.test.ts.
});
