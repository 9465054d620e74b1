/**
 * Command-line options of `npm run load`, declared once (LOAD_COMMAND: type, default, help text; `--help`
 * prints them) and checked before anything starts: every bad value is an error that names its option, and
 * options that contradict each other are refused naming both. The bounds keep a typo from becoming a runaway
 * test; README.md lists them.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ARM_NAME, AWS_REGION_PATTERN, CLOUDWATCH_PERIOD_SECONDS, MAX_TENANT_COUNT, STACK_OUTPUTS } from '../../contracts';
import { decimal, oneOf, parseCommandLine, type CommandSpec } from '../command-line';
import { parseThresholds } from './thresholds';
import { OptionError } from './errors';
import { defined, type DeployedOutputs } from './outputs';
import { ORDERS, type Arm, type ArmTargets, type CloudWatchTargets, type LoadOptions, type Order, type Runner } from './types';

/**
 * Seconds between two arms of a sequential run. CloudWatch's metrics come in 60-second periods
 * (cloudwatch.ts), so with at least this much between them no minute holds requests of two arms: each arm's
 * database and proxy figures are its own, even on an instance the arms share.
 */
export const DEFAULT_COOLDOWN_SECONDS = CLOUDWATCH_PERIOD_SECONDS;

export const DEFAULTS = { path: '/tenants/{tenant}/items', tenants: 200, rate: 140, ramp: 0, duration: 600, cooldown: DEFAULT_COOLDOWN_SECONDS, out: 'load-report', on: 'local' } as const;

/** Requests per second over all arms: far above one machine's ceiling (see `npm run bench -- load`), low enough that a slip of the keyboard cannot flood an API. */
export const MAX_RATE = 5000;
/** The whole run, seconds: ramp + duration, and for a sequential run every arm's plus the cool-downs between them. 6 hours. */
export const MAX_SECONDS = 6 * 3600;
/**
 * ramp + duration of one Artillery run on `--on lambda`: Lambda stops a function at 15 minutes
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html); a worker also needs time to
 * start Artillery and send its last report, so the load itself gets 14. A sequential run starts fresh
 * workers for each arm (one `artillery run-lambda` per arm), so the bound is per arm.
 */
export const MAX_LAMBDA_SECONDS = 14 * 60;
/** Distributed workers. */
export const MAX_WORKERS = 100;

/** Characters a path may carry besides the `{tenant}` placeholder: RFC 3986 path characters, no query. */
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/** Every option of `npm run load`, once: what it takes, its default and its line in --help. */
export const LOAD_COMMAND = {
  name: 'npm run load',
  synopsis: ['npm run load -- --arm <name>=<url> [--arm <name>=<url> …] [options]', 'npm run load -- --outputs <file> --env <env> [options]'],
  options: {
    arm: { type: 'string', multiple: true, value: '<name>=<url>', help: 'an arm and its base URL (name: 1-32 of a-z 0-9 -); replaces the arms of --outputs' },
    outputs: { type: 'string', value: '<file>', help: 'what `cdktf deploy --outputs-file` wrote: the arms, whether they share a database, the names --cloudwatch needs (with --env)' },
    env: { type: 'string', value: '<env>', help: 'the environment of --outputs: stacks api-<env> and data-<env>' },
    path: { type: 'string', value: '<path>', default: DEFAULTS.path, help: "appended to each arm's URL; {tenant} becomes a random tenant id" },
    tenants: { type: 'string', value: '<n>', default: String(DEFAULTS.tenants), help: `tenant ids drawn from 0 to n-1, n from 1 to ${MAX_TENANT_COUNT}` },
    rate: { type: 'string', value: '<req/s>', default: String(DEFAULTS.rate), help: `requests per second, up to ${MAX_RATE}: over all arms (mixed), to each arm in its turn (sequential)` },
    ramp: { type: 'string', value: '<s>', default: String(DEFAULTS.ramp), help: 'seconds of linear warm-up from 1 request/s to --rate, before --duration' },
    duration: { type: 'string', value: '<s>', default: String(DEFAULTS.duration), help: 'seconds at --rate (each arm, when sequential)' },
    order: { type: 'string', value: ORDERS.join('|'), help: 'mixed: each request to an arm at random; sequential: each arm alone, one after another (default: mixed when --outputs says each arm has its own database, else sequential)' },
    cooldown: { type: 'string', value: '<s>', default: String(DEFAULTS.cooldown), help: "with --order sequential: seconds between one arm's run and the next" },
    out: { type: 'string', value: '<dir>', default: DEFAULTS.out, help: 'where report.html, report.json and the raw files go' },
    ensure: { type: 'string', multiple: true, value: '<terms>', help: "thresholds checked per arm, e.g. 'p99<800,failures<1%' (exit 2 when one is breached)" },
    cloudwatch: { type: 'boolean', help: "add each arm's AWS metrics over its window (needs credentials allowed cloudwatch:GetMetricData)" },
    function: { type: 'string', multiple: true, value: '<arm>=<name>', help: "with --cloudwatch: the arm's Lambda function (default: from --outputs)" },
    'db-instance': { type: 'string', value: '<id>', help: "with --cloudwatch: the DB instance of every arm (default: each arm's, from --outputs)" },
    'proxy-name': { type: 'string', value: '<name>', help: 'with --cloudwatch: the RDS Proxy of every arm (default: the proxy arm’s, from --outputs)' },
    on: { type: 'string', value: 'local|lambda|fargate', default: DEFAULTS.on, help: "where Artillery runs: this machine, or Artillery's workers in your AWS account" },
    count: { type: 'string', value: '<n>', help: `with --on lambda|fargate: workers, 1 to ${MAX_WORKERS}` },
    region: { type: 'string', value: '<region>', help: "with --on lambda|fargate: the workers' region; with --cloudwatch and arms whose URLs name none: the metrics' region" },
  },
  epilogue: ['exit: 0 every threshold holds, 2 one is breached, 1 an error (a bad option, Artillery failed, an arm got no request)', 'more: tools/load/README.md (options, files, report fields), docs/load-testing.md (the experiment)'],
} as const satisfies CommandSpec;

