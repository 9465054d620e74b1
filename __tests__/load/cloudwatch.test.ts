import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { metricDataQueries, planMetrics, readCloudWatch } from '../../tools/load/cloudwatch';
import { renderHtml } from '../../tools/load/html';
import { parseOptions } from '../../tools/load/options';
import { deployedOutputs } from '../../tools/load/outputs';
import type { CloudWatchTargets, LoadReport } from '../../tools/load/types';

/** Arms that share one instance, run mixed (as before the direct arm could have its own). */
const outputs = {
  'data-dev': { database_identifier: 'app-dev-mysql', proxy_name: 'app-dev-proxy' },
  'api-dev': {
    api_url: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/',
    tenants_function_name: 'app-dev-tenants',
    direct_api_url: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com/',
    direct_tenants_function_name: 'app-dev-direct-tenants',
    direct_arm_database: 'shared',
  },
};
const options = parseOptions(['--outputs', 'o.json', '--env', 'dev', '--cloudwatch', '--duration', '600', '--order', 'mixed'], (f, env) => deployedOutputs(outputs, env, f));
const targets = options.cloudwatch as CloudWatchTargets;
const window = { start: '2026-01-01T12:00:03.500Z', end: '2026-01-01T12:10:20.000Z' };
/** The one window of a mixed run: every arm. */
const mixed = [{ arms: ['proxy', 'direct'], ...window }];

const metric = (Namespace: string, MetricName: string, Name: string, Value: string, Stat: string, Period = 60) => ({ MetricStat: { Metric: { Namespace, MetricName, Dimensions: [{ Name, Value }] }, Period, Stat }, ReturnData: true });

