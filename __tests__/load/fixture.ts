/** Artillery `--output` JSON made to order: the counters and summaries metrics-by-endpoint and the VU counters write per arm. */
import { PERIOD_MS, type ArtilleryMetrics, type ArtilleryOutput } from '../../tools/load/report';

export interface ArmFigures {
  readonly created: number;
  readonly codes: Record<string, number>;
  readonly errors?: Record<string, number>;
  /** min, p50, p90, p99, max (ms). */
  readonly latency?: readonly [number, number, number, number, number];
}

export function armMetrics(arm: string, m: ArmFigures): ArtilleryMetrics {
  const counters: Record<string, number> = { [`vusers.created_by_name.${arm}`]: m.created };
  for (const [c, n] of Object.entries(m.codes)) counters[`plugins.metrics-by-endpoint.${arm}.codes.${c}`] = n;
  for (const [e, n] of Object.entries(m.errors ?? {})) counters[`plugins.metrics-by-endpoint.${arm}.errors.${e}`] = n;
  const count = Object.values(m.codes).reduce((a, b) => a + b, 0);
  const summaries = m.latency ? { [`plugins.metrics-by-endpoint.response_time.${arm}`]: { min: m.latency[0], p50: m.latency[1], p90: m.latency[2], p99: m.latency[3], max: m.latency[4], count, mean: m.latency[1] } } : {};
  return { counters, summaries };
}

export function merged(...parts: ArtilleryMetrics[]): ArtilleryMetrics {
  return { counters: Object.assign({}, ...parts.map((p) => p.counters)), summaries: Object.assign({}, ...parts.map((p) => p.summaries)) };
}

/** One period per entry of `periods` (each a map arm → figures), the aggregate being `total`. */
export function artilleryOutput(start: number, end: number, total: Record<string, ArmFigures>, periods: readonly Record<string, ArmFigures>[] = [total]): ArtilleryOutput {
  const p0 = Math.floor(start / PERIOD_MS) * PERIOD_MS;
  const block = (figures: Record<string, ArmFigures>) => merged(...Object.entries(figures).map(([arm, f]) => armMetrics(arm, f)));
  return {
    aggregate: { ...block(total), firstMetricAt: start, lastMetricAt: end, period: String(p0) },
    intermediate: periods.map((p, i) => ({ ...block(p), period: String(p0 + i * PERIOD_MS) })),
  };
}
