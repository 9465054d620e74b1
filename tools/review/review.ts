/**
 * npm run review -- --base <git-ref>     compare the synthesized stacks of <git-ref> and the working tree (offline)
 * npm run review -- --plans <dir|file>   render `terraform show -json` plans: the directory `npm run plan` wrote,
 *                                        any directory of plan JSON files (recognised by content, not name), or one file
 * npm run review -- --compare <a> <b>    compare two existing cdktf.out directories
 *   --json <file>     also write the report as JSON
 *   --project <dir>   the cdktf project (default: the current directory)
 *
 * Markdown goes to stdout. Exit codes follow `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readPlans } from './lib/plan-json';
import { renderMarkdown } from './lib/render';
import { reviewAgainstBase } from './lib/revisions';
import { compareSynthOutputs } from './lib/synth-diff';
import { exitCodeOf, Io, PROCESS_IO, Report, toJson } from './types';

interface Options {
  base?: string;
  plans?: string;
  compare?: [string, string];
  json?: string;
  project: string;
}

function parse(argv: string[]): Options {
  const options: Options = { project: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const need = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--base': options.base = need(); break;
      case '--plans': options.plans = path.resolve(need()); break;
      case '--compare': options.compare = [path.resolve(need()), path.resolve(need())]; break;
      case '--json': options.json = path.resolve(need()); break;
      case '--project': options.project = path.resolve(need()); break;
      default: throw new Error(`unknown argument ${argv[i]} (see the comment at the top of tools/review/review.ts)`);
    }
  }
  if ([options.base, options.plans, options.compare].filter(Boolean).length !== 1) throw new Error('give exactly one of --base <ref>, --plans <dir|file>, --compare <dir> <dir>');
  return options;
}

/** The command: returns its exit code (0 no changes, 2 changes, 1 error) and never throws. */
export async function review(argv: readonly string[], io: Io = PROCESS_IO): Promise<0 | 1 | 2> {
  try {
    return await run(parse([...argv]), io);
  } catch (err) {
    io.stderr(`review: ${(err as Error).message}\n`);
    return 1;
  }
}

async function run(options: Options, io: Io): Promise<0 | 1 | 2> {
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
