import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { planMetrics } from '../../tools/load/cloudwatch';
import { RunError } from '../../tools/load/errors';
import { renderHtml } from '../../tools/load/html';
import { completeReport, EXIT, main } from '../../tools/load/load';
import { usage } from '../../tools/command-line';
import { LOAD_COMMAND, parseOptions } from '../../tools/load/options';
import type { ArmsRun } from '../../tools/load/report';
import { artilleryOutput, type ArmFigures } from './fixture';

const start = Date.UTC(2026, 0, 1, 12, 0, 1);
const end = start + 30_000;
const arms = ['--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=https://zyx987wvut.execute-api.eu-west-1.amazonaws.com', '--order', 'mixed'];
const figures: Record<string, ArmFigures> = {
  proxy: { created: 300, codes: { 200: 300 }, latency: [20, 40, 80, 200, 400] },
  direct: { created: 300, codes: { 200: 291, 500: 9 }, latency: [25, 60, 150, 900, 2000] },
};
const raw: ArmsRun[] = [{ arms: ['proxy', 'direct'], raw: artilleryOutput(start, end, figures) }];

describe('exit codes from the finished report', () => {
  test('0 when every threshold holds (or none is set)', async () => {
    expect((await completeReport(raw, parseOptions(arms))).exitCode).toBe(EXIT.ok);
    expect((await completeReport(raw, parseOptions([...arms, '--ensure', 'p99<1000,failures<=9,throughput>9']))).exitCode).toBe(EXIT.ok);
  });

  test('2 when one threshold is breached on one arm', async () => {
    const { exitCode, report } = await completeReport(raw, parseOptions([...arms, '--ensure', 'p99<800']));
    expect(exitCode).toBe(EXIT.breached);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([{ arm: 'direct', threshold: 'p99<800', actual: 900, ok: false }]);
  });

  test('an arm that received no request is an error (1), not a comparison', async () => {
    const idle: ArmsRun[] = [{ arms: ['proxy', 'direct'], raw: artilleryOutput(start, end, { ...figures, direct: { created: 0, codes: {} } }) }];
    await expect(completeReport(idle, parseOptions(arms))).rejects.toThrow(RunError);
    await expect(completeReport(idle, parseOptions(arms))).rejects.toThrow(/no request went to direct/);
  });
});

describe('the CLI', () => {
  /** `npm run load` in this process: exit code and what it printed. */
  async function cli(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  }

  test('--help prints the synopsis and every declared option, runs nothing: exit 0', async () => {
    // No arm given: without --help this would be an error (1); so would the bad --rate.
    for (const argv of [['--help'], ['--rate', '0x10', '-h']]) {
      const r = await cli(argv);
      expect(r).toEqual({ code: EXIT.ok, stdout: `${usage(LOAD_COMMAND)}\n`, stderr: '' });
    }
    const help = usage(LOAD_COMMAND);
    expect(help).toMatch(/^usage: npm run load -- --arm <name>=<url>/);
    for (const [name, spec] of Object.entries(LOAD_COMMAND.options)) {
      const options = help.split('\n').slice(help.split('\n').indexOf('options:'));
      const line = options.find((l) => new RegExp(`^\\s+--${name}\\b`).test(l))!;
      expect(line).toContain(spec.help);
      if ('default' in spec) expect(line).toContain(`(default: ${spec.default})`);
    }
    expect(help).toMatch(/^exit: 0 every threshold holds, 2 one is breached, 1 an error/m);
  });

  test('a bad option is one line naming it: exit 1', async () => {
    expect(await cli(['--rate', '5'])).toEqual({ code: EXIT.error, stdout: '', stderr: expect.stringMatching(/^npm run load: --arm: name at least one arm[^\n]*\n$/) });
  });

  test('an unexpected error is one line; --debug adds its stack', async () => {
    // Nothing anticipates an --out whose artillery.log is a directory: the write fails with EISDIR before Artillery starts.
    const out = mkdtempSync(path.join(tmpdir(), 'load-unexpected-'));
    try {
      mkdirSync(path.join(out, 'artillery.log'));
      const argv = ['--arm', 'a=http://127.0.0.1:9', '--duration', '1', '--out', out];
      const plain = await cli(argv);
      expect(plain).toEqual({ code: EXIT.error, stdout: '', stderr: `npm run load: unexpected error: EISDIR: illegal operation on a directory, open '${path.join(out, 'artillery.log')}' (--debug prints its stack)\n` });
      const debug = await cli([...argv, '--debug']);
      expect(debug.code).toBe(EXIT.error);
      expect(debug.stderr).toMatch(/^npm run load: unexpected error: EISDIR[^\n]*\nError: EISDIR[^\n]*\n\s+at /);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('--cloudwatch in the finished report', () => {
  const options = parseOptions([...arms, '--cloudwatch', '--function', 'proxy=fn-proxy', '--function', 'direct=fn-direct', '--db-instance', 'db-1', '--proxy-name', 'px-1', '--ensure', 'p99<800']);

  test('the run window is the one queried; the series land in report.json and report.html; the threshold verdict stands', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q, i) => ({ Id: q.Id, Timestamps: [input.StartTime], Values: [i + 1], StatusCode: 'Complete' })),
    }));
    const { report, exitCode } = await completeReport(raw, options, { cloudwatch: cw as unknown as CloudWatchClient });
    const [plan] = planMetrics(options.cloudwatch!, [{ arms: ['proxy', 'direct'], ...report.window }]).windows;
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0].args[0].input;
    expect([sent.StartTime, sent.EndTime]).toEqual([plan.startTime, plan.endTime]);
    expect(plan.startTime.getTime()).toBeLessThanOrEqual(start);
    expect(plan.endTime.getTime()).toBeGreaterThanOrEqual(end);
    expect(exitCode).toBe(EXIT.breached);
    expect(report.cloudwatch!.series.map((s) => s.points[0].value)).toEqual(plan.specs.map((_s, i) => i + 1));
    expect(report.cloudwatch!.series.find((s) => s.metric === 'Throttles' && s.arm === 'direct')?.dimensions).toEqual({ FunctionName: 'fn-direct' });
    const html = renderHtml(report);
    for (const s of report.cloudwatch!.series) expect(html).toContain(`data-chart="cw:${s.label}"`);
    cw.restore();
  });

  test('a CloudWatch failure keeps the report, says why in it, and exits 1', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const { report, exitCode, error } = await completeReport(raw, options, { cloudwatch: cw as unknown as CloudWatchClient });
    expect(exitCode).toBe(EXIT.error);
    expect(error).toMatch(/^--cloudwatch: Could not load credentials.*cloudwatch:GetMetricData/);
    expect(report.cloudwatch).toMatchObject({ series: [], notes: [error] });
    expect(report.arms.map((a) => a.requests)).toEqual([300, 300]);
    cw.restore();
  });
});

