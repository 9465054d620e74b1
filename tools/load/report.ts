/**
 * report.json from Artillery's `--output` JSON, one per Artillery run (one for a mixed run, one per arm for a
 * sequential one): `aggregate` (the whole run) and `intermediate` (one entry per 10-second period). Per arm,
 * every figure comes from the counters and summaries metrics-by-endpoint keeps under the arm's request name,
 * in the run that drove the arm; requests sent from `vusers.created_by_name.<arm>` (one request per virtual
 * user). Rates are over the arm's own window.
 */
import { evaluateThresholds } from './thresholds';
import type { Arm, ArmReport, Failures, Latency, LoadOptions, LoadReport, Period, Window } from './types';
import { RunError } from './errors';

/** Artillery's reporting period (https://www.artillery.io/docs/reference/cli/run: "metrics … every 10 seconds"). */
export const PERIOD_MS = 10_000;

interface Summary {
  readonly min: number;
  readonly max: number;
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** One block of Artillery metrics: the aggregate, or one intermediate period. */
export interface ArtilleryMetrics {
  readonly counters?: Record<string, number>;
  readonly summaries?: Record<string, Summary>;
  readonly period?: string | number;
  readonly firstMetricAt?: number;
  readonly lastMetricAt?: number;
}

export interface ArtilleryOutput {
  readonly aggregate: ArtilleryMetrics;
  readonly intermediate?: readonly ArtilleryMetrics[];
}

const endpoint = (arm: string) => `plugins.metrics-by-endpoint.${arm}.`;

function sumByPrefix(counters: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(counters)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = (out[key.slice(prefix.length)] ?? 0) + value;
  return out;
}

const total = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

function latency(summary: Summary | undefined): Latency | null {
  if (!summary || !summary.count) return null;
  return { min: summary.min, p50: summary.p50, p90: summary.p90, p99: summary.p99, max: summary.max, mean: round(summary.mean) };
}

interface ArmFigures {
  requests: number;
  codes: Record<string, number>;
  errors: Record<string, number>;
  summary?: Summary;
}

function figures(metrics: ArtilleryMetrics, arm: string): ArmFigures {
  const counters = metrics.counters ?? {};
  return {
    requests: counters[`vusers.created_by_name.${arm}`] ?? 0,
    codes: sumByPrefix(counters, `${endpoint(arm)}codes.`),
    errors: sumByPrefix(counters, `${endpoint(arm)}errors.`),
    summary: metrics.summaries?.[`plugins.metrics-by-endpoint.response_time.${arm}`],
  };
}

function failures(f: ArmFigures): Failures {
  const byStatus = Object.fromEntries(Object.entries(f.codes).filter(([code]) => Number(code) >= 400));
  const count = total(byStatus) + total(f.errors);
  return { total: count, percent: f.requests ? round((100 * count) / f.requests, 3) : 0, byStatus, byError: { ...f.errors } };
}

const successes = (f: ArmFigures) => total(Object.fromEntries(Object.entries(f.codes).filter(([code]) => Number(code) < 400)));

/**
 * When an arm's failures mostly share one client-error status, the run was probably aimed wrong (tenant ids
 * the deployment does not have, a path it does not serve, a rate above the stage's throttling) rather than
 * slow: the report says so. Said when the failures are at least `minFailurePercent` of the arm's requests (the
 * budget `failures<1%` sets; fewer is noise) and more than `minShareOfFailures` of them carry one 4xx status.
 */
export const CLIENT_ERROR_HINT = { minFailurePercent: 1, minShareOfFailures: 0.5 } as const;

/** What a dominant client-error status most likely means, for the hint. */
const CLIENT_ERROR_ADVICE: Readonly<Record<string, string>> = {
  '404': 'are --tenants and --path right for this deployment?',
  '429': "the API throttled it: is --rate within the stage's throttling (api.throttlingRateLimit, api.throttlingBurstLimit)?",
};
const DEFAULT_ADVICE = "are --path and the arm's URL right for this deployment?";

/** The hint for one arm (CLIENT_ERROR_HINT), or undefined. */
export function clientErrorHint(arm: Pick<ArmReport, 'name' | 'requests' | 'failures'>): string | undefined {
  const { total, percent, byStatus } = arm.failures;
  if (total === 0 || percent < CLIENT_ERROR_HINT.minFailurePercent) return undefined;
  const [status, count] = Object.entries(byStatus)
    .filter(([code]) => Number(code) >= 400 && Number(code) < 500)
    .sort(([, a], [, b]) => b - a)[0] ?? [undefined, 0];
  if (status === undefined || count <= CLIENT_ERROR_HINT.minShareOfFailures * total) return undefined;
  const share = (100 * count) / arm.requests;
  return `${arm.name}: ${round(share, share < 10 ? 1 : 0)} % of requests answered ${status}; ${CLIENT_ERROR_ADVICE[status] ?? DEFAULT_ADVICE}`;
}

/** One Artillery run's output and the arms it drove: every arm (`mixed`), or one (`sequential`). */
export interface ArmsRun {
  readonly arms: readonly string[];
  readonly raw: ArtilleryOutput;
}

/** A run's window: its first to its last metric. */
function runWindow(raw: ArtilleryOutput): { start: number; end: number } {
  const aggregate = raw.aggregate;
  if (!aggregate || typeof aggregate.firstMetricAt !== 'number' || typeof aggregate.lastMetricAt !== 'number') {
    throw new RunError('Artillery wrote no metrics (no request was made): see artillery.log in the output directory');
  }
  return { start: aggregate.firstMetricAt, end: aggregate.lastMetricAt };
}

const windowOf = (start: number, end: number): Window => ({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), seconds: round(Math.max(1, (end - start) / 1000)) });

