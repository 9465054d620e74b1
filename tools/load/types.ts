/** The options `npm run load` takes and the report it writes (report.json); see README.md beside this file. */

/** One arm under test: a name and the base URL its requests go to (`<url><path>`). */
export interface Arm {
  /** `[a-z0-9-]`, unique: names the Artillery scenario and request, so per-arm metrics carry it. */
  readonly name: string;
  /** `http(s)://host[:port][/prefix]`, no trailing slash, no query or fragment. */
  readonly url: string;
}

/** Where Artillery runs: this machine, or Artillery's own distributed runners in the user's AWS account. */
export type Runner =
  | { readonly on: 'local' }
  | { readonly on: 'lambda' | 'fargate'; readonly count: number; readonly region: string };

/** One `--ensure` threshold. `arm` undefined: holds for every arm. */
export interface Threshold {
  /** As written, for messages (`proxy:p99<800`). */
  readonly text: string;
  readonly arm?: string;
  readonly metric: 'p50' | 'p90' | 'p99' | 'max' | 'failures' | 'failures%' | 'throughput' | 'rps';
  readonly op: '<' | '<=' | '>' | '>=';
  /** Milliseconds for latencies, a percentage for `failures%`, a count for `failures`, requests/s for the rates. */
  readonly value: number;
}

/** What `--cloudwatch` queries for one arm; every name optional (what is missing is not queried). */
export interface ArmTargets {
  /** The Lambda function the arm's route runs. */
  readonly functionName?: string;
  /** The HTTP API id, from the arm's execute-api URL. */
  readonly apiId?: string;
  /** The DB instance the arm's requests reach: its own, or one it shares with other arms. */
  readonly dbInstanceIdentifier?: string;
  /** The RDS Proxy the arm's requests go through, if any. */
  readonly proxyName?: string;
}

/** What `--cloudwatch` queries, per arm name. A resource two arms name is one shared series when they run together. */
export interface CloudWatchTargets {
  readonly region?: string;
  readonly arms: Readonly<Record<string, ArmTargets>>;
}

/**
 * How the arms share the run: `mixed`, one Artillery run in which every virtual user picks an arm at random
 * (both under load at once: fair when each arm has its own database); `sequential`, one run per arm, each
 * alone at the full rate, one after another (fair when they share one).
 */
export const ORDERS = ['mixed', 'sequential'] as const;
export type Order = (typeof ORDERS)[number];

export interface LoadOptions {
  /** At least one; names unique. */
  readonly arms: readonly Arm[];
  /** Request path appended to each arm's URL; `{tenant}` becomes a random tenant id per virtual user. @default '/tenants/{tenant}/items' */
  readonly path: string;
  /** Tenant ids drawn uniformly from 0 to tenants-1. @default 200 */
  readonly tenants: number;
  /** Requests per second once warmed up: over all arms together (`mixed`), or to each arm in its turn (`sequential`). @default 140 */
  readonly rate: number;
  /** Seconds of linear warm-up from 1 request/s to `rate`, before `duration`. @default 0 */
  readonly ramp: number;
  /** Seconds at `rate` (each arm's, when `sequential`). @default 600 */
  readonly duration: number;
  /** @default 'mixed' when the arms come from `--outputs` and each has its own database; 'sequential' otherwise */
  readonly order: Order;
  /** With `sequential`: seconds between one arm's run and the next. @default 60 (0 with `mixed`) */
  readonly cooldown: number;
  /** Why the run has this order, when the tool chose it or the choice goes against what `--outputs` says. @default undefined */
  readonly orderNote?: string;
  /** Directory of report.json, report.html, raw.json, scenario.json and artillery.log. @default 'load-report' */
  readonly out: string;
  /** Thresholds checked per arm after the run. @default [] */
  readonly ensure: readonly Threshold[];
  /** @default { on: 'local' } */
  readonly runner: Runner;
  /** When set, the arms' AWS metrics for the run window go into the report. @default undefined */
  readonly cloudwatch?: CloudWatchTargets;
}

export interface Latency {
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Failures: responses with status ≥ 400, and requests that got no response at all (an error code). */
export interface Failures {
  readonly total: number;
  /** Of the requests sent. */
  readonly percent: number;
  /** Status code → responses (only codes ≥ 400). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Error code (ETIMEDOUT, ECONNREFUSED, …) → requests. */
  readonly byError: Readonly<Record<string, number>>;
}

/** One of Artillery's reporting periods (10 s; the first and last may be partial). */
export interface Period {
  /** ISO time the period starts. */
  readonly start: string;
  /** Seconds of the run inside this period (≤ 10). */
  readonly seconds: number;
  readonly requests: number;
  /** Successful responses per second in this period. */
  readonly throughput: number;
  readonly failures: number;
  /** null when no response arrived in the period. */
  readonly latency: Latency | null;
}

/** A stretch of time: the first to the last metric Artillery recorded. */
export interface Window {
  /** ISO time. */
  readonly start: string;
  /** ISO time. */
  readonly end: string;
  readonly seconds: number;
}

export interface ArmReport {
  readonly name: string;
  readonly url: string;
  /** This arm's run: the run window with `mixed`, the arm's own with `sequential`. Its rates are over it. */
  readonly window: Window;
  /** Requests sent (one per virtual user). */
  readonly requests: number;
  /** Requests sent per second over the run window: the schedule this arm actually received. */
  readonly rps: number;
  /** Successful (status < 400) responses per second over the run window. */
  readonly throughput: number;
  /** Every status code seen → responses. */
  readonly codes: Readonly<Record<string, number>>;
  readonly failures: Failures;
  /** Time to first byte from sending the request (connection set-up excluded), over every response (any status), ms; null when none arrived. */
  readonly latency: Latency | null;
  readonly series: readonly Period[];
  /**
   * When most of the arm's failures carry one client-error status, what that suggests
   * (`proxy: 98 % of requests answered 404; are --tenants and --path right for this deployment?`); report.ts: clientErrorHint.
   */
  readonly hint?: string;
}

export interface ThresholdResult {
  readonly arm: string;
  readonly threshold: string;
  readonly actual: number | null;
  readonly ok: boolean;
}

/** Which CloudWatch metric: what cloudwatch.ts queries and what the report shows beside its points. */
export interface MetricIdentity {
  /** What it is, for people: `Lambda concurrent executions`. */
  readonly label: string;
  /** The arm it belongs to, and whose window it covers; undefined for a resource arms running together share (database, proxy). */
  readonly arm?: string;
  readonly namespace: string;
  readonly metric: string;
  readonly stat: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface MetricSeries extends MetricIdentity {
  /** ISO timestamps, ascending, beside their values. */
  readonly points: readonly { readonly at: string; readonly value: number }[];
  /** CloudWatch's StatusCode for the series: `Complete`, `PartialData`, … */
  readonly status: string;
}

export interface CloudWatchSection {
  readonly region?: string;
  readonly periodSeconds: number;
  readonly series: readonly MetricSeries[];
  /** Messages CloudWatch returned, and names that were not found (so not queried). */
  readonly notes: readonly string[];
}

export interface LoadReport {
  /** The whole run: the first arm's start to the last arm's end (each arm's own is in `arms[].window`). */
  readonly window: Window;
  /** The options of the run (order and cool-down included), thresholds as written. */
  readonly options: Omit<LoadOptions, 'out' | 'ensure' | 'cloudwatch'> & { readonly ensure: readonly string[] };
  readonly arms: readonly ArmReport[];
  readonly thresholds: readonly ThresholdResult[];
  readonly cloudwatch?: CloudWatchSection;
}
