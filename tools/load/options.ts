/**
 * Command-line options of `npm run load`, checked before anything starts: every bad value is an error that
 * names its option. The bounds keep a typo from becoming a runaway test; README.md lists them.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { AWS_REGION_PATTERN, MAX_TENANT_COUNT } from '../../contracts';
import { parseThresholds } from './thresholds';
import { OptionError } from './errors';
import type { DeployedOutputs } from './outputs';
import type { Arm, CloudWatchTargets, LoadOptions, Runner } from './types';

export const DEFAULTS = { path: '/tenants/{tenant}/items', tenants: 200, rate: 140, ramp: 0, duration: 600, out: 'load-report' } as const;

/** Requests per second over all arms: far above one machine's ceiling (see `npm run bench -- load`), low enough that a slip of the keyboard cannot flood an API. */
export const MAX_RATE = 5000;
/** ramp + duration, seconds: 6 hours. */
export const MAX_SECONDS = 6 * 3600;
/**
 * ramp + duration on `--on lambda`: Lambda stops a function at 15 minutes
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html); a worker also needs time to
 * start Artillery and send its last report, so the load itself gets 14.
 */
export const MAX_LAMBDA_SECONDS = 14 * 60;
/** Distributed workers. */
export const MAX_WORKERS = 100;

const ARM_NAME = /^[a-z0-9-]{1,32}$/;
/** Characters a path may carry besides the `{tenant}` placeholder: RFC 3986 path characters, no query. */
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

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
  if (!ARM_NAME.test(name)) throw new OptionError(`--arm ${JSON.stringify(text)}: the name must be 1-32 characters of a-z, 0-9 and -`);
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

function number(option: string, text: string | undefined, { min, max, integer }: { min: number; max: number; integer: boolean }): number {
  if (text === undefined || text.trim() === '' || !Number.isFinite(Number(text))) throw new OptionError(`--${option}: expected a number, got ${JSON.stringify(text ?? '')}`);
  const value = Number(text);
  if (integer && !Number.isInteger(value)) throw new OptionError(`--${option}: expected a whole number, got ${text}`);
  if (value < min || value > max) throw new OptionError(`--${option}: ${text} is outside ${min}…${max}`);
  return value;
}

export function checkPath(path: string): string {
  const literal = path.split('{tenant}').join('');
  if (!PATH.test(literal) || literal.includes('{') || literal.includes('}')) {
    throw new OptionError(`--path ${JSON.stringify(path)}: expected an absolute path such as /tenants/{tenant}/items (no query, no spaces; {tenant} is the only placeholder)`);
  }
  return path;
}

/** What `npm run load -- --help` prints: the synopsis; tools/load/README.md has the rest. */
export const USAGE = `usage: npm run load -- --arm <name>=<url> [--arm …] [--path /tenants/{tenant}/items] [--tenants 200] [--rate 140]
                      [--ramp 0] [--duration 600] [--out load-report] [--ensure <terms>, e.g. p99<800,failures<1%]
                      [--cloudwatch [--outputs <cdktf outputs file> --env <env>] [--function <arm>=<name>] [--db-instance <id>] [--proxy-name <name>] [--region <r>]]
                      [--on lambda|fargate --count <n> --region <r>]
exit: 0 every threshold holds, 2 one is breached, 1 an error. Options, files and fields: tools/load/README.md`;

/** `--help` or `-h` anywhere: print USAGE and run nothing. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.some((a) => a === '--help' || a === '-h');

/** Options that take a value; the rest are switches. */
const VALUED = new Set(['arm', 'path', 'tenants', 'rate', 'ramp', 'duration', 'out', 'ensure', 'on', 'count', 'region', 'outputs', 'env', 'function', 'db-instance', 'proxy-name']);
const SWITCHES = new Set(['cloudwatch']);

