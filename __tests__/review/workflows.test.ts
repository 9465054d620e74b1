/** The GitHub workflows shipped for users' repositories: thin YAML over the npm scripts, least privilege. */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { synthEnvironments } from '../support/synth';
import { ROOT } from './fixture';

const DIR = path.join(ROOT, '.github', 'workflows');
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const workflows = files.map((file) => ({ file, text: fs.readFileSync(path.join(DIR, file), 'utf8'), doc: parse(fs.readFileSync(path.join(DIR, file), 'utf8')) }));
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; name?: string };
type Job = { steps: Step[]; permissions?: Record<string, string>; needs?: string | string[] };
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
