/**
 * The load harness's own ceiling on this machine: the highest rate (requests/s) at which `npm run load`
 * (Artillery, run locally) still holds its schedule against a trivial loopback server. Above it, local
 * figures measure the load generator, not the arms: go distributed (`--on lambda` / `--on fargate`).
 *
 * A step holds when, over `stepSeconds` at the rate: at least 95 % of the scheduled requests were sent,
 * and at 95 % of the rate over the run window (not late, in a burst), none failed, and the trivial server's p99 as Artillery measured it stayed ≤ 50 ms (the server answers in
 * well under a millisecond, so a higher p99 is the generator's own lag). A step that does not hold is run
 * once more before its rate counts as not held. Rates double from 100 until one does not hold, then bisect
 * between the last held and the first failed rate while the time budget lasts. The machine's load average
 * is printed beside the figure: on a busy machine the ceiling is lower, and that is the point.
 *
 * `npm run bench` (scripts/bench.ts, section `load`) calls runLoadBench. Everything talks to 127.0.0.1 only.
 */
import { mkdtempSync, rmSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import { tmpdir } from 'os';
import * as path from 'path';
import { runLoad } from '../tools/load/load';
import { MAX_RATE, parseOptions } from '../tools/load/options';
import type { Metric } from './bench-stats';

export interface LoadBenchOptions {
  /** Seconds at each rate. @default 5 */
  readonly stepSeconds?: number;
  /** Stop starting steps after this many seconds in all. @default 90 */
  readonly budgetSeconds?: number;
  /** First rate tried. @default 100 */
  readonly startRate?: number;
  /** Highest rate tried. @default MAX_RATE of npm run load */
  readonly maxRate?: number;
  /** Progress lines. @default console.log */
  readonly say?: (line: string) => void;
}

export const HOLD = { sentShare: 0.95, p99Ms: 50 } as const;

interface Step {
  readonly rate: number;
  readonly held: boolean;
  readonly sent: number;
  readonly p99: number | null;
  readonly failures: number;
  readonly wallSeconds: number;
}

export async function runLoadBench(options: LoadBenchOptions = {}): Promise<Metric[]> {
  const stepSeconds = options.stepSeconds ?? 5;
  const budget = (options.budgetSeconds ?? 90) * 1000;
  const maxRate = Math.min(options.maxRate ?? MAX_RATE, MAX_RATE);
  const say = options.say ?? ((line: string) => console.log(line));
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-load-'));
  const started = Date.now();
  const steps: Step[] = [];
  const load = () => os.loadavg()[0].toFixed(1);

  const step = async (rate: number): Promise<Step> => {
    const t0 = Date.now();
    const { report } = await runLoad(parseOptions(['--arm', `trivial=${url}`, '--path', '/', '--rate', String(rate), '--duration', String(stepSeconds), '--out', path.join(dir, String(rate))]));
    const arm = report.arms[0];
    const p99 = arm.latency?.p99 ?? null;
    const held = arm.requests >= HOLD.sentShare * rate * stepSeconds && arm.rps >= HOLD.sentShare * rate && arm.failures.total === 0 && p99 !== null && p99 <= HOLD.p99Ms;
    const result = { rate, held, sent: arm.requests, p99, failures: arm.failures.total, wallSeconds: (Date.now() - t0) / 1000 };
    say(`load: ${rate} req/s for ${stepSeconds} s: sent ${arm.requests} of ${rate * stepSeconds} (${arm.rps}/s over the run window), p99 ${p99 ?? '-'} ms, failures ${arm.failures.total} → ${held ? 'holds' : 'does not hold'}`);
    steps.push(result);
    return result;
  };
  /** A rate holds when a step at it holds; a step that does not is run once more, so one stall of a shared machine does not set the ceiling. */
  const holds = async (rate: number): Promise<boolean> => (await step(rate)).held || (timeLeft() && (await step(rate)).held);
  const timeLeft = () => budget - (Date.now() - started) > 1000 * Math.max(...steps.map((s) => s.wallSeconds), stepSeconds + 3);

  const loadBefore = load();
  try {
    let held = 0;
    let failed: number | undefined;
    let rate = Math.min(options.startRate ?? 100, maxRate);
    while (timeLeft()) {
      if (!(await holds(rate))) {
        failed = rate;
        break;
      }
      held = rate;
      if (rate >= maxRate) break;
      rate = Math.min(rate * 2, maxRate);
    }
    while (failed !== undefined && failed - held > Math.max(25, held * 0.1) && timeLeft()) {
      const mid = Math.round((held + failed) / 2 / 25) * 25;
      if (mid <= held || mid >= failed) break;
      if (await holds(mid)) held = mid;
      else failed = mid;
    }
    const ceiling: Metric = {
      name: `load: harness ceiling (Artillery here, ${stepSeconds} s steps, ≥ ${HOLD.sentShare * 100} % sent, p99 ≤ ${HOLD.p99Ms} ms)`,
      value: held,
      unit: 'req/s',
      target: `${failed === undefined ? `held up to the highest rate tried (${steps.at(-1)?.rate ?? 0})` : `first rate that did not hold: ${failed}`}; load average ${loadBefore} before, ${load()} after`,
    };
    return [ceiling, { name: 'load: bench wall time', value: (Date.now() - started) / 1000, unit: 's', target: `≤ ${(options.budgetSeconds ?? 90) + 15} s` }];
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}
