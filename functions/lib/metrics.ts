/**
 * The function's own metrics, as CloudWatch Embedded Metric Format (EMF) merged into the one log line a
 * request already writes: CloudWatch Logs turns the `_aws` directive into metrics, with no API call and
 * no extra line. Powertools for AWS Lambda writes the directive (`serializeMetrics()`); what it adds to the
 * bundle and to module load is measured by `npm run bench -- metrics`.
 *
 * Every metric is emitted under two dimension sets, `[service]` (what alarms watch) and
 * `[service, route, statusClass]` (what the dashboard breaks down). EMF gives all metrics of a directive
 * the same dimension sets, so the reason a database was unavailable is in the metric name
 * (`DbUnavailableSaturated`, …) rather than a third dimension that would multiply every other metric.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { APP_METRICS_NAMESPACE, METRIC, type DbUnavailableReason } from '../../contracts';
import { serviceNameFrom } from './log';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export { METRIC } from '../../contracts';

/**
 * The tenants route's counts: AssumeRole calls and their failures, per-tenant pools opened, evicted and
 * refused, logins the database refused. Each is emitted, under the request's dimensions, when above zero.
 */
export const COUNT_METRICS = [METRIC.stsCalls, ...Object.values(METRIC.stsErrors), METRIC.poolsOpened, METRIC.poolsEvicted, METRIC.poolsRefused, METRIC.loginFailures] as const;
export type CountMetric = (typeof COUNT_METRICS)[number];

/** Every count at zero: a request's tally before it causes anything. */
export function zeroCounts(): Record<CountMetric, number> {
  return Object.fromEntries(COUNT_METRICS.map((m) => [m, 0])) as Record<CountMetric, number>;
}

/** What the cache did for one request: served it, missed, or was bypassed (not asked, or failed and the database answered). */
export type CacheUse = 'hit' | 'miss' | 'bypass';

export interface RequestMeasurements {
  readonly route: string;
  readonly status: number;
  readonly latencyMs: number;
  /** Wall time spent in database calls, retries included; absent when the request did not touch the database. */
  readonly dbMs?: number;
  /** Absent when no cache is configured. */
  readonly cache?: CacheUse;
  readonly dbUnavailable?: DbUnavailableReason;
  /** What the request caused beside the database time (the tenants route). */
  readonly counts?: Readonly<Partial<Record<CountMetric, number>>>;
}

export interface MetricsConfig {
  /** CloudWatch namespace (POWERTOOLS_METRICS_NAMESPACE). */
  readonly namespace: string;
  /** Value of the `service` dimension (POWERTOOLS_SERVICE_NAME): the function name in AWS. */
  readonly service: string;
}

/** `2xx`, `4xx`, `5xx` (…): low cardinality, which a dimension needs. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Builds EMF objects to spread into a log line. One Powertools instance per execution environment; each
 * call adds, serializes and clears synchronously, so concurrent requests (tests) never mix their values.
 */
export class EmfWriter {
  private readonly metrics: Metrics;

  constructor(config: MetricsConfig) {
    this.metrics = new Metrics({ namespace: config.namespace, serviceName: config.service });
  }

  /** The EMF fields of one request. */
  request(m: RequestMeasurements): Record<string, unknown> {
    return this.emit({ route: m.route, statusClass: statusClass(m.status) }, (add) => {
      add(METRIC.requests, MetricUnit.Count, 1);
      add(METRIC.latency, MetricUnit.Milliseconds, m.latencyMs);
      if (m.dbMs !== undefined) add(METRIC.dbTime, MetricUnit.Milliseconds, m.dbMs);
      if (m.cache) add(m.cache === 'hit' ? METRIC.cacheHit : m.cache === 'miss' ? METRIC.cacheMiss : METRIC.cacheBypass, MetricUnit.Count, 1);
      if (m.dbUnavailable) add(METRIC.dbUnavailable[m.dbUnavailable], MetricUnit.Count, 1);
      for (const [name, n] of Object.entries(m.counts ?? {})) if (n) add(name, MetricUnit.Count, n);
    });
  }

  /** The EMF fields of one prune run: rows removed and batches used, under `[service]` only. */
  prune(rows: number, batches: number): Record<string, unknown> {
    return this.emit(undefined, (add) => {
      add(METRIC.pruned, MetricUnit.Count, rows);
      add(METRIC.pruneBatches, MetricUnit.Count, batches);
    });
  }

  private emit(breakdown: Record<string, string> | undefined, fill: (add: (name: string, unit: Unit, value: number) => void) => void): Record<string, unknown> {
    const m = this.metrics;
    try {
      if (breakdown) {
        // An empty set first: Powertools then also emits the `[service]` set alarms aggregate over.
        m.addDimensions({});
        m.addDimensions(breakdown);
      }
      fill((name, unit, value) => m.addMetric(name, unit, value));
      return m.serializeMetrics() as unknown as Record<string, unknown>;
    } finally {
      m.clearMetrics();
      m.clearDimensions();
    }
  }
}

/**
 * Metrics configuration from the environment the stacks set; local defaults otherwise (the application's
 * namespace, and `localService` as the service: `hits-local`, `tenants-local`).
 */
export function metricsConfigFrom(env: Record<string, string | undefined>, localService = 'hits-local'): MetricsConfig {
  return {
    namespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || APP_METRICS_NAMESPACE,
    service: serviceNameFrom(env, localService),
  };
}
