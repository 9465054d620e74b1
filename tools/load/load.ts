/**
 * `npm run load`: an A/B load test of any set of arms on Artillery, then report.json and report.html.
 * Usage and options: README.md beside this file. `runLoad` is the whole run without the command line, for
 * tests and scripts; `main` parses argv, prints a summary and sets the exit code:
 * 0 every threshold holds, 2 a threshold is breached, 1 an error (bad option, Artillery failed, no requests).
 *
 * The arms run in one of two orders (options.ts, chooseOrder): `mixed`, one Artillery run in which every
 * virtual user picks an arm at random, or `sequential`, one Artillery run per arm at the full rate, one after
 * another with a cool-down between them, each arm's figures over its own window.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { PROCESS_IO, runCommand, type CommandIo } from '../command-line';
import { runArtillery } from './artillery';
import { readCloudWatch } from './cloudwatch';
import { OptionError, RunError } from './errors';
import { renderHtml } from './html';
import { LOAD_COMMAND, parseOptions } from './options';
import { readOutputsFile } from './outputs';
import { buildReport, type ArmsRun, type ArtilleryOutput } from './report';
import { artilleryArgs, buildScript } from './scenario';
import type { Arm, LoadOptions, LoadReport } from './types';
import { CLOUDWATCH_PERIOD_SECONDS } from '../../contracts';

export const EXIT = { ok: 0, error: 1, breached: 2 } as const;

export interface RunLoadIo {
  /** Artillery's console output as it comes, and a line as each arm's run starts. @default nothing (Artillery's is in <out>/artillery.log) */
  readonly onOutput?: (chunk: string) => void;
  /** The CloudWatch client for --cloudwatch. @default a client for the arms' region */
  readonly cloudwatch?: CloudWatchClient;
  /** Extra modules preloaded into Artillery (tests). @default [] */
  readonly preload?: readonly string[];
}

export interface LoadResult {
  readonly report: LoadReport;
  /** 0 or 2 (thresholds), or 1 when --cloudwatch failed after the report was written. */
  readonly exitCode: number;
  /** `log`: every run's Artillery output, one after another. */
  readonly files: { readonly json: string; readonly html: string; readonly log: string };
  /** Why exitCode is 1, when it is. */
  readonly error?: string;
}

/** Local runs are stopped this long after their schedule should have ended (Artillery waits for answers, up to its request timeout). */
const LOCAL_GRACE_MS = 120_000;

/** The Artillery runs of a test: all arms in one (mixed), or each arm alone, in the order given (sequential). */
const runsOf = (options: Pick<LoadOptions, 'arms' | 'order'>): (readonly Arm[])[] => (options.order === 'mixed' ? [options.arms] : options.arms.map((arm) => [arm]));

