/**
 * `--cloudwatch`: the arms' AWS metrics, each arm over its own window (the run's, when the arms ran mixed),
 * read with one paginated GetMetricData per window
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html). Needs
 * `cloudwatch:GetMetricData` and credentials from the usual AWS SDK chain.
 *
 * Metrics, namespaces and dimensions:
 * - Lambda, per arm (dimension FunctionName): ConcurrentExecutions (Maximum), Throttles (Sum)
 *   https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 * - API Gateway HTTP API, per arm (dimension ApiId): `5xx` and `Count` (Sum); HTTP APIs name them so,
 *   REST APIs use 5XXError. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
 * - RDS instance (dimension DBInstanceIdentifier): DatabaseConnections (Maximum), CPUUtilization (Average)
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
 * - RDS Proxy (dimension ProxyName, namespace AWS/RDS): ClientConnections and DatabaseConnections, Sum over
 *   60 s: the proxy publishes them once a minute per node it runs on, so the minute's Sum is the proxy's
 *   total. https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { CLOUDWATCH_PERIOD_SECONDS } from '../../contracts';
import type { ArmTargets, CloudWatchSection, CloudWatchTargets, MetricIdentity, MetricSeries } from './types';

export interface MetricSpec extends MetricIdentity {
  /** GetMetricData query id. */
  readonly id: string;
  /** Seconds. */
  readonly period: number;
}

/** One GetMetricData window: the arms that ran in it and what to query for them. */
export interface WindowPlan {
  /** The arms whose requests fall in this window: every arm (mixed), or one (sequential). */
  readonly arms: readonly string[];
  readonly startTime: Date;
  readonly endTime: Date;
  readonly period: number;
  readonly specs: readonly MetricSpec[];
}

export interface MetricPlan {
  /** One per window: one for a mixed run, one per arm for a sequential one. */
  readonly windows: readonly WindowPlan[];
  /** What could not be queried, and why. */
  readonly notes: readonly string[];
}

/** A stretch of the run and the arms that ran in it. */
export interface RunWindow {
  readonly arms: readonly string[];
  readonly start: string;
  readonly end: string;
}

/** Proxy connection metrics are summed over the minute they are published in, whatever the window. */
const PROXY_PERIOD = CLOUDWATCH_PERIOD_SECONDS;

/**
 * Per window: one minute periods (API Gateway, Lambda and RDS publish per minute), longer only when the
 * window would make more than 500 points a series. The window widens to whole periods, so the minutes its
 * arms touched are all in. A database or proxy that several arms of one window name is one series without an
 * arm (they share it); one that a single arm of the window names is that arm's (its own instance, or a shared
 * one while that arm ran alone).
 */
export function planMetrics(targets: CloudWatchTargets, windows: readonly RunWindow[]): MetricPlan {
  const notes: string[] = [];
  let next = 0;
  const plans = windows.map((w): WindowPlan => {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    const period = CLOUDWATCH_PERIOD_SECONDS * Math.max(1, Math.ceil((end - start) / 1000 / CLOUDWATCH_PERIOD_SECONDS / 500));
    const startTime = new Date(Math.floor(start / (period * 1000)) * period * 1000);
    const endTime = new Date(Math.max(Math.ceil(end / (period * 1000)) * period * 1000, startTime.getTime() + period * 1000));
    const specs: MetricSpec[] = [];
    const add = (spec: Omit<MetricSpec, 'id' | 'period'> & { period?: number }) => specs.push({ ...spec, id: `m${next++}`, period: spec.period ?? period });
    const owners = (pick: (t: ArmTargets) => string | undefined) => {
      const by = new Map<string, string[]>();
      for (const arm of w.arms) {
        const name = pick(targets.arms[arm] ?? {});
        if (name !== undefined) by.set(name, [...(by.get(name) ?? []), arm]);
      }
      return [...by.entries()].map(([name, arms]) => ({ name, ...(arms.length === 1 ? { arm: arms[0] } : {}) }));
    };
    for (const arm of w.arms) {
      const t = targets.arms[arm] ?? {};
      if (t.functionName) {
        add({ label: 'Lambda concurrent executions', arm, namespace: 'AWS/Lambda', metric: 'ConcurrentExecutions', stat: 'Maximum', dimensions: { FunctionName: t.functionName } });
        add({ label: 'Lambda throttles', arm, namespace: 'AWS/Lambda', metric: 'Throttles', stat: 'Sum', dimensions: { FunctionName: t.functionName } });
      }
      if (t.apiId) {
        add({ label: 'API 5xx responses', arm, namespace: 'AWS/ApiGateway', metric: '5xx', stat: 'Sum', dimensions: { ApiId: t.apiId } });
        add({ label: 'API requests', arm, namespace: 'AWS/ApiGateway', metric: 'Count', stat: 'Sum', dimensions: { ApiId: t.apiId } });
      }
    }
    for (const { name, arm } of owners((t) => t.dbInstanceIdentifier)) {
      const dimensions = { DBInstanceIdentifier: name };
      add({ label: 'Database connections (instance)', ...(arm ? { arm } : {}), namespace: 'AWS/RDS', metric: 'DatabaseConnections', stat: 'Maximum', dimensions });
      add({ label: 'Database CPU', ...(arm ? { arm } : {}), namespace: 'AWS/RDS', metric: 'CPUUtilization', stat: 'Average', dimensions });
    }
    for (const { name, arm } of owners((t) => t.proxyName)) {
      const dimensions = { ProxyName: name };
      add({ label: 'Proxy client connections', ...(arm ? { arm } : {}), namespace: 'AWS/RDS', metric: 'ClientConnections', stat: 'Sum', dimensions, period: PROXY_PERIOD });
      add({ label: 'Proxy database connections', ...(arm ? { arm } : {}), namespace: 'AWS/RDS', metric: 'DatabaseConnections', stat: 'Sum', dimensions, period: PROXY_PERIOD });
    }
    return { arms: w.arms, startTime, endTime, period, specs };
  });
  const arms = windows.flatMap((w) => w.arms);
  for (const arm of arms) {
    const t = targets.arms[arm] ?? {};
    if (!t.functionName) notes.push(`arm ${arm}: no Lambda function name (--function ${arm}=<name>, or --outputs), so no Lambda metrics`);
    if (!t.apiId) notes.push(`arm ${arm}: its URL is not an execute-api URL, so no API Gateway metrics`);
  }
  const withDatabase = arms.filter((arm) => targets.arms[arm]?.dbInstanceIdentifier);
  if (withDatabase.length === 0) notes.push('no DB instance identifier (--db-instance, or --outputs), so no database metrics');
  else for (const arm of arms.filter((a) => !withDatabase.includes(a))) notes.push(`arm ${arm}: no DB instance identifier (--db-instance, or --outputs), so no database metrics for it`);
  if (!arms.some((arm) => targets.arms[arm]?.proxyName)) notes.push('no proxy name (--proxy-name, or --outputs), so no proxy metrics');
  return { windows: plans, notes };
}