/** Every `--name value` (or `--name=value`) of argv, in order; unknown options are errors. */
function tokens(argv: readonly string[]): { name: string; value?: string }[] {
  const out: { name: string; value?: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new OptionError(`unexpected argument ${JSON.stringify(arg)} (options start with --; see tools/load/README.md)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (SWITCHES.has(name)) {
      if (eq >= 0) throw new OptionError(`--${name} takes no value`);
      out.push({ name });
    } else if (VALUED.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new OptionError(`--${name} needs a value`);
      out.push({ name, value });
    } else {
      throw new OptionError(`unknown option --${name} (see tools/load/README.md)`);
    }
  }
  return out;
}

/** Reads `--outputs <file> --env <name>` (outputs.ts: readOutputsFile). */
export type OutputsReader = (file: string, env: string) => DeployedOutputs;

/** The tenant route runs the tenants function; every other path the hits function. */
export const routeFunction = (path: string): 'tenants' | 'hits' => (path.startsWith('/tenants/') ? 'tenants' : 'hits');

/**
 * argv (after `npm run load --`) → options. `readOutputs` reads `--outputs <file> --env <name>` (injected so
 * this stays a pure function in tests).
 */
export function parseOptions(argv: readonly string[], readOutputs?: OutputsReader): LoadOptions {
  const all = tokens(argv);
  const values = (name: string) => all.filter((t) => t.name === name).map((t) => t.value!);
  const single = (name: string): string | undefined => {
    const v = values(name);
    if (v.length > 1) throw new OptionError(`--${name} given ${v.length} times; give it once`);
    return v[0];
  };

  const outputsFile = single('outputs');
  const env = single('env');
  if ((outputsFile === undefined) !== (env === undefined)) throw new OptionError('--outputs and --env go together: --outputs <cdktf outputs file> --env <environment, e.g. dev>');
  const fromOutputs = outputsFile && env ? (readOutputs ?? missingReader)(outputsFile, env) : undefined;

  let arms = values('arm').map(parseArm);
  if (arms.length === 0 && fromOutputs) arms = fromOutputs.arms;
  if (arms.length === 0) throw new OptionError('--arm: name at least one arm, e.g. --arm proxy=<url> --arm direct=<url> (or --outputs <file> --env <name>)');
  const seen = new Set<string>();
  for (const arm of arms) {
    if (seen.has(arm.name)) throw new OptionError(`--arm: the name ${arm.name} is used twice`);
    seen.add(arm.name);
  }

  const path = checkPath(single('path') ?? DEFAULTS.path);
  const tenants = single('tenants') === undefined ? DEFAULTS.tenants : number('tenants', single('tenants'), { min: 1, max: MAX_TENANT_COUNT, integer: true });
  const rate = single('rate') === undefined ? DEFAULTS.rate : number('rate', single('rate'), { min: 1, max: MAX_RATE, integer: false });
  const ramp = single('ramp') === undefined ? DEFAULTS.ramp : number('ramp', single('ramp'), { min: 0, max: MAX_SECONDS, integer: true });
  const duration = single('duration') === undefined ? DEFAULTS.duration : number('duration', single('duration'), { min: 1, max: MAX_SECONDS, integer: true });
  if (ramp + duration > MAX_SECONDS) throw new OptionError(`--ramp + --duration: ${ramp + duration} s is more than ${MAX_SECONDS} s`);
  const out = single('out') ?? DEFAULTS.out;
  if (out.trim() === '') throw new OptionError('--out: expected a directory');
  const ensure = values('ensure').flatMap((text) => parseThresholds(text, arms.map((a) => a.name)));

  const cloudwatchSwitch = all.some((t) => t.name === 'cloudwatch');
  const runner = parseRunner(single('on'), single('count'), single('region'), ramp + duration, cloudwatchSwitch);

  const explicitFunctions = Object.fromEntries(
    values('function').map((text) => {
      const eq = text.indexOf('=');
      const arm = text.slice(0, eq);
      if (eq < 0 || !seen.has(arm) || eq === text.length - 1) throw new OptionError(`--function ${JSON.stringify(text)}: expected <arm>=<Lambda function name> for one of the arms (${[...seen].join(', ')})`);
      return [arm, text.slice(eq + 1)];
    }),
  );
  const cloudwatchInputs = ['function', 'db-instance', 'proxy-name'].filter((n) => values(n).length > 0);
  if (!cloudwatchSwitch && cloudwatchInputs.length) throw new OptionError(`--${cloudwatchInputs[0]} is for --cloudwatch; add --cloudwatch`);
  let cloudwatch: CloudWatchTargets | undefined;
  if (cloudwatchSwitch) {
    const fromFile = fromOutputs;
    const targets: Record<string, { functionName?: string; apiId?: string }> = {};
    const regions = new Set<string>();
    for (const arm of arms) {
      const api = executeApi(arm.url);
      if (api) regions.add(api.region);
      const functionName = explicitFunctions[arm.name] ?? fromFile?.functions[arm.name]?.[routeFunction(path)];
      targets[arm.name] = { ...(functionName ? { functionName } : {}), ...(api ? { apiId: api.apiId } : {}) };
    }
    if (regions.size > 1) throw new OptionError(`--cloudwatch: the arms are in several regions (${[...regions].join(', ')}); compare arms of one region`);
    const region = [...regions][0] ?? single('region');
    if (region !== undefined && !AWS_REGION_PATTERN.test(region)) throw new OptionError(`--region: ${JSON.stringify(region)} is not an AWS region name`);
    const dbInstanceIdentifier = single('db-instance') ?? fromFile?.dbInstanceIdentifier;
    const proxyName = single('proxy-name') ?? fromFile?.proxyName;
    cloudwatch = { ...(region ? { region } : {}), arms: targets, ...(dbInstanceIdentifier ? { dbInstanceIdentifier } : {}), ...(proxyName ? { proxyName } : {}) };
  }

  return { arms, path, tenants, rate, ramp, duration, out, ensure, runner, ...(cloudwatch ? { cloudwatch } : {}) };
}

function missingReader(): never {
  throw new OptionError('--outputs: no reader for the outputs file');
}

/**
 * The regions `artillery run-fargate --region` accepts (its flag's `options`: node_modules/artillery/lib/cmds/
 * run-fargate.ts, from lib/platform/aws-ecs/legacy/util.ts). Read from Artillery itself, and only for
 * --on fargate. Artillery is an ES module package that exports none of its internals, so a child Node
 * imports the built file by path and prints the list. `run-lambda` takes any region.
 */
function fargateRegions(): readonly string[] {
  if (fargateRegionsCache) return fargateRegionsCache;
  const util = path.join(path.dirname(require.resolve('artillery/package.json')), 'dist', 'lib', 'platform', 'aws-ecs', 'legacy', 'util.js');
  const script = `import(${JSON.stringify(pathToFileURL(util).href)}).then((m) => process.stdout.write(JSON.stringify(m.supportedRegions)))`;
  fargateRegionsCache = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
  return fargateRegionsCache;
}
let fargateRegionsCache: readonly string[] | undefined;
/** The installed Artillery's version, for messages that quote its behaviour. */
const ARTILLERY_VERSION = (require('artillery/package.json') as { version: string }).version;

function parseRunner(on: string | undefined, count: string | undefined, region: string | undefined, seconds: number, cloudwatch: boolean): Runner {
  if (on === undefined || on === 'local') {
    if (count !== undefined) throw new OptionError('--count is for --on lambda or --on fargate');
    // A region nothing reads would look as if it had been used.
    if (region !== undefined && !cloudwatch) throw new OptionError('--region is for --on lambda|fargate (where the workers run) or --cloudwatch (where the metrics are)');
    return { on: 'local' };
  }
  if (on !== 'lambda' && on !== 'fargate') throw new OptionError(`--on: expected local, lambda or fargate, got ${JSON.stringify(on)}`);
  if (count === undefined) throw new OptionError(`--on ${on} needs --count <workers>`);
  if (region === undefined) throw new OptionError(`--on ${on} needs --region <AWS region the workers run in>`);
  if (!AWS_REGION_PATTERN.test(region)) throw new OptionError(`--region: ${JSON.stringify(region)} is not an AWS region name`);
  if (on === 'fargate' && !fargateRegions().includes(region)) {
    throw new OptionError(`--on fargate: Artillery ${ARTILLERY_VERSION} runs Fargate workers only in ${fargateRegions().join(', ')}, not ${region}`);
  }
  if (on === 'lambda' && seconds > MAX_LAMBDA_SECONDS) {
    throw new OptionError(`--on lambda: --ramp + --duration is ${seconds} s, but Lambda workers stop at 15 minutes; keep it ≤ ${MAX_LAMBDA_SECONDS} s or use --on fargate`);
  }
  return { on, count: number('count', count, { min: 1, max: MAX_WORKERS, integer: true }), region };
}