describe('--cloudwatch queries', () => {
  test('per arm: Lambda concurrency and throttles of the function the route runs, the HTTP API’s 5xx and count; the instance both share; the proxy', () => {
    const { windows, notes } = planMetrics(targets, mixed);
    expect(windows).toHaveLength(1);
    const [plan] = windows;
    expect(plan.period).toBe(60);
    expect(plan.startTime.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(plan.endTime.toISOString()).toBe('2026-01-01T12:11:00.000Z');
    expect(notes).toEqual([]);
    expect(plan.specs.filter((s) => s.namespace === 'AWS/RDS').map((s) => s.arm)).toEqual([undefined, undefined, 'proxy', 'proxy']);
    expect(metricDataQueries(plan)).toEqual([
      { Id: 'm0', Label: 'Lambda concurrent executions (proxy)', ...metric('AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', 'app-dev-tenants', 'Maximum') },
      { Id: 'm1', Label: 'Lambda throttles (proxy)', ...metric('AWS/Lambda', 'Throttles', 'FunctionName', 'app-dev-tenants', 'Sum') },
      { Id: 'm2', Label: 'API 5xx responses (proxy)', ...metric('AWS/ApiGateway', '5xx', 'ApiId', 'abc123defg', 'Sum') },
      { Id: 'm3', Label: 'API requests (proxy)', ...metric('AWS/ApiGateway', 'Count', 'ApiId', 'abc123defg', 'Sum') },
      { Id: 'm4', Label: 'Lambda concurrent executions (direct)', ...metric('AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', 'app-dev-direct-tenants', 'Maximum') },
      { Id: 'm5', Label: 'Lambda throttles (direct)', ...metric('AWS/Lambda', 'Throttles', 'FunctionName', 'app-dev-direct-tenants', 'Sum') },
      { Id: 'm6', Label: 'API 5xx responses (direct)', ...metric('AWS/ApiGateway', '5xx', 'ApiId', 'zyx987wvut', 'Sum') },
      { Id: 'm7', Label: 'API requests (direct)', ...metric('AWS/ApiGateway', 'Count', 'ApiId', 'zyx987wvut', 'Sum') },
      { Id: 'm8', Label: 'Database connections (instance)', ...metric('AWS/RDS', 'DatabaseConnections', 'DBInstanceIdentifier', 'app-dev-mysql', 'Maximum') },
      { Id: 'm9', Label: 'Database CPU', ...metric('AWS/RDS', 'CPUUtilization', 'DBInstanceIdentifier', 'app-dev-mysql', 'Average') },
      { Id: 'm10', Label: 'Proxy client connections (proxy)', ...metric('AWS/RDS', 'ClientConnections', 'ProxyName', 'app-dev-proxy', 'Sum') },
      { Id: 'm11', Label: 'Proxy database connections (proxy)', ...metric('AWS/RDS', 'DatabaseConnections', 'ProxyName', 'app-dev-proxy', 'Sum') },
    ]);
  });

  test('arms with their own instances, run mixed: one window, each instance’s series its arm’s', () => {
    const own = parseOptions(['--outputs', 'o.json', '--env', 'dev', '--cloudwatch'], (f, env) =>
      deployedOutputs({ 'data-dev': { ...outputs['data-dev'], direct_database_identifier: 'app-dev-direct-mysql' }, 'api-dev': { ...outputs['api-dev'], direct_arm_database: 'own' } }, env, f),
    );
    expect(own.order).toBe('mixed');
    const { windows } = planMetrics(own.cloudwatch!, mixed);
    expect(windows).toHaveLength(1);
    expect(windows[0].specs.filter((s) => s.metric === 'CPUUtilization').map((s) => [s.arm, s.dimensions.DBInstanceIdentifier])).toEqual([
      ['proxy', 'app-dev-mysql'],
      ['direct', 'app-dev-direct-mysql'],
    ]);
  });

  test('a sequential run: one window per arm, widened to its whole minutes, each with the arm’s own metrics and the instance it used', () => {
    const proxyWindow = { arms: ['proxy'], start: '2026-01-01T12:00:03.500Z', end: '2026-01-01T12:10:20.000Z' };
    const directWindow = { arms: ['direct'], start: '2026-01-01T12:11:25.000Z', end: '2026-01-01T12:21:40.000Z' };
    const { windows } = planMetrics(targets, [proxyWindow, directWindow]);
    expect(windows.map((w) => [w.arms, w.startTime.toISOString(), w.endTime.toISOString()])).toEqual([
      [['proxy'], '2026-01-01T12:00:00.000Z', '2026-01-01T12:11:00.000Z'],
      [['direct'], '2026-01-01T12:11:00.000Z', '2026-01-01T12:22:00.000Z'],
    ]);
    expect(windows.map((w) => w.specs.map((s) => `${s.arm} ${s.metric}`))).toEqual([
      ['proxy ConcurrentExecutions', 'proxy Throttles', 'proxy 5xx', 'proxy Count', 'proxy DatabaseConnections', 'proxy CPUUtilization', 'proxy ClientConnections', 'proxy DatabaseConnections'],
      ['direct ConcurrentExecutions', 'direct Throttles', 'direct 5xx', 'direct Count', 'direct DatabaseConnections', 'direct CPUUtilization'],
    ]);
    // Query ids stay unique over the windows, so results merge per query.
    const ids = windows.flatMap((w) => w.specs.map((s) => s.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('what is not known is not queried, and the report says why', () => {
    const plan = planMetrics({ arms: { local: {} } }, [{ arms: ['local'], ...window }]);
    expect(plan.windows[0].specs).toEqual([]);
    expect(plan.notes).toEqual([
      'arm local: no Lambda function name (--function local=<name>, or --outputs), so no Lambda metrics',
      'arm local: its URL is not an execute-api URL, so no API Gateway metrics',
      'no DB instance identifier (--db-instance, or --outputs), so no database metrics',
      'no proxy name (--proxy-name, or --outputs), so no proxy metrics',
    ]);
  });

  test('a long window gets longer periods (never under a minute, at most 500 points a series); proxy sums stay per minute', () => {
    const [plan] = planMetrics(targets, [{ arms: ['proxy', 'direct'], start: '2026-01-01T00:00:00Z', end: '2026-01-04T00:00:00Z' }]).windows;
    expect(plan.period % 60).toBe(0);
    expect(plan.period).toBeGreaterThan(60);
    expect((3 * 86400) / plan.period).toBeLessThanOrEqual(500);
    expect(plan.specs.filter((s) => s.metric !== 'ClientConnections' && !(s.metric === 'DatabaseConnections' && s.dimensions.ProxyName)).every((s) => s.period === plan.period)).toBe(true);
    expect(plan.specs.filter((s) => s.dimensions.ProxyName).map((s) => s.period)).toEqual([60, 60]);
  });
});

describe('--cloudwatch reading (GetMetricData against a mocked client)', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

  test('follows NextToken, merges pages per series, keeps partial and missing series with notes, and the page shows the series', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'm0', Timestamps: [at(0), at(1)], Values: [3, 7], StatusCode: 'PartialData' },
          { Id: 'm4', Timestamps: [at(0), at(1)], Values: [11, 19], StatusCode: 'Complete' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'm0', Timestamps: [at(2)], Values: [9], StatusCode: 'Complete' },
          { Id: 'm10', Timestamps: [at(0)], Values: [5], StatusCode: 'PartialData' },
          ...['m1', 'm2', 'm3', 'm5', 'm6', 'm7', 'm8', 'm9'].map((Id) => ({ Id, Timestamps: [at(0)], Values: [1], StatusCode: 'Complete' as const })),
        ],
        Messages: [{ Code: 'MaxDatapointsExceeded', Value: 'some data left out' }],
      });
    const section = await readCloudWatch(targets, mixed, cw as unknown as CloudWatchClient);

    const calls = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input as GetMetricDataCommandInput);
    expect(calls).toHaveLength(2);
    const [plan] = planMetrics(targets, mixed).windows;
    for (const input of calls) {
      expect(input.MetricDataQueries).toEqual(metricDataQueries(plan));
      expect([input.StartTime, input.EndTime, input.ScanBy]).toEqual([plan.startTime, plan.endTime, 'TimestampAscending']);
    }
    expect([calls[0].NextToken, calls[1].NextToken]).toEqual([undefined, 'page-2']);

    const concurrency = section.series.filter((s) => s.metric === 'ConcurrentExecutions');
    expect(concurrency.map((s) => [s.arm, s.points.map((p) => p.value), s.status])).toEqual([
      ['proxy', [3, 7, 9], 'Complete'],
      ['direct', [11, 19], 'Complete'],
    ]);
    expect(concurrency[0].points.map((p) => p.at)).toEqual([at(0), at(1), at(2)].map((d) => d.toISOString()));
    const proxyClients = section.series.find((s) => s.metric === 'ClientConnections')!;
    const proxyDb = section.series.find((s) => s.metric === 'DatabaseConnections' && s.dimensions.ProxyName)!;
    expect([proxyClients.status, proxyDb.status, proxyDb.points]).toEqual(['PartialData', 'Missing', []]);
    expect(section.notes).toEqual(['CloudWatch: MaxDatapointsExceeded some data left out', 'Proxy client connections (proxy): CloudWatch says PartialData', 'Proxy database connections (proxy): no answer from CloudWatch']);
    expect(section.periodSeconds).toBe(60);
    expect(section.region).toBe('eu-west-1');

    const report: LoadReport = {
      window: { ...window, seconds: 616.5 },
      options: { arms: options.arms, path: options.path, tenants: options.tenants, rate: options.rate, ramp: options.ramp, duration: options.duration, order: options.order, cooldown: options.cooldown, ensure: [], runner: options.runner },
      arms: options.arms.map((a) => ({ name: a.name, url: a.url, window: { ...window, seconds: 616.5 }, requests: 1, rps: 1, throughput: 1, codes: { 200: 1 }, failures: { total: 0, percent: 0, byStatus: {}, byError: {} }, latency: null, series: [] })),
      thresholds: [],
      cloudwatch: section,
    };
    const html = renderHtml(report);
    const figure = html.split('data-chart="cw:Lambda concurrent executions"')[1].split('</figure>')[0];
    expect(figure.match(/<g data-series="proxy">.*?<\/g>/)![0].match(/<circle/g)).toHaveLength(3);
    expect(figure.match(/<g data-series="direct">.*?<\/g>/)![0].match(/<circle/g)).toHaveLength(2);
    expect(figure).toContain('<title>proxy: 9 Maximum');
    expect(html).toContain('Proxy database connections (proxy): no answer from CloudWatch');
    cw.restore();
  });
});