/** Runs the test and writes `<out>/report.json` and `<out>/report.html`. Throws RunError when no report can be made. */
export async function runLoad(options: LoadOptions, io: RunLoadIo = {}): Promise<LoadResult> {
  const out = path.resolve(options.out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new OptionError(`--out ${options.out}: ${(err as Error).message}`);
  }
  const log = path.join(out, 'artillery.log');
  writeFileSync(log, '');
  const runs: ArmsRun[] = [];
  for (const [i, arms] of runsOf(options).entries()) {
    const suffix = options.order === 'mixed' ? '' : `-${arms[0].name}`;
    // `scenario.json` and `raw.json` for a mixed run, `scenario-<arm>.json` and `raw-<arm>.json` per arm of a sequential one.
    const files = { script: path.join(out, `scenario${suffix}.json`), raw: path.join(out, `raw${suffix}.json`) };
    if (options.order === 'sequential') {
      if (i > 0 && options.cooldown > 0) {
        io.onOutput?.(`npm run load: cooling down ${options.cooldown} s before arm ${arms[0].name}\n`);
        await sleep(options.cooldown * 1000);
      }
      io.onOutput?.(`npm run load: arm ${arms[0].name} (${i + 1} of ${options.arms.length}) alone at ${options.rate} requests/s\n`);
    }
    writeFileSync(files.script, `${JSON.stringify(buildScript({ ...options, arms }), null, 2)}\n`);
    const code = await runArtillery({
      args: artilleryArgs(options, files.script, files.raw),
      logFile: log,
      onOutput: io.onOutput,
      preload: io.preload,
      timeoutMs: options.runner.on === 'local' ? (options.ramp + options.duration) * 1000 + LOCAL_GRACE_MS : undefined,
    });
    if (code !== 0) throw new RunError(`Artillery exited ${code}${suffix ? ` on arm ${arms[0].name}` : ''}: see ${log}`);
    let raw: ArtilleryOutput;
    try {
      raw = JSON.parse(readFileSync(files.raw, 'utf8'));
    } catch (err) {
      throw new RunError(`Artillery's results ${files.raw} could not be read (${(err as Error).message}); see ${log}`);
    }
    runs.push({ arms: arms.map((a) => a.name), raw });
  }
  const { report, exitCode, error } = await completeReport(runs, options, io);
  const json = path.join(out, 'report.json');
  const html = path.join(out, 'report.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderHtml(report));
  return { report, files: { json, html, log }, exitCode, ...(error ? { error } : {}) };
}

/**
 * From Artillery's JSON (one per run) to the finished report and its exit code: per-arm figures and
 * thresholds, then the CloudWatch section with --cloudwatch, each arm's metrics over its own window. Throws
 * RunError when an arm received no request.
 */
export async function completeReport(runs: readonly ArmsRun[], options: LoadOptions, io: Pick<RunLoadIo, 'cloudwatch'> = {}): Promise<{ report: LoadReport; exitCode: number; error?: string }> {
  let report = buildReport(runs, options);
  const idle = report.arms.filter((a) => a.requests === 0).map((a) => a.name);
  if (idle.length) {
    const why = options.order === 'mixed' ? ': each virtual user picks an arm at random, so run longer or at a higher --rate' : '';
    throw new RunError(`no request went to ${idle.join(', ')}${why}`);
  }

  let error: string | undefined;
  if (options.cloudwatch) {
    const windows = runs.map((run) => ({ arms: run.arms, ...report.arms.find((a) => a.name === run.arms[0])!.window }));
    try {
      report = { ...report, cloudwatch: await readCloudWatch(options.cloudwatch, windows, io.cloudwatch) };
    } catch (err) {
      error = `--cloudwatch: ${(err as Error).message} (the report was written without AWS metrics; it needs credentials allowed cloudwatch:GetMetricData)`;
      report = { ...report, cloudwatch: { ...(options.cloudwatch.region ? { region: options.cloudwatch.region } : {}), periodSeconds: CLOUDWATCH_PERIOD_SECONDS, series: [], notes: [error] } };
    }
  }
  const breached = report.thresholds.some((t) => !t.ok);
  return { report, exitCode: error ? EXIT.error : breached ? EXIT.breached : EXIT.ok, ...(error ? { error } : {}) };
}

const cell = (v: unknown, width: number) => String(v).padStart(width);

/** The lines the CLI prints after a run: the order and windows, one line per arm, each arm's hint, then each breached threshold. */
export function summaryLines(report: LoadReport): string[] {
  const o = report.options;
  const lines =
    o.order === 'mixed'
      ? [`order mixed: window ${report.window.start} → ${report.window.end} (${report.window.seconds} s)`]
      : [`order sequential${report.arms.length > 1 ? ` (cool-down ${o.cooldown} s)` : ''}:`, ...report.arms.map((a) => `  ${a.name.padEnd(14)}window ${a.window.start} → ${a.window.end} (${a.window.seconds} s)`)];
  lines.push(`${'arm'.padEnd(16)}${cell('requests', 10)}${cell('sent/s', 9)}${cell('ok/s', 9)}${cell('failures', 16)}${cell('p50', 9)}${cell('p90', 9)}${cell('p99', 9)}${cell('max', 9)}`);
  for (const a of report.arms) {
    const l = a.latency;
    lines.push(`${a.name.padEnd(16)}${cell(a.requests, 10)}${cell(a.rps, 9)}${cell(a.throughput, 9)}${cell(`${a.failures.total} (${a.failures.percent}%)`, 16)}${cell(l ? l.p50 : '-', 9)}${cell(l ? l.p90 : '-', 9)}${cell(l ? l.p99 : '-', 9)}${cell(l ? l.max : '-', 9)}`);
  }
  for (const a of report.arms) if (a.hint) lines.push(a.hint);
  for (const t of report.thresholds.filter((r) => !r.ok)) lines.push(`BREACHED ${t.arm}: ${t.threshold} (actual ${t.actual === null ? 'no data' : t.actual})`);
  return lines;
}


/** The command: argv → exit code (0 ok, 2 a threshold breached, 1 an error). Never throws. */
export async function main(argv: readonly string[], io: CommandIo = PROCESS_IO): Promise<number> {
  return runCommand(
    LOAD_COMMAND,
    argv,
    io,
    async () => {
      const options = parseOptions(argv, readOutputsFile);
      if (options.orderNote) io.stderr(`${LOAD_COMMAND.name}: ${options.orderNote}\n`);
      const result = await runLoad(options, { onOutput: io.stderr });
      io.stdout(`${summaryLines(result.report).join('\n')}\nreport: ${result.files.html}\n        ${result.files.json}\n`);
      if (result.error) io.stderr(`${LOAD_COMMAND.name}: ${result.error}\n`);
      return result.exitCode;
    },
    (err) => err instanceof RunError,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
