/**
 * `npm run plan`: synthesize once, then per stack in manifest order `terraform init`, `plan`, `show -json`
 * (with `--apply`, applying each stack's saved plan before planning the next). Options are declared once
 * (PLAN_COMMAND; `--help` prints them); README.md beside this file has the rest.
 *
 * A stack whose upstream stack has no state yet, or lacks an output it reads, is reported as waiting for it
 * (and so are its dependants): it does not fail the run. Exit codes: 0 no changes, 2 changes or waiting, 1 error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandLine, runCommand, UsageError, type CommandSpec } from '../command-line';
import { applyRefusal } from './lib/apply-guard';
import { deployOrder, environmentsOf, readManifest, stacksOfEnvironment } from './lib/manifest';
import { PLAN_SUMMARY_FILE, PlanJson } from './lib/plan-json';
import { run, synthesize, terraformEnv } from './lib/processes';
import { Io, isReviewError, PlanSummary, PROCESS_IO } from './types';

export const PLAN_COMMAND = {
  name: 'npm run plan',
  prefix: 'plan',
  synopsis: [
    'npm run plan [-- options]                     synthesize, then terraform init, plan and show -json of every stack, in manifest order',
    'npm run plan -- --apply [--allow-replace]     the same, applying each stack before planning the next',
    'npm run plan -- --list-environments           print the environments as a JSON array, in manifest order',
  ],
  options: {
    out: { type: 'string', value: '<dir>', help: 'where plans and `show -json` files go (default: plans/ in --project); they hold values in clear: never upload them' },
    'cdktf-out': { type: 'string', value: '<dir>', help: 'the synth output (default: cdktf.out in --project)' },
    project: { type: 'string', value: '<dir>', help: 'the cdktf project (default: the current directory)' },
    'no-synth': { type: 'boolean', help: 'plan an existing synth output' },
    apply: { type: 'boolean', help: "apply each stack's saved plan before planning the next" },
    'allow-replace': { type: 'boolean', help: 'with --apply: go on when a stateful resource would be replaced or deleted' },
    environment: { type: 'string', value: '<env>', help: 'only the stacks of one environment (stacks named <kind>-<env>), in manifest order' },
    'list-environments': { type: 'boolean', help: "print the environments as a JSON array and stop (the apply workflow's matrix)" },
  },
  epilogue: ['exit: 0 no changes, 2 changes or stacks waiting for an upstream apply, 1 an error', 'render the plans: npm run review -- --plans <dir>; more: tools/review/README.md, docs/reviewing-changes.md'],
} as const satisfies CommandSpec;

export interface PlanOptions {
  readonly project: string;
  readonly out: string;
  readonly cdktfOut: string;
  readonly synth: boolean;
  readonly apply: boolean;
  readonly allowReplace: boolean;
  readonly environment?: string;
  readonly listEnvironments: boolean;
}

/** argv (after `npm run plan --`) → options; a UsageError names what is wrong, or the two options that contradict each other. */
export function parsePlanOptions(argv: readonly string[]): PlanOptions {
  const { values: v, given } = parseCommandLine(PLAN_COMMAND, argv);
  if (v['allow-replace'] && !v.apply) throw new UsageError('--allow-replace is for --apply: a plan without --apply replaces nothing');
  if (v['list-environments']) {
    const other = ['apply', 'allow-replace', 'environment', 'out'].find((name) => given.has(name));
    if (other) throw new UsageError(`--list-environments and --${other} contradict each other: --list-environments prints the environments and plans nothing`);
  }
  const project = path.resolve(v.project ?? process.cwd());
  return {
    project,
    out: v.out !== undefined ? path.resolve(v.out) : path.join(project, 'plans'),
    cdktfOut: v['cdktf-out'] !== undefined ? path.resolve(v['cdktf-out']) : path.join(project, 'cdktf.out'),
    synth: !v['no-synth'],
    apply: v.apply,
    allowReplace: v['allow-replace'],
    ...(v.environment !== undefined ? { environment: v.environment } : {}),
    listEnvironments: v['list-environments'],
  };
}