describe('--cloudwatch in a sequential run: each arm over its own window', () => {
  // Two arms one after another over one shared instance and proxy, as --db-instance and --proxy-name name them.
  const sequential = parseOptions([...arms.slice(0, 4), '--order', 'sequential', '--cloudwatch', '--function', 'proxy=fn-proxy', '--function', 'direct=fn-direct', '--db-instance', 'db-1', '--proxy-name', 'px-1']);
  const proxyStart = Date.UTC(2026, 0, 1, 12, 0, 1);
  const proxyEnd = Date.UTC(2026, 0, 1, 12, 10, 1);
  const directStart = Date.UTC(2026, 0, 1, 12, 11, 4);
  const directEnd = Date.UTC(2026, 0, 1, 12, 21, 4);
  const runs: ArmsRun[] = [
    { arms: ['proxy'], raw: artilleryOutput(proxyStart, proxyEnd, { proxy: figures.proxy }) },
    { arms: ['direct'], raw: artilleryOutput(directStart, directEnd, { direct: figures.direct }) },
  ];

  test('one GetMetricData per arm, from the minute its run started to the minute after it ended, asking only for that arm and the resources it used', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({ MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Timestamps: [input.StartTime], Values: [1], StatusCode: 'Complete' })) }));
    const { report } = await completeReport(runs, sequential, { cloudwatch: cw as unknown as CloudWatchClient });
    const sent = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input as GetMetricDataCommandInput);
    expect(sent.map((input) => [input.StartTime, input.EndTime])).toEqual([
      [new Date(Date.UTC(2026, 0, 1, 12, 0)), new Date(Date.UTC(2026, 0, 1, 12, 11))],
      [new Date(Date.UTC(2026, 0, 1, 12, 11)), new Date(Date.UTC(2026, 0, 1, 12, 22))],
    ]);
    const dimensionsOf = (input: GetMetricDataCommandInput) => input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.Dimensions![0].Value);
    expect(dimensionsOf(sent[0])).toEqual(['fn-proxy', 'fn-proxy', 'abc123defg', 'abc123defg', 'db-1', 'db-1', 'px-1', 'px-1']);
    expect(dimensionsOf(sent[1])).toEqual(['fn-direct', 'fn-direct', 'zyx987wvut', 'zyx987wvut', 'db-1', 'db-1', 'px-1', 'px-1']);
    // The shared instance's series belong to the arm whose window they cover.
    const database = report.cloudwatch!.series.filter((s) => s.metric === 'CPUUtilization');
    expect(database.map((s) => [s.arm, s.points[0].at])).toEqual([
      ['proxy', '2026-01-01T12:00:00.000Z'],
      ['direct', '2026-01-01T12:11:00.000Z'],
    ]);
    cw.restore();
  });
});
