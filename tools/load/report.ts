/**
 * report.json from Artillery's `--output` JSON: `aggregate` (the whole run) and `intermediate` (one entry
 * per 10-second period). Per arm, every figure comes from the counters and summaries metrics-by-endpoint
 * keeps under the arm's request name; requests sent from `vusers.created_by_name.<arm>` (one request per
 * virtual user).
 */
import { evaluateThresholds } from './thresholds';
import type { ArmReport, Failures, Latency, LoadOptions, LoadReport, Period } from './types';
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

export function buildReport(raw: ArtilleryOutput, options: LoadOptions): LoadReport {
  const aggregate = raw.aggregate;
  if (!aggregate || typeof aggregate.firstMetricAt !== 'number' || typeof aggregate.lastMetricAt !== 'number') {
    throw new RunError('Artillery wrote no metrics (no request was made): see artillery.log in the output directory');
  }
  const start = aggregate.firstMetricAt;
  const end = aggregate.lastMetricAt;
  const seconds = Math.max(1, (end - start) / 1000);

  // One entry per period, also from a distributed run: Artillery merges the workers' metrics of a period
  // before it records it (node_modules/artillery/lib/launch-platform.js, emitIntermediatesForPeriod; for
  // Fargate lib/platform/aws-ecs/legacy/sqs-reporter.js) and drops a batch that comes after its period was
  // reported, so periods never repeat.
  const periods = (raw.intermediate ?? [])
    .map((metrics) => ({ at: Number(metrics.period), metrics }))
    .filter((p) => Number.isFinite(p.at))
    .sort((a, b) => a.at - b.at);

  const arms: ArmReport[] = options.arms.map((arm) => {
    const f = figures(aggregate, arm.name);
    const series: Period[] = periods.map(({ at, metrics }) => {
      const p = figures(metrics, arm.name);
      // The first and last periods hold only part of the run; a rate over less than a second would be noise.
      const inside = Math.max(1, (Math.min(at + PERIOD_MS, end) - Math.max(at, start)) / 1000);
      return { start: new Date(at).toISOString(), seconds: round(inside), requests: p.requests, throughput: round(successes(p) / inside), failures: failures(p).total, latency: latency(p.summary) };
    });
    return {
      name: arm.name,
      url: arm.url,
      requests: f.requests,
      rps: round(f.requests / seconds),
      throughput: round(successes(f) / seconds),
      codes: f.codes,
      failures: failures(f),
      latency: latency(f.summary),
      series,
    };
  });

  return {
    window: { start: new Date(start).toISOString(), end: new Date(end).toISOString(), seconds: round(seconds) },
    options: { arms: options.arms, path: options.path, tenants: options.tenants, rate: options.rate, ramp: options.ramp, duration: options.duration, ensure: options.ensure.map((t) => t.text), runner: options.runner },
    arms,
    thresholds: evaluateThresholds(arms, options.ensure),
  };
}