/** `https://<api-id>.execute-api.<region>.amazonaws.com[/…]`: the HTTP API id and region of an arm's URL. */
export function executeApi(url: string): { apiId: string; region: string } | undefined {
  const m = /^https:\/\/([a-z0-9]{10})\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\/|$)/.exec(url);
  return m ? { apiId: m[1], region: m[2] } : undefined;
}

export function parseArm(text: string): Arm {
  const eq = text.indexOf('=');
  if (eq < 0) throw new OptionError(`--arm ${JSON.stringify(text)}: expected <name>=<url>, e.g. --arm proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com`);
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (!ARM_NAME.test(name)) throw new OptionError(`--arm ${JSON.stringify(text)}: the name must be 1-32 characters of a-z, 0-9 and -, not starting with -`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OptionError(`--arm ${name}: ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionError(`--arm ${name}: the URL must be http:// or https://, not ${url.protocol}`);
  if (url.search || url.hash || url.username || url.password) throw new OptionError(`--arm ${name}: the URL may not carry a query, fragment or credentials (put the route in --path)`);
  return { name, url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

export function checkPath(path: string): string {
  const literal = path.split('{tenant}').join('');
  if (!PATH.test(literal) || literal.includes('{') || literal.includes('}')) {
    throw new OptionError(`--path ${JSON.stringify(path)}: expected an absolute path such as /tenants/{tenant}/items (no query, no spaces; {tenant} is the only placeholder)`);
  }
  return path;
}

/** Reads `--outputs <file> --env <name>` (outputs.ts: readOutputsFile). */
export type OutputsReader = (file: string, env: string) => DeployedOutputs;

/** The tenant route runs the tenants function; every other path the hits function. */
export const routeFunction = (path: string): 'tenants' | 'hits' => (path.startsWith('/tenants/') ? 'tenants' : 'hits');

/** Seconds a run takes at its schedule: one Artillery run (mixed), or one per arm with the cool-downs between them (sequential). */
export const runSeconds = (o: Pick<LoadOptions, 'arms' | 'order' | 'ramp' | 'duration' | 'cooldown'>): number =>
  o.order === 'mixed' ? o.ramp + o.duration : o.arms.length * (o.ramp + o.duration) + (o.arms.length - 1) * o.cooldown;

/**
 * The order of the arms, and why when the tool chose it or the choice goes against the deployment: mixed is
 * fair only when each arm has its own database (docs/load-testing.md). `outputs`: the file, when it describes
 * every arm of the run (arms given by --arm that it does not list are unknown to it).
 */
function chooseOrder(given: string | undefined, arms: readonly Arm[], outputs: { readonly file: string; readonly deployed: DeployedOutputs } | undefined): { order: Order; orderNote?: string } {
  const id = STACK_OUTPUTS.api.directArmDatabase;
  const shared = outputs !== undefined && outputs.deployed.directArmDatabase !== 'own';
  const why = () =>
    outputs?.deployed.directArmDatabase ? `${outputs.file} says ${id} = ${outputs.deployed.directArmDatabase}` : `${outputs?.file} has no ${id}: a deployment from before the direct arm could have its own`;
  if (given !== undefined) {
    const order = oneOf('order', given, ORDERS);
    if (order === 'mixed' && shared && arms.length > 1) return { order, orderNote: `--order mixed with arms that share one database (${why()}): one arm's load can fail the other's requests; sequential is the fair order here` };
    return { order };
  }
  if (arms.length < 2) return { order: 'sequential' };
  if (outputs === undefined) return { order: 'sequential', orderNote: 'order sequential: --arm does not say whether the arms share a database, so each runs alone in turn (--order mixed runs them together: fair when each has its own)' };
  if (shared) return { order: 'sequential', orderNote: `order sequential: the arms share one database (${why()}), so each runs alone in turn` };
  return { order: 'mixed', orderNote: `order mixed: each arm has its own database (${why()}), so they run together` };
}

/**
 * argv (after `npm run load --`) → options. `readOutputs` reads `--outputs <file> --env <name>` (injected so
 * this stays a pure function in tests).
 */
export function parseOptions(argv: readonly string[], readOutputs?: OutputsReader): LoadOptions {
  const { values: v, given } = parseCommandLine(LOAD_COMMAND, argv);
  // Values that need nothing else first, so a malformed one is named whatever else is missing.
  const path = checkPath(v.path);
  const tenants = decimal('tenants', v.tenants, { min: 1, max: MAX_TENANT_COUNT, integer: true });
  const rate = decimal('rate', v.rate, { min: 1, max: MAX_RATE, integer: false });
  const ramp = decimal('ramp', v.ramp, { min: 0, max: MAX_SECONDS, integer: true });
  const duration = decimal('duration', v.duration, { min: 1, max: MAX_SECONDS, integer: true });

  if ((v.outputs === undefined) !== (v.env === undefined)) throw new OptionError('--outputs and --env go together: --outputs <cdktf outputs file> --env <environment, e.g. dev>');
  const deployed = v.outputs !== undefined && v.env !== undefined ? (readOutputs ?? missingReader)(v.outputs, v.env) : undefined;

  const arms = v.arm.length === 0 && deployed !== undefined ? deployed.arms : v.arm.map(parseArm);
  const armsOption = v.arm.length === 0 ? `--outputs ${v.outputs}` : '--arm';
  /** What --outputs says of an arm, when it is one of the deployment's (same name and URL). */
  const deployedArm = (arm: Arm) => (deployed?.arms.some((d) => d.name === arm.name && d.url === arm.url) ? deployed.resources[arm.name] : undefined);
  if (arms.length === 0) throw new OptionError('--arm: name at least one arm, e.g. --arm proxy=<url> --arm direct=<url> (or --outputs <file> --env <name>)');
  const seen = new Set<string>();
  for (const arm of arms) {
    if (seen.has(arm.name)) throw new OptionError(`--arm: the name ${arm.name} is used twice`);
    seen.add(arm.name);
  }

  const described = deployed !== undefined && arms.every((arm) => deployedArm(arm) !== undefined);
  const { order, orderNote } = chooseOrder(v.order, arms, described ? { file: v.outputs!, deployed } : undefined);
  if (given.has('cooldown') && order === 'mixed') {
    throw new OptionError(given.has('order') ? '--cooldown is for --order sequential, not --order mixed' : `--cooldown is for --order sequential; these arms run mixed (each has its own database, per --outputs ${v.outputs}): add --order sequential`);
  }
  const cooldown = order === 'mixed' ? 0 : decimal('cooldown', v.cooldown, { min: 0, max: MAX_SECONDS, integer: true });
  const seconds = runSeconds({ arms, order, ramp, duration, cooldown });
  if (seconds > MAX_SECONDS) {
    throw new OptionError(
      order === 'mixed'
        ? `--ramp + --duration: ${seconds} s is more than ${MAX_SECONDS} s`
        : `--ramp, --duration and --cooldown: ${arms.length} arms in turn take ${arms.length} × (${ramp} + ${duration}) + ${arms.length - 1} × ${cooldown} = ${seconds} s, more than ${MAX_SECONDS} s`,
    );
  }
  if (v.out.trim() === '') throw new OptionError('--out: expected a directory');
  const ensure = v.ensure.flatMap((text) => parseThresholds(text, arms.map((a) => a.name)));

  const runner = parseRunner(v.on, v.count, v.region, ramp + duration, v.cloudwatch);

  const explicitFunctions = Object.fromEntries(
    v.function.map((text) => {
      const eq = text.indexOf('=');
      const arm = text.slice(0, eq);
      if (eq < 0 || !seen.has(arm) || eq === text.length - 1) throw new OptionError(`--function ${JSON.stringify(text)}: expected <arm>=<Lambda function name> for one of the arms (${[...seen].join(', ')})`);
      return [arm, text.slice(eq + 1)];
    }),
  );
  const cloudwatchInputs = ['function', 'db-instance', 'proxy-name'].filter((n) => given.has(n));
  if (!v.cloudwatch && cloudwatchInputs.length) throw new OptionError(`--${cloudwatchInputs[0]} is for --cloudwatch; add --cloudwatch`);
  let cloudwatch: CloudWatchTargets | undefined;
  if (v.cloudwatch) {
    const targets: Record<string, ArmTargets> = {};
    const regions = new Map<string, string>();
    for (const arm of arms) {
      const api = executeApi(arm.url);
      if (api && !regions.has(api.region)) regions.set(api.region, arm.name);
      const file = deployedArm(arm);
      const found: ArmTargets = {
        functionName: explicitFunctions[arm.name] ?? file?.[routeFunction(path)],
        apiId: api?.apiId,
        dbInstanceIdentifier: v['db-instance'] ?? file?.dbInstanceIdentifier,
        proxyName: v['proxy-name'] ?? file?.proxyName,
      };
      targets[arm.name] = defined(found);
    }
    if (regions.size > 1) throw new OptionError(`--cloudwatch: the arms are in several regions (${[...regions.keys()].join(', ')}); compare arms of one region`);
    const [armsRegion] = [...regions.keys()];
    if (armsRegion !== undefined && v.region !== undefined && runner.on === 'local' && v.region !== armsRegion) {
      throw new OptionError(`--region ${v.region} contradicts ${armsOption}: arm ${regions.get(armsRegion)}'s URL is in ${armsRegion}, where --cloudwatch reads the metrics; drop --region`);
    }
    const region = armsRegion ?? v.region;
    if (region !== undefined && !AWS_REGION_PATTERN.test(region)) throw new OptionError(`--region: ${JSON.stringify(region)} is not an AWS region name`);
    cloudwatch = { ...(region ? { region } : {}), arms: targets };
  }

  return { arms, path, tenants, rate, ramp, duration, order, cooldown, ...(orderNote ? { orderNote } : {}), out: v.out, ensure, runner, ...(cloudwatch ? { cloudwatch } : {}) };
}

function missingReader(): never {
  throw new OptionError('--outputs: no reader for the outputs file');
}

/**
 * The regions `artillery run-fargate --region` accepts (its flag's `options`: node_modules/artillery/lib/cmds/
 * run-fargate.ts, from lib/platform/aws-ecs/legacy/util.ts). Read from Artillery itself, and only for
 * --on fargate. Artillery is an ES module package that exports none of its internals: Node 22 could
 * `require()` the built file, but jest's module loader (which runs this in the tests) cannot load an ES
 * module, so a child Node imports it by path and prints the list. `run-lambda` takes any region.
 */
function fargateRegions(): readonly string[] {
  if (fargateRegionsCache) return fargateRegionsCache;
  const util = path.join(path.dirname(require.resolve('artillery/package.json')), 'dist', 'lib', 'platform', 'aws-ecs', 'legacy', 'util.js');
  const script = `import(${JSON.stringify(pathToFileURL(util).href)}).then((m) => process.stdout.write(JSON.stringify(m.supportedRegions)))`;
  fargateRegionsCache = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
  return fargateRegionsCache;
}
let fargateRegionsCache: readonly string[] | undefined;
/** The installed Artillery's version, for messages that quote its behaviour: read only when one is written. */
const artilleryVersion = () => (require('artillery/package.json') as { version: string }).version;

/** `seconds`: one Artillery run's ramp + duration (a sequential run has one per arm). */
function parseRunner(onText: string, count: string | undefined, region: string | undefined, seconds: number, cloudwatch: boolean): Runner {
  const on = oneOf('on', onText, ['local', 'lambda', 'fargate'] as const);
  if (on === 'local') {
    if (count !== undefined) throw new OptionError('--count is for --on lambda or --on fargate');
    // A region nothing reads would look as if it had been used.
    if (region !== undefined && !cloudwatch) throw new OptionError('--region is for --on lambda|fargate (where the workers run) or --cloudwatch (where the metrics are)');
    return { on: 'local' };
  }
  if (count === undefined) throw new OptionError(`--on ${on} needs --count <workers>`);
  if (region === undefined) throw new OptionError(`--on ${on} needs --region <AWS region the workers run in>`);
  if (!AWS_REGION_PATTERN.test(region)) throw new OptionError(`--region: ${JSON.stringify(region)} is not an AWS region name`);
  if (on === 'fargate' && !fargateRegions().includes(region)) {
    throw new OptionError(`--on fargate: Artillery ${artilleryVersion()} runs Fargate workers only in ${fargateRegions().join(', ')}, not ${region}`);
  }
  if (on === 'lambda' && seconds > MAX_LAMBDA_SECONDS) {
    throw new OptionError(`--on lambda: --ramp + --duration is ${seconds} s, but Lambda workers stop at 15 minutes; keep it ≤ ${MAX_LAMBDA_SECONDS} s or use --on fargate`);
  }
  return { on, count: decimal('count', count, { min: 1, max: MAX_WORKERS, integer: true }), region };
}