function armReport(arm: Arm, raw: ArtilleryOutput): ArmReport {
  const aggregate = raw.aggregate;
  const { start, end } = runWindow(raw);
  const seconds = Math.max(1, (end - start) / 1000);
  // One entry per period, also from a distributed run: Artillery merges the workers' metrics of a period
  // before it records it (node_modules/artillery/lib/launch-platform.js, emitIntermediatesForPeriod; for
  // Fargate lib/platform/aws-ecs/legacy/sqs-reporter.js) and drops a batch that comes after its period was
  // reported, so periods never repeat.
  const periods = (raw.intermediate ?? [])
    .map((metrics) => ({ at: Number(metrics.period), metrics }))
    .filter((p) => Number.isFinite(p.at))
    .sort((a, b) => a.at - b.at);
  const f = figures(aggregate, arm.name);
  const series: Period[] = periods.map(({ at, metrics }) => {
    const p = figures(metrics, arm.name);
    // The first and last periods hold only part of the run; a rate over less than a second would be noise.
    const inside = Math.max(1, (Math.min(at + PERIOD_MS, end) - Math.max(at, start)) / 1000);
    return { start: new Date(at).toISOString(), seconds: round(inside), requests: p.requests, throughput: round(successes(p) / inside), failures: failures(p).total, latency: latency(p.summary) };
  });
  const report = {
    name: arm.name,
    url: arm.url,
    window: windowOf(start, end),
    requests: f.requests,
    rps: round(f.requests / seconds),
    throughput: round(successes(f) / seconds),
    codes: f.codes,
    failures: failures(f),
    latency: latency(f.summary),
    series,
  };
  const hint = clientErrorHint(report);
  return { ...report, ...(hint ? { hint } : {}) };
}

/** The report from the runs that made it: one (mixed) or one per arm (sequential), each arm in exactly one. */
export function buildReport(runs: readonly ArmsRun[], options: LoadOptions): LoadReport {
  const arms = options.arms.map((arm) => {
    const run = runs.find((r) => r.arms.includes(arm.name));
    if (!run) throw new RunError(`no Artillery run drove arm ${arm.name}`);
    return armReport(arm, run.raw);
  });
  const windows = runs.map((r) => runWindow(r.raw));
  return {
    window: windowOf(Math.min(...windows.map((w) => w.start)), Math.max(...windows.map((w) => w.end))),
    options: {
      arms: options.arms,
      path: options.path,
      tenants: options.tenants,
      rate: options.rate,
      ramp: options.ramp,
      duration: options.duration,
      order: options.order,
      cooldown: options.cooldown,
      ...(options.orderNote ? { orderNote: options.orderNote } : {}),
      ensure: options.ensure.map((t) => t.text),
      runner: options.runner,
    },
    arms,
    thresholds: evaluateThresholds(arms, options.ensure),
  };
}