export function metricDataQueries(plan: Pick<WindowPlan, 'specs'>): MetricDataQuery[] {
  return plan.specs.map((s) => ({
    Id: s.id,
    Label: s.arm ? `${s.label} (${s.arm})` : s.label,
    MetricStat: {
      Metric: { Namespace: s.namespace, MetricName: s.metric, Dimensions: Object.entries(s.dimensions).map(([Name, Value]) => ({ Name, Value })) },
      Period: s.period,
      Stat: s.stat,
    },
    ReturnData: true,
  }));
}

/** GetMetricData takes at most 500 queries a call; ours are far fewer, but stay honest. */
const MAX_QUERIES = 500;

/**
 * Runs the plan: per window, every page (NextToken) of every chunk of queries, points merged per query id. A
 * series still `PartialData` after the last page keeps that status and gets a note; one it did not return
 * at all is empty with status `Missing`.
 */
export async function fetchMetrics(plan: MetricPlan, client: CloudWatchClient, region?: string): Promise<CloudWatchSection> {
  const results = new Map<string, { at: number[]; values: number[]; status: string }>();
  const notes = [...plan.notes];
  for (const w of plan.windows) {
    const queries = metricDataQueries(w);
    for (let i = 0; i < queries.length; i += MAX_QUERIES) {
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + MAX_QUERIES), StartTime: w.startTime, EndTime: w.endTime, ScanBy: 'TimestampAscending', NextToken: nextToken }),
        );
        for (const r of page.MetricDataResults ?? []) merge(results, r);
        for (const m of page.Messages ?? []) notes.push(`CloudWatch: ${m.Code ?? ''} ${m.Value ?? ''}`.trim());
        nextToken = page.NextToken;
      } while (nextToken);
    }
  }
  const series: MetricSeries[] = plan.windows.flatMap((w) => w.specs).map((s) => {
    const r = results.get(s.id);
    const order = (r?.at ?? []).map((t, k) => ({ t, v: r!.values[k] })).sort((a, b) => a.t - b.t);
    const status = r?.status ?? 'Missing';
    if (status !== 'Complete') notes.push(`${s.label}${s.arm ? ` (${s.arm})` : ''}: ${status === 'Missing' ? 'no answer from CloudWatch' : `CloudWatch says ${status}`}`);
    return { label: s.label, ...(s.arm ? { arm: s.arm } : {}), namespace: s.namespace, metric: s.metric, stat: s.stat, dimensions: s.dimensions, points: order.map((p) => ({ at: new Date(p.t).toISOString(), value: p.v })), status };
  });
  return { ...(region ? { region } : {}), periodSeconds: Math.max(...plan.windows.map((w) => w.period)), series, notes };
}

function merge(results: Map<string, { at: number[]; values: number[]; status: string }>, r: MetricDataResult): void {
  if (!r.Id) return;
  const entry = results.get(r.Id) ?? { at: [], values: [], status: 'Complete' };
  const stamps = r.Timestamps ?? [];
  const values = r.Values ?? [];
  for (let k = 0; k < Math.min(stamps.length, values.length); k++) {
    entry.at.push(new Date(stamps[k]).getTime());
    entry.values.push(values[k]);
  }
  // PartialData on a page means "more on the next page" (NextToken); the last page's status is the series'.
  if (r.StatusCode) entry.status = r.StatusCode;
  results.set(r.Id, entry);
}

/** The report's CloudWatch section for `targets` over each window; `client` defaults to one for the arms' region. */
export async function readCloudWatch(targets: CloudWatchTargets, windows: readonly RunWindow[], client?: CloudWatchClient): Promise<CloudWatchSection> {
  const plan = planMetrics(targets, windows);
  return fetchMetrics(plan, client ?? new CloudWatchClient(targets.region ? { region: targets.region } : {}), targets.region);
}
