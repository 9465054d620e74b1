/**
 * The command lines of `npm run review` and `npm run plan`, at the parser and in this process: every form
 * each takes, every refusal (one line naming the option, or both options that contradict each other), --help
 * from the declarations, and an unexpected error as one line. Nothing here runs Terraform or a synth.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { usage, UsageError } from '../../tools/command-line';
import { parsePlanOptions, plan, PLAN_COMMAND } from '../../tools/review/plan';
import { parseReviewOptions, review, REVIEW_COMMAND } from '../../tools/review/review';

function refusal(parse: (argv: string[]) => unknown, argv: string[]): string {
  try {
    parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

async function call(tool: typeof review | typeof plan, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await tool(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const abs = (p: string) => path.resolve(p);

describe('npm run review: the parser', () => {
  test.each([
    [['--base', 'origin/main'], { base: 'origin/main', project: abs('.') }],
    [['--base=HEAD~1', '--project', 'x', '--json', 'r.json'], { base: 'HEAD~1', project: abs('x'), json: abs('r.json') }],
    [['--plans', 'plans'], { plans: abs('plans'), project: abs('.') }],
    [['--compare', 'a', 'b'], { compare: [abs('a'), abs('b')], project: abs('.') }],
    [['--compare=a', 'b', '--json', 'r.json'], { compare: [abs('a'), abs('b')], json: abs('r.json'), project: abs('.') }],
    [['--json', 'r.json', '--compare', 'a', 'b'], { compare: [abs('a'), abs('b')], json: abs('r.json'), project: abs('.') }],
  ])('%p', (argv, options) => {
    expect(parseReviewOptions(argv)).toEqual(options);
  });

  test.each([
    [[], 'give one of --base <git-ref>, --plans <dir|file>, --compare <dir> <dir> (npm run review -- --help)'],
    [['--base', 'main', '--plans', 'p'], '--base and --plans contradict each other: give exactly one of --base, --plans, --compare'],
    [['--plans', 'p', '--compare', 'a', 'b'], '--plans and --compare contradict each other: give exactly one of --base, --plans, --compare'],
    [['--compare', 'a'], '--compare needs two directories: --compare <dir> <dir>'],
    [['--compare', 'a', '--json', 'j', 'b'], 'unexpected argument "b" (options start with --; npm run review -- --help lists the options)'],
    [['--compare', 'a', 'b', 'c'], 'unexpected argument "c" (options start with --; npm run review -- --help lists the options)'],
    [['--base', 'main', 'extra'], 'unexpected argument "extra" (options start with --; npm run review -- --help lists the options)'],
    [['--plans', 'p', '--project', 'x'], '--project is for --base (the project whose revisions are synthesized); --plans reads what it is given'],
    [['--base'], '--base needs a value'],
    [['--bsae', 'main'], 'unknown option --bsae (npm run review -- --help lists the options)'],
    [['--base', 'a', '--base', 'b'], '--base is given twice; give it once'],
  ])('%p is refused: %s', (argv, message) => {
    expect(refusal(parseReviewOptions, argv)).toBe(message);
  });
});

describe('npm run plan: the parser', () => {
  const project = abs('.');
  test.each([
    [[], { project, out: path.join(project, 'plans'), cdktfOut: path.join(project, 'cdktf.out'), synth: true, apply: false, allowReplace: false, listEnvironments: false }],
    [['--project', 'app', '--no-synth'], { project: abs('app'), out: path.join(abs('app'), 'plans'), cdktfOut: path.join(abs('app'), 'cdktf.out'), synth: false, apply: false, allowReplace: false, listEnvironments: false }],
    [['--apply', '--allow-replace', '--environment', 'dev', '--out', 'o', '--cdktf-out', 'c'], { project, out: abs('o'), cdktfOut: abs('c'), synth: true, apply: true, allowReplace: true, environment: 'dev', listEnvironments: false }],
    [['--list-environments', '--no-synth', '--cdktf-out', 'c'], { project, out: path.join(project, 'plans'), cdktfOut: abs('c'), synth: false, apply: false, allowReplace: false, listEnvironments: true }],
  ])('%p', (argv, options) => {
    expect(parsePlanOptions(argv)).toEqual(options);
  });

  test.each([
    [['--allow-replace'], '--allow-replace is for --apply: a plan without --apply replaces nothing'],
    [['--list-environments', '--apply'], '--list-environments and --apply contradict each other: --list-environments prints the environments and plans nothing'],
    [['--list-environments', '--environment', 'dev'], '--list-environments and --environment contradict each other: --list-environments prints the environments and plans nothing'],
    [['--list-environments', '--out', 'x'], '--list-environments and --out contradict each other: --list-environments prints the environments and plans nothing'],
    [['--apply=yes'], '--apply takes no value (got --apply=yes)'],
    [['--environment'], '--environment needs a value'],
    [['--out', 'a', '--out', 'b'], '--out is given twice; give it once'],
    [['--dry-run'], 'unknown option --dry-run (npm run plan -- --help lists the options)'],
    [['plans'], 'unexpected argument "plans" (options start with --; npm run plan -- --help lists the options)'],
  ])('%p is refused: %s', (argv, message) => {
    expect(refusal(parsePlanOptions, argv)).toBe(message);
  });
});

describe('the commands in this process', () => {
  test.each([
    ['review', review, REVIEW_COMMAND],
    ['plan', plan, PLAN_COMMAND],
  ] as const)('%s --help: the synopsis and every option, exit 0, nothing run', async (_name, tool, command) => {
    const r = await call(tool, ['--help']);
    expect(r).toEqual({ code: 0, stdout: `${usage(command)}\n`, stderr: '' });
    for (const [name, spec] of Object.entries(command.options)) expect(r.stdout).toMatch(new RegExp(`\\n\\s+--${name}\\b[^\\n]*${spec.help.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  test('plan --environment that names no environment: exit 1 naming it, and no plans directory left behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-env-'));
    try {
      const out = path.join(dir, 'cdktf.out');
      fs.mkdirSync(out);
      const stack = (name: string) => ({ name, dependencies: [], workingDirectory: `stacks/${name}`, synthesizedStackPath: `stacks/${name}/cdk.tf.json` });
      fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ stacks: { 'network-dev': stack('network-dev') } }));
      const plans = path.join(dir, 'plans');
      const r = await call(plan, ['--no-synth', '--cdktf-out', out, '--out', plans, '--environment', 'staging']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^plan: .*no stack of environment staging .*environments: dev\)\n$/);
      expect(fs.existsSync(plans)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a refusal is one line with the tool’s prefix, exit 1', async () => {
    expect(await call(review, ['--base', 'main', '--compare', 'a', 'b'])).toEqual({ code: 1, stdout: '', stderr: 'review: --base and --compare contradict each other: give exactly one of --base, --plans, --compare\n' });
    expect(await call(plan, ['--allow-replace'])).toEqual({ code: 1, stdout: '', stderr: 'plan: --allow-replace is for --apply: a plan without --apply replaces nothing\n' });
  });

  describe('errors while reviewing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-cli-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('an anticipated one (no plan where plans were expected) is its message, one line, exit 1', async () => {
      const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
      const r = await call(review, ['--plans', empty]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^review: [^\\n]*${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*\\n$`));
    });

    test('an unexpected one (a plan whose resource change is null) is one line; --debug adds the stack', async () => {
      const file = path.join(dir, 'odd.plan.json');
      fs.writeFileSync(file, JSON.stringify({ format_version: '1.2', resource_changes: [null] }));
      const r = await call(review, ['--plans', file]);
      expect(r).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^review: unexpected error: Cannot read properties of null[^\n]* \(--debug prints its stack\)\n$/) });
      const debug = await call(review, ['--plans', file, '--debug']);
      expect(debug.stderr).toMatch(/^review: unexpected error: Cannot read properties of null[^\n]*\nTypeError: [^\n]*\n\s+at /);
    });
  });
});
