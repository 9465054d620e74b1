/**
 * `npm run load`: an A/B load test of any set of arms on Artillery, then report.json and report.html.
 * Usage and options: README.md beside this file. `runLoad` is the whole run without the command line, for
 * tests and scripts; `main` parses argv, prints a summary and sets the exit code:
 * 0 every threshold holds, 2 a threshold is breached, 1 an error (bad option, Artillery failed, no requests).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { runArtillery } from './artillery';
import { readCloudWatch } from './cloudwatch';
import { OptionError, RunError } from './errors';
import { renderHtml } from './html';
import { parseOptions, USAGE, wantsHelp } from './options';
import { readOutputsFile } from './outputs';
import { buildReport, type ArtilleryOutput } from './report';
import { artilleryArgs, buildScript } from './scenario';
import type { LoadOptions, LoadReport } from './types';

export const EXIT = { ok: 0, error: 1, breached: 2 } as const;

export interface RunLoadIo {
  /** Artillery's console output as it comes. @default nothing (it is in <out>/artillery.log) */
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
  readonly files: { readonly json: string; readonly html: string; readonly raw: string; readonly script: string; readonly log: string };
  /** Why exitCode is 1, when it is. */
  readonly error?: string;
}

/** Local runs are stopped this long after their schedule should have ended (Artillery waits for answers, up to its request timeout). */
const LOCAL_GRACE_MS = 120_000;

/** Runs the test and writes `<out>/report.json` and `<out>/report.html`. Throws RunError when no report can be made. */
export async function runLoad(options: LoadOptions, io: RunLoadIo = {}): Promise<LoadResult> {
  const out = path.resolve(options.out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new OptionError(`--out ${options.out}: ${(err as Error).message}`);
  }
  const files = { json: path.join(out, 'report.json'), html: path.join(out, 'report.html'), raw: path.join(out, 'raw.json'), script: path.join(out, 'scenario.json'), log: path.join(out, 'artillery.log') };
  writeFileSync(files.script, `${JSON.stringify(buildScript(options), null, 2)}\n`);
  const code = await runArtillery({
    args: artilleryArgs(options, files.script, files.raw),
    logFile: files.log,
    onOutput: io.onOutput,
    preload: io.preload,
    timeoutMs: options.runner.on === 'local' ? (options.ramp + options.duration) * 1000 + LOCAL_GRACE_MS : undefined,
  });
  if (code !== 0) throw new RunError(`Artillery exited ${code}: see ${files.log}`);
  let raw: ArtilleryOutput;
  try {
    raw = JSON.parse(readFileSync(files.raw, 'utf8'));
  } catch (err) {
    throw new RunError(`Artillery's results ${files.raw} could not be read (${(err as Error).message}); see ${files.log}`);
  }
  const { report, exitCode, error } = await completeReport(raw, options, io);
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.html, renderHtml(report));
  return { report, files, exitCode, ...(error ? { error } : {}) };
}

/**
 * From Artillery's JSON to the finished report and its exit code: per-arm figures and thresholds, then the
 * CloudWatch section with --cloudwatch. Throws RunError when an arm received no request.
 */
export async function completeReport(raw: ArtilleryOutput, options: LoadOptions, io: Pick<RunLoadIo, 'cloudwatch'> = {}): Promise<{ report: LoadReport; exitCode: number; error?: string }> {
  let report = buildReport(raw, options);
  const idle = report.arms.filter((a) => a.requests === 0).map((a) => a.name);
  if (idle.length) throw new RunError(`no request went to ${idle.join(', ')}: each virtual user picks an arm at random, so run longer or at a higher --rate`);

  let error: string | undefined;
  if (options.cloudwatch) {
    try {
      report = { ...report, cloudwatch: await readCloudWatch(options.cloudwatch, report.window, io.cloudwatch) };
    } catch (err) {
      error = `--cloudwatch: ${(err as Error).message} (the report was written without AWS metrics; it needs credentials allowed cloudwatch:GetMetricData)`;
      report = { ...report, cloudwatch: { ...(options.cloudwatch.region ? { region: options.cloudwatch.region } : {}), periodSeconds: 60, series: [], notes: [error] } };
    }
  }
  const breached = report.thresholds.some((t) => !t.ok);
  return { report, exitCode: error ? EXIT.error : breached ? EXIT.breached : EXIT.ok, ...(error ? { error } : {}) };
}

const cell = (v: unknown, width: number) => String(v).padStart(width);

/** The lines the CLI prints after a run: one per arm, then each breached threshold. */
export function summaryLines(report: LoadReport): string[] {
  const lines = [`window ${report.window.start} → ${report.window.end} (${report.window.seconds} s)`, `${'arm'.padEnd(16)}${cell('requests', 10)}${cell('sent/s', 9)}${cell('ok/s', 9)}${cell('failures', 16)}${cell('p50', 9)}${cell('p90', 9)}${cell('p99', 9)}${cell('max', 9)}`];
  for (const a of report.arms) {
    const l = a.latency;
    lines.push(`${a.name.padEnd(16)}${cell(a.requests, 10)}${cell(a.rps, 9)}${cell(a.throughput, 9)}${cell(`${a.failures.total} (${a.failures.percent}%)`, 16)}${cell(l ? l.p50 : '-', 9)}${cell(l ? l.p90 : '-', 9)}${cell(l ? l.p99 : '-', 9)}${cell(l ? l.max : '-', 9)}`);
  }
  for (const t of report.thresholds.filter((r) => !r.ok)) lines.push(`BREACHED ${t.arm}: ${t.threshold} (actual ${t.actual === null ? 'no data' : t.actual})`);
  return lines;
}

export async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let options: LoadOptions;
  try {
    options = parseOptions(argv, readOutputsFile);
  } catch (err) {
    if (err instanceof OptionError) {
      console.error(`npm run load: ${err.message}`);
      return EXIT.error;
    }
    throw err;
  }
  try {
    const result = await runLoad(options, { onOutput: (chunk) => process.stderr.write(chunk) });
    for (const line of summaryLines(result.report)) console.log(line);
    console.log(`report: ${result.files.html}\n        ${result.files.json}`);
    if (result.error) console.error(`npm run load: ${result.error}`);
    return result.exitCode;
  } catch (err) {
    if (err instanceof RunError || err instanceof OptionError) {
      console.error(`npm run load: ${err.message}`);
      return EXIT.error;
    }
    console.error(err);
    return EXIT.error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
