/**
 * `--ensure p99<800,failures<1%,throughput>100`: thresholds checked per arm on the report itself.
 *
 * Evaluated here, once, on the same numbers report.json and report.html show, rather than by Artillery's
 * ensure plugin: that plugin checks Artillery's own metric names over the whole run (not a failure
 * percentage per arm), and it ends Artillery with exit code 1 on a breach
 * (node_modules/artillery-plugin-ensure/index.js sets `global.artillery.suggestedExitCode = 1`), which is
 * the code a failed run uses too. Its `conditions` with `strict: false` would only print, but could say just
 * the latency terms: a per-arm failure share needs the sum of the arm's codes ≥ 400 (keys unknown before
 * the run) and a rate needs the run's duration, neither of which its expressions see (statsToVars, same
 * file), so Artillery's "Checks:" would list part of --ensure. One evaluator means the verdict and the
 * report cannot disagree, and a breach (2) stays distinct from an error (1).
 */
import type { ArmReport, Threshold, ThresholdResult } from './types';
import { OptionError } from './errors';

const LATENCY = new Set(['p50', 'p90', 'p99', 'max']);
const RATES = new Set(['throughput', 'rps']);
const TERM = /^(?:([a-z0-9-]+):)?([a-z0-9]+)\s*(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|%)?$/;

/** One `--ensure` value (comma-separated terms) → thresholds; `arms` are the names an `arm:` prefix may use. */
export function parseThresholds(text: string, arms: readonly string[]): Threshold[] {
  return text.split(',').map((raw) => {
    const term = raw.trim();
    const m = TERM.exec(term);
    const hint = 'expected [<arm>:]<metric><op><number>, e.g. p99<800, failures<1%, throughput>100 (metrics: p50 p90 p99 max in ms, failures as a count or %, throughput rps in requests/s)';
    if (!m) throw new OptionError(`--ensure ${JSON.stringify(term)}: ${hint}`);
    const [, arm, metric, op, number, unit] = m;
    if (arm !== undefined && !arms.includes(arm)) throw new OptionError(`--ensure ${term}: no arm named ${arm} (arms: ${arms.join(', ')})`);
    let value = Number(number);
    if (LATENCY.has(metric)) {
      if (op.startsWith('>')) throw new OptionError(`--ensure ${term}: ${metric} is an upper bound; use < or <=`);
      if (unit === '%') throw new OptionError(`--ensure ${term}: ${metric} is a time (ms or s), not a percentage`);
      if (unit === 's') value *= 1000;
      return { text: term, ...(arm ? { arm } : {}), metric: metric as Threshold['metric'], op: op as Threshold['op'], value };
    }
    if (metric === 'failures') {
      if (op.startsWith('>')) throw new OptionError(`--ensure ${term}: failures is an upper bound; use < or <=`);
      if (unit === 'ms' || unit === 's') throw new OptionError(`--ensure ${term}: failures is a count or a percentage`);
      if (unit === '%' && value > 100) throw new OptionError(`--ensure ${term}: a percentage is at most 100`);
      return { text: term, ...(arm ? { arm } : {}), metric: unit === '%' ? 'failures%' : 'failures', op: op as Threshold['op'], value };
    }
    if (RATES.has(metric)) {
      if (op.startsWith('<')) throw new OptionError(`--ensure ${term}: ${metric} is a lower bound; use > or >=`);
      if (unit) throw new OptionError(`--ensure ${term}: ${metric} is in requests per second, without a unit`);
      return { text: term, ...(arm ? { arm } : {}), metric: metric as Threshold['metric'], op: op as Threshold['op'], value };
    }
    throw new OptionError(`--ensure ${term}: unknown metric ${metric}; ${hint}`);
  });
}

function actual(arm: ArmReport, metric: Threshold['metric']): number | null {
  switch (metric) {
    case 'p50':
    case 'p90':
    case 'p99':
    case 'max':
      return arm.latency ? arm.latency[metric] : null;
    case 'failures':
      return arm.failures.total;
    case 'failures%':
      return arm.failures.percent;
    case 'throughput':
      return arm.throughput;
    case 'rps':
      return arm.rps;
  }
}

const HOLDS = { '<': (a: number, b: number) => a < b, '<=': (a: number, b: number) => a <= b, '>': (a: number, b: number) => a > b, '>=': (a: number, b: number) => a >= b };

/** Every threshold against every arm it names (all arms when it names none). A missing value (no response, so no latency) is a breach. */
export function evaluateThresholds(arms: readonly ArmReport[], thresholds: readonly Threshold[]): ThresholdResult[] {
  return thresholds.flatMap((t) =>
    arms
      .filter((arm) => t.arm === undefined || t.arm === arm.name)
      .map((arm) => {
        const value = actual(arm, t.metric);
        return { arm: arm.name, threshold: t.text, actual: value, ok: value !== null && HOLDS[t.op](value, t.value) };
      }),
  );
}