/** Terraform's ways of saying "the stack you read from has not been applied (with this output) yet". */
const WAITING = [/Unable to find remote state/, /This object does not have an attribute named "cross-stack-output-/, /Unsupported attribute[\s\S]*terraform_remote_state/];

/** Which upstream stacks an error names (cdktf calls the data source `cross-stack-reference-input-<stack>`); all dependencies if none. */
function upstreamNamed(stderr: string, dependencies: readonly string[]): string[] {
  const named = dependencies.filter((d) => stderr.includes(`cross-stack-reference-input-${d}`));
  return named.length ? named : [...dependencies];
}

function lastLines(text: string, n = 12): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** The command: returns its exit code (0 no changes, 2 changes or waiting, 1 error) and never throws. */
export async function plan(argv: readonly string[], io: Io = PROCESS_IO): Promise<0 | 1 | 2> {
  return (await runCommand(PLAN_COMMAND, argv, io, () => planStacks(parsePlanOptions(argv), io), isReviewError)) as 0 | 1 | 2;
}

async function planStacks(options: PlanOptions, io: Io): Promise<0 | 1 | 2> {
  const log = (line: string) => io.stderr(`plan: ${line}\n`);
  if (!options.listEnvironments && run('terraform', ['version'], { cwd: options.project, env: terraformEnv() }).code !== 0) throw new Error('terraform is not on PATH');
  if (options.synth) {
    fs.rmSync(options.cdktfOut, { recursive: true, force: true });
    await synthesize(options.project, options.cdktfOut);
  }
  if (options.listEnvironments) {
    io.stdout(`${JSON.stringify(environmentsOf(readManifest(options.cdktfOut)))}\n`);
    return 0;
  }
  // The environment is checked before anything is written: an unknown one leaves no plans/ behind.
  const manifest = options.environment ? stacksOfEnvironment(readManifest(options.cdktfOut), options.environment) : readManifest(options.cdktfOut);
  fs.mkdirSync(options.out, { recursive: true });
  const env = terraformEnv();
  const results: PlanSummary['stacks'] = [];
  const state = new Map<string, 'planned' | 'waiting' | 'error'>();
  let changes = false;
  for (const stack of deployOrder(manifest)) {
    const { dependencies, workingDirectory } = manifest.get(stack)!;
    const blocked = dependencies.filter((d) => state.get(d) !== 'planned');
    if (blocked.length) {
      results.push({ stack, status: 'waiting', waitingFor: blocked });
      state.set(stack, 'waiting');
      log(`${stack}: waiting for ${blocked.join(', ')}`);
      continue;
    }
    const dir = path.join(options.cdktfOut, workingDirectory);
    const planFile = path.join(options.out, `${stack}.tfplan`);
    fs.rmSync(planFile, { force: true });
    const fail = (what: string, detail: string) => {
      results.push({ stack, status: 'error', error: `${what}: ${lastLines(detail)}` });
      state.set(stack, 'error');
      log(`${stack}: ${what}\n${detail}`);
    };
    const init = run('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env });
    if (init.code !== 0) {
      fail('terraform init failed', init.stderr || init.stdout);
      continue;
    }
    // Without --apply nothing writes state, so the plan takes no lock (it may run beside an apply).
    const lock = options.apply ? [] : ['-lock=false'];
    const plan = run('terraform', ['plan', ...lock, '-input=false', '-no-color', '-detailed-exitcode', `-out=${planFile}`], { cwd: dir, env });
    if (plan.code === 1) {
      if (WAITING.some((w) => w.test(plan.stderr))) {
        const waitingFor = upstreamNamed(plan.stderr, dependencies);
        results.push({ stack, status: 'waiting', waitingFor });
        state.set(stack, 'waiting');
        log(`${stack}: waiting for ${waitingFor.join(', ')} (not applied yet, or without the output it reads)`);
      } else fail('terraform plan failed', plan.stderr);
      continue;
    }
    const show = run('terraform', ['show', '-json', '-no-color', planFile], { cwd: dir, env });
    if (show.code !== 0) {
      fail('terraform show failed', show.stderr);
      continue;
    }
    const planJson = `${stack}.plan.json`;
    fs.writeFileSync(path.join(options.out, planJson), show.stdout);
    changes ||= plan.code === 2;
    log(`${stack}: planned, ${plan.code === 2 ? 'changes' : 'no changes'}`);
    if (options.apply && plan.code === 2) {
      const refusal = applyRefusal(stack, JSON.parse(show.stdout) as PlanJson, options.allowReplace);
      if (refusal) {
        fail('stopped before apply', refusal);
        break;
      }
      const apply = run('terraform', ['apply', '-input=false', '-no-color', '-auto-approve', planFile], { cwd: dir, env });
      if (apply.code !== 0) {
        fail('terraform apply failed', apply.stderr);
        break;
      }
      log(`${stack}: applied`);
    }
    results.push({ stack, status: 'planned', planJson });
    state.set(stack, 'planned');
  }
  // Stacks never reached after a stop wait for the stack that stopped the run.
  for (const stack of deployOrder(manifest)) {
    if (!state.has(stack)) {
      const waitingFor = manifest.get(stack)!.dependencies.filter((d) => state.get(d) !== 'planned');
      results.push({ stack, status: 'waiting', waitingFor: waitingFor.length ? waitingFor : [...state.keys()].filter((s) => state.get(s) === 'error') });
    }
  }
  const summary: PlanSummary = { stacks: results };
  fs.writeFileSync(path.join(options.out, PLAN_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  if (results.some((r) => r.status === 'error')) return 1;
  return changes || results.some((r) => r.status === 'waiting') ? 2 : 0;
}

if (require.main === module) plan(process.argv.slice(2)).then((code) => (process.exitCode = code));
