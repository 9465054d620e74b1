import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { planMetrics } from '../../tools/load/cloudwatch';
import { RunError } from '../../tools/load/errors';
import { renderHtml } from '../../tools/load/html';
import { completeReport, EXIT, main } from '../../tools/load/load';
import { parseOptions, USAGE } from '../../tools/load/options';
import { artilleryOutput, type ArmFigures } from './fixture';

const start = Date.UTC(2026, 0, 1, 12, 0, 1);
const end = start + 30_000;
const arms = ['--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=https://zyx987wvut.execute-api.eu-west-1.amazonaws.com'];
const figures: Record<string, ArmFigures> = {
  proxy: { created: 300, codes: { 200: 300 }, latency: [20, 40, 80, 200, 400] },
  direct: { created: 300, codes: { 200: 291, 500: 9 }, latency: [25, 60, 150, 900, 2000] },
};
const raw = artilleryOutput(start, end, figures);

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
    const idle = artilleryOutput(start, end, { ...figures, direct: { created: 0, codes: {} } });
    await expect(completeReport(idle, parseOptions(arms))).rejects.toThrow(RunError);
    await expect(completeReport(idle, parseOptions(arms))).rejects.toThrow(/no request went to direct/);
  });
});

describe('the CLI', () => {
  test('--help prints the synopsis and runs nothing: exit 0', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // No arm given: without --help this would be an error (1).
      await expect(main(['--help'])).resolves.toBe(EXIT.ok);
      await expect(main(['--rate', '5', '-h'])).resolves.toBe(EXIT.ok);
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual([USAGE, USAGE]);
      expect(USAGE).toMatch(/^usage: npm run load -- --arm <name>=<url>/);
    } finally {
      log.mockRestore();
    }
  });

  test('a bad option is one line naming it: exit 1', async () => {
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(main(['--rate', '5'])).resolves.toBe(EXIT.error);
      expect(err.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^npm run load: --arm: name at least one arm/)]);
    } finally {
      err.mockRestore();
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
    const plan = planMetrics(options.cloudwatch!, report.window);
    const sent = cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
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
