/** One benchmark figure, printed by scripts/bench.ts beside its target. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
