/**
 * The Artillery test script built from the options (written to `<out>/scenario.json`; Artillery reads JSON
 * as YAML), and the Artillery command line that runs it here or on Artillery's distributed runners.
 *
 * One scenario per arm, weight 1, one GET each: every virtual user picks an arm at random with equal
 * weight, so the arms share one request mix and one time window. Scenario and request are named after the
 * arm, so `metrics-by-endpoint` (useOnlyRequestNames) counts codes, errors and latencies per arm
 * (https://www.artillery.io/docs/reference/extensions/metrics-by-endpoint).
 * Weights split traffic in expectation only: over a short run the arms' counts differ a little.
 *
 * Artillery's `expect` plugin is not loaded: a response is a failure when its status is ≥ 400, and
 * metrics-by-endpoint already counts every status per arm. `expect` would add a second, global count
 * (`plugins.expect.failed.statusCode`, not per arm), log a line per request unless its formatter is
 * `silent`, and end Artillery with exit code 21 at the first unexpected status
 * (node_modules/artillery-plugin-expect/index.js, expectationsPluginCheckExpectations), which would have to
 * be told apart from a failed run. Artillery's console already prints `http.codes.<status>` every period.
 * Thresholds (`ensure`): thresholds.ts says why they are checked on the report, not by Artillery.
 */
import type { LoadOptions } from './types';

/** Artillery's own default (seconds), said out loud: a request with no answer by then is an ETIMEDOUT failure. */
export const REQUEST_TIMEOUT_SECONDS = 10;

export interface ArtilleryPhase {
  readonly name: string;
  readonly duration: number;
  readonly arrivalRate: number;
  readonly rampTo?: number;
}

export interface ArtilleryScript {
  readonly config: {
    readonly target: string;
    readonly phases: readonly ArtilleryPhase[];
    readonly http: { readonly timeout: number };
    readonly plugins: { readonly 'metrics-by-endpoint': { readonly useOnlyRequestNames: true; readonly stripQueryString: true } };
  };
  readonly scenarios: readonly {
    readonly name: string;
    readonly weight: 1;
    readonly flow: readonly [{ readonly get: { readonly url: string; readonly name: string } }];
  }[];
}

/** Workers the script runs on: each runs the whole phase list (https://www.artillery.io/docs/load-testing-at-scale/aws-lambda), so each gets rate / workers. */
export function workerCount(options: Pick<LoadOptions, 'runner'>): number {
  return options.runner.on === 'local' ? 1 : options.runner.count;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** `{tenant}` → an Artillery template drawing 0 … tenants-1 per virtual user (`$randomNumber` includes both ends). */
export function requestPath(path: string, tenants: number): string {
  return path.split('{tenant}').join(`{{ $randomNumber(0, ${tenants - 1}) }}`);
}

export function buildScript(options: Pick<LoadOptions, 'arms' | 'path' | 'tenants' | 'rate' | 'ramp' | 'duration' | 'runner'>): ArtilleryScript {
  const workers = workerCount(options);
  const rate = round(options.rate / workers);
  const phases: ArtilleryPhase[] = [];
  if (options.ramp > 0) phases.push({ name: 'warm-up', duration: options.ramp, arrivalRate: round(Math.min(1, options.rate) / workers), rampTo: rate });
  phases.push({ name: 'steady', duration: options.duration, arrivalRate: rate });
  return {
    config: {
      target: options.arms[0].url,
      phases,
      http: { timeout: REQUEST_TIMEOUT_SECONDS },
      plugins: { 'metrics-by-endpoint': { useOnlyRequestNames: true, stripQueryString: true } },
    },
    scenarios: options.arms.map((arm) => ({
      name: arm.name,
      weight: 1,
      flow: [{ get: { url: `${arm.url}${requestPath(options.path, options.tenants)}`, name: arm.name } }],
    })),
  };
}

/**
 * Artillery's arguments: `run` here, `run-lambda` / `run-fargate` with `--count` and `--region` on AWS
 * (node_modules/artillery/lib/cmds/run-lambda.js, run-fargate.js). `--output` is Artillery's merged JSON
 * (aggregate + 10-second intermediate periods) in every case; the report is built from it the same way.
 */
export function artilleryArgs(options: Pick<LoadOptions, 'runner'>, scriptFile: string, rawFile: string): string[] {
  const runner = options.runner;
  if (runner.on === 'local') return ['run', '--output', rawFile, scriptFile];
  return [runner.on === 'lambda' ? 'run-lambda' : 'run-fargate', '--count', String(runner.count), '--region', runner.region, '--output', rawFile, scriptFile];
}
