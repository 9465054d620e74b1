/**
 * `npm run review`: the change review of the stacks, offline from two synth outputs or from `terraform show
 * -json` plans; Markdown on stdout, progress on stderr. Options are declared once (REVIEW_COMMAND; `--help`
 * prints them); README.md beside this file has the rest. Exit codes follow `terraform plan
 * -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandLine, runCommand, UsageError, type CommandSpec } from '../command-line';
import { readPlans } from './lib/plan-json';
import { renderMarkdown } from './lib/render';
import { reviewAgainstBase } from './lib/revisions';
import { compareSynthOutputs } from './lib/synth-diff';
import { exitCodeOf, Io, isReviewError, PROCESS_IO, Report, toJson } from './types';

export const REVIEW_COMMAND = {
  name: 'npm run review',
  prefix: 'review',
  synopsis: [
    'npm run review -- --base <git-ref>      compare the stacks synthesized at <git-ref> with the working tree (offline)',
    'npm run review -- --plans <dir|file>    render `terraform show -json` plans (the directory npm run plan wrote, or any plan JSON)',
    'npm run review -- --compare <dir> <dir> compare two existing cdktf.out directories',
  ],
  options: {
    base: { type: 'string', value: '<git-ref>', help: 'synthesize <git-ref> in a temporary git worktree and compare it with the working tree' },
    plans: { type: 'string', value: '<dir|file>', help: 'plan JSON files, recognised by content, not name' },
    compare: { type: 'string', value: '<dir> <dir>', help: 'two cdktf.out directories: before, then after' },
    json: { type: 'string', value: '<file>', help: 'also write the report as JSON (no values)' },
    project: { type: 'string', value: '<dir>', help: 'with --base: the cdktf project (default: the current directory)' },
  },
  epilogue: ['exit: 0 no changes, 2 changes (or stacks waiting), 1 an error', 'more: tools/review/README.md, docs/reviewing-changes.md'],
  // The second directory of --compare.
  allowPositionals: true,
} as const satisfies CommandSpec;

export interface ReviewOptions {
  readonly base?: string;
  readonly plans?: string;
  readonly compare?: readonly [string, string];
  readonly json?: string;
  readonly project: string;
}

const MODES = ['base', 'plans', 'compare'] as const;

/** argv (after `npm run review --`) → options; a UsageError names what is wrong. */
export function parseReviewOptions(argv: readonly string[]): ReviewOptions {
  const { values: v, given, tokens } = parseCommandLine(REVIEW_COMMAND, argv);
  // `--compare <a> <b>`: the one argument that is not an option must follow --compare's own value.
  const compareAt = tokens.find((t) => t.kind === 'option' && t.name === 'compare');
  const second = compareAt && compareAt.kind === 'option' ? compareAt.index + (compareAt.inlineValue ? 1 : 2) : -1;
  const positionals = tokens.filter((t) => t.kind === 'positional');
  const stray = positionals.find((t) => t.index !== second);
  if (stray && stray.kind === 'positional') throw new UsageError(`unexpected argument ${JSON.stringify(stray.value)} (options start with --; ${REVIEW_COMMAND.name} -- --help lists the options)`);
  const after = positionals.find((t) => t.index === second);
  if (v.compare !== undefined && (!after || after.kind !== 'positional')) throw new UsageError('--compare needs two directories: --compare <dir> <dir>');

  const modes = MODES.filter((m) => given.has(m));
  if (modes.length === 0) throw new UsageError(`give one of --base <git-ref>, --plans <dir|file>, --compare <dir> <dir> (${REVIEW_COMMAND.name} -- --help)`);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} contradict each other: give exactly one of --base, --plans, --compare`);
  if (given.has('project') && !given.has('base')) throw new UsageError(`--project is for --base (the project whose revisions are synthesized); --${modes[0]} reads what it is given`);
  return {
    ...(v.base !== undefined ? { base: v.base } : {}),
    ...(v.plans !== undefined ? { plans: path.resolve(v.plans) } : {}),
    ...(v.compare !== undefined && after?.kind === 'positional' ? { compare: [path.resolve(v.compare), path.resolve(after.value)] as const } : {}),
    ...(v.json !== undefined ? { json: path.resolve(v.json) } : {}),
    project: path.resolve(v.project ?? process.cwd()),
  };
}

/** The command: returns its exit code (0 no changes, 2 changes, 1 error) and never throws. */
export async function review(argv: readonly string[], io: Io = PROCESS_IO): Promise<0 | 1 | 2> {
  // Errors the review raises say what failed (git, synth, a plan file): their message is the line to print.
  return (await runCommand(REVIEW_COMMAND, argv, io, () => run(parseReviewOptions(argv), io), isReviewError)) as 0 | 1 | 2;
}

async function run(options: ReviewOptions, io: Io): Promise<0 | 1 | 2> {
  const log = (line: string) => io.stderr(`review: ${line}\n`);
  let report: Report;
  if (options.base) report = await reviewAgainstBase(options.project, options.base, log);
  else if (options.plans) report = readPlans(options.plans);
  else report = compareSynthOutputs(options.compare![0], options.compare![1]);
  if (options.json) fs.writeFileSync(options.json, `${JSON.stringify(toJson(report), null, 2)}\n`);
  io.stdout(renderMarkdown(report));
  return exitCodeOf(report);
}

if (require.main === module) review(process.argv.slice(2)).then((code) => (process.exitCode = code));
