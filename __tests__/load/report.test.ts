import { RunError } from '../../tools/load/errors';
import { escapeHtml } from '../../functions/lib/http';
import { renderHtml } from '../../tools/load/html';
import { summaryLines } from '../../tools/load/load';
import { parseOptions } from '../../tools/load/options';
import { buildReport, CLIENT_ERROR_HINT, clientErrorHint, PERIOD_MS, type ArmsRun, type ArtilleryOutput } from '../../tools/load/report';
import type { ArmReport } from '../../tools/load/types';
import { armMetrics, artilleryOutput, merged } from './fixture';

const options = parseOptions(['--arm', 'proxy=http://127.0.0.1:1', '--arm', 'direct=http://127.0.0.1:2/d', '--order', 'mixed', '--rate', '20', '--duration', '15', '--ensure', 'p99<100,direct:failures<5%']);

const start = Date.UTC(2026, 0, 1, 12, 0, 3); // 3 s into a 10-second period
const end = start + 15_000;
const p0 = Math.floor(start / PERIOD_MS) * PERIOD_MS;
const first = { proxy: { created: 70, codes: { 200: 70 }, latency: [10, 20, 40, 60, 80] as [number, number, number, number, number] }, direct: { created: 70, codes: { 200: 60, 503: 8 }, errors: { ETIMEDOUT: 2 }, latency: [12, 30, 70, 150, 400] as [number, number, number, number, number] } };
const second = { proxy: { created: 80, codes: { 200: 79, 404: 1 }, latency: [11, 22, 44, 66, 90] as [number, number, number, number, number] }, direct: { created: 80, codes: { 200: 80 }, latency: [12, 25, 50, 90, 120] as [number, number, number, number, number] } };
const total = {
  proxy: { created: 150, codes: { 200: 149, 404: 1 }, latency: [10, 21, 43, 65, 90] as [number, number, number, number, number] },
  direct: { created: 150, codes: { 200: 140, 503: 8 }, errors: { ETIMEDOUT: 2 }, latency: [12, 27, 60, 140, 400] as [number, number, number, number, number] },
};
const rawMixed: ArtilleryOutput = {
  aggregate: { ...merged(armMetrics('proxy', total.proxy), armMetrics('direct', total.direct)), firstMetricAt: start, lastMetricAt: end, period: String(p0) },
  intermediate: [
    { ...merged(armMetrics('proxy', first.proxy), armMetrics('direct', first.direct)), period: String(p0) },
    { ...merged(armMetrics('proxy', second.proxy), armMetrics('direct', second.direct)), period: String(p0 + PERIOD_MS) },
  ],
};
/** The one Artillery run of a mixed test: both arms. */
const raw: readonly ArmsRun[] = [{ arms: ['proxy', 'direct'], raw: rawMixed }];

describe('report.json from Artillery output', () => {
  const report = buildReport(raw, options);

  test('the run window is Artillery’s first to last metric', () => {
    expect(report.window).toEqual({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), seconds: 15 });
    // Mixed: every arm's window is the run's.
    for (const arm of report.arms) expect(arm.window).toEqual(report.window);
    expect(report.options).toMatchObject({ order: 'mixed', cooldown: 0 });
  });

  test('per arm: requests, codes, failures by status (≥ 400) and by error, rates over the window, latency', () => {
    const [proxy, direct] = report.arms;
    expect(proxy).toMatchObject({ name: 'proxy', url: 'http://127.0.0.1:1', requests: 150, rps: 10, throughput: Math.round((149 / 15) * 100) / 100, codes: { 200: 149, 404: 1 } });
    expect(proxy.failures).toEqual({ total: 1, percent: Math.round((100 / 150) * 1000) / 1000, byStatus: { 404: 1 }, byError: {} });
    expect(direct.failures).toEqual({ total: 10, percent: Math.round((1000 / 150) * 1000) / 1000, byStatus: { 503: 8 }, byError: { ETIMEDOUT: 2 } });
    expect(direct.latency).toEqual({ min: 12, p50: 27, p90: 60, p99: 140, max: 400, mean: 27 });
  });

  test('the series has one point per 10-second period, rates over the part of the period the run covered', () => {
    const [proxy, direct] = report.arms;
    expect(proxy.series.map((p) => [p.start, p.seconds, p.requests, p.failures])).toEqual([
      [new Date(p0).toISOString(), 7, 70, 0],
      [new Date(p0 + PERIOD_MS).toISOString(), 8, 80, 1],
    ]);
    expect(proxy.series[0].throughput).toBe(10);
    expect(direct.series[0]).toMatchObject({ failures: 10, throughput: Math.round((60 / 7) * 100) / 100, latency: { p99: 150 } });
  });

  test('thresholds are evaluated on these figures', () => {
    expect(report.thresholds).toEqual([
      { arm: 'proxy', threshold: 'p99<100', actual: 65, ok: true },
      { arm: 'direct', threshold: 'p99<100', actual: 140, ok: false },
      { arm: 'direct', threshold: 'direct:failures<5%', actual: direct(report).failures.percent, ok: false },
    ]);
  });

  test('output without metrics is a run error', () => {
    expect(() => buildReport([{ arms: ['proxy', 'direct'], raw: { aggregate: {} } }], options)).toThrow(RunError);
  });
});

const direct = (r: ReturnType<typeof buildReport>) => r.arms[1];

describe('report.html', () => {
  test('is self-contained: a CSP that forbids every fetch, no script, no external reference', () => {
    const html = renderHtml(buildReport(raw, options));
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
  });

  test('shows each arm in the table and in every chart, and the breached threshold', () => {
    const report = buildReport(raw, options);
    const html = renderHtml(report);
    for (const arm of options.arms) {
      expect(html).toContain(`<tr data-arm="${arm.name}"`);
      for (const chart of ['throughput', 'failures', 'latency', 'requests']) {
        const figure = html.split(`data-chart="${chart}"`)[1].split('</figure>')[0];
        expect(figure).toContain(`data-series="${arm.name}"`);
      }
    }
    expect(html).toContain(`${report.thresholds.filter((t) => !t.ok).length} threshold checks breached`);
    expect(html).toContain('<tr class="breach"><td>direct</td><td><code>p99&lt;100</code></td><td>140 ms</td><td>BREACHED</td></tr>');
  });

  test('opens with the A/B answer: per headline figure, a bar per arm as long as its value, with unit and ratio to the first arm', () => {
    const report = buildReport(raw, options);
    const html = renderHtml(report);
    expect(html.indexOf('class="glance"')).toBeLessThan(html.indexOf('class="summary"'));
    const figures = { throughput: (a: ArmReport) => a.throughput, failures: (a: ArmReport) => a.failures.percent, p50: (a: ArmReport) => a.latency!.p50, p99: (a: ArmReport) => a.latency!.p99 };
    const units = { throughput: 'req/s', failures: '%', p50: 'ms', p99: 'ms' };
    for (const [metric, pick] of Object.entries(figures)) {
      const block = html.split(`data-metric="${metric}"`)[1].split('class="glance-metric"')[0];
      const values = report.arms.map(pick);
      const max = Math.max(...values);
      report.arms.forEach((arm, i) => {
        const row = block.split(`data-arm="${arm.name}"`)[1].split('</div>')[0];
        const width = Number(/width:([0-9.]+)%/.exec(row)![1]);
        expect(width).toBeCloseTo((100 * values[i]) / max, 1);
        expect(row).toMatch(new RegExp(`>${values[i]} ${units[metric as keyof typeof units]}`));
        if (i > 0) expect(row).toContain(`${Number((values[i] / values[0]).toPrecision(2))}× ${report.arms[0].name}`);
      });
    }
  });

  test('an arm with no response shows no data, not a zero-length latency bar', () => {
    const down = buildReport([{ arms: ['proxy', 'direct'], raw: artilleryOutput(start, end, { proxy: total.proxy, direct: { created: 150, codes: {}, errors: { ECONNREFUSED: 150 } } }) }], options);
    const html = renderHtml(down);
    const p99 = html.split('data-metric="p99"')[1].split('class="glance-metric"')[0];
    expect(p99.split('data-arm="direct"')[1].split('</div>')[0]).toContain('no data');
    const failures = html.split('data-metric="failures"')[1];
    expect(failures.split('data-arm="direct"')[1].split('</div>')[0]).toContain('>100 %');
  });

  test('escapes what comes from input', () => {
    const hostile = { ...rawMixed, aggregate: merged(rawMixed.aggregate, { counters: { 'plugins.metrics-by-endpoint.proxy.errors.<img src=x onerror=alert(1)>': 1 } }) };
    const report = buildReport([{ arms: ['proxy', 'direct'], raw: { ...hostile, aggregate: { ...hostile.aggregate, firstMetricAt: start, lastMetricAt: end } } }], options);
    const evil = { ...report, options: { ...report.options, path: '/"><script>alert(1)</script>' } };
    const html = renderHtml(evil);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    expect(html).toContain(escapeHtml('<img src=x onerror=alert(1)>'));
    expect(html).toContain(escapeHtml('/"><script>alert(1)</script>'));
  });
});

describe('a sequential run: one Artillery run per arm, each arm over its own window', () => {
  const sequential = parseOptions(['--arm', 'proxy=http://127.0.0.1:1', '--arm', 'direct=http://127.0.0.1:2', '--order', 'sequential', '--cooldown', '60', '--rate', '10', '--duration', '15']);
  const firstEnd = start + 15_000;
  const secondStart = firstEnd + 63_000; // the cool-down, and Artillery's start
  const secondEnd = secondStart + 30_000;
  const runs: ArmsRun[] = [
    { arms: ['proxy'], raw: artilleryOutput(start, firstEnd, { proxy: { created: 150, codes: { 200: 150 }, latency: [10, 20, 40, 60, 80] } }) },
    { arms: ['direct'], raw: artilleryOutput(secondStart, secondEnd, { direct: { created: 300, codes: { 200: 300 }, latency: [10, 20, 40, 60, 80] } }) },
  ];
  const report = buildReport(runs, sequential);

  test('each arm has its own window, and its rates are over it; the run window spans both', () => {
    const [proxy, direct] = report.arms;
    expect(proxy.window).toEqual({ start: new Date(start).toISOString(), end: new Date(firstEnd).toISOString(), seconds: 15 });
    expect(direct.window).toEqual({ start: new Date(secondStart).toISOString(), end: new Date(secondEnd).toISOString(), seconds: 30 });
    expect([proxy.rps, direct.rps]).toEqual([150 / 15, 300 / 30]);
    expect(report.window).toEqual({ start: proxy.window.start, end: direct.window.end, seconds: (secondEnd - start) / 1000 });
    expect(report.options).toMatchObject({ order: 'sequential', cooldown: 60 });
  });

  test('the page says the order and shows each arm’s window; its charts start each arm at its own start', () => {
    const html = renderHtml(report);
    expect(html).toContain('<dd data-order="sequential">sequential: each arm alone, in the order below, 60 s apart</dd>');
    for (const arm of report.arms) expect(html).toContain(`<dd data-window="${arm.name}"><time datetime="${arm.window.start}">${arm.window.start}</time> → <time datetime="${arm.window.end}">${arm.window.end}</time> (${arm.window.seconds} s)</dd>`);
    expect(html).toContain("time from each arm&#39;s start");
    // Both arms' first points sit in the first seconds of the x axis, though the second ran 78 s later.
    const throughput = html.split('data-chart="throughput"')[1].split('</figure>')[0];
    const firstX = (arm: string) => Number(/<circle cx="([0-9.]+)"/.exec(throughput.split(`data-series="${arm}"`)[1])![1]);
    expect(firstX('direct')).toBeLessThan(firstX('proxy') + 200);
  });

  test('--ensure keeps its meaning per arm: rates over the arm’s own window, not the whole run', () => {
    const gated = parseOptions(['--arm', 'proxy=http://127.0.0.1:1', '--arm', 'direct=http://127.0.0.1:2', '--order', 'sequential', '--rate', '10', '--duration', '15', '--ensure', 'rps>=9.5,proxy:p99<100']);
    const { thresholds } = buildReport(runs, gated);
    // Over the whole run (78 s of it idle between the arms) neither arm would reach 9.5 requests/s.
    expect(450 / report.window.seconds).toBeLessThan(9.5);
    expect(thresholds).toEqual([
      { arm: 'proxy', threshold: 'rps>=9.5', actual: 10, ok: true },
      { arm: 'direct', threshold: 'rps>=9.5', actual: 10, ok: true },
      { arm: 'proxy', threshold: 'proxy:p99<100', actual: 60, ok: true },
    ]);
  });

  test('an arm in no run is an error, not a silent zero', () => {
    expect(() => buildReport(runs.slice(0, 1), sequential)).toThrow(/no Artillery run drove arm direct/);
  });
});

describe('the client-error hint', () => {
  const arm = (requests: number, byStatus: Record<string, number>, errors = 0): Pick<ArmReport, 'name' | 'requests' | 'failures'> => {
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0) + errors;
    const byError: Record<string, number> = errors ? { ETIMEDOUT: errors } : {};
    return { name: 'proxy', requests, failures: { total, percent: Math.round((100 * total * 1000) / requests) / 1000, byStatus, byError } };
  };
  const { minFailurePercent, minShareOfFailures } = CLIENT_ERROR_HINT;
  const requests = 10_000;
  const atBound = (requests * minFailurePercent) / 100;

  test('the issue’s case: most requests answered 404', () => {
    expect(clientErrorHint(arm(1000, { 404: 980 }))).toBe('proxy: 98 % of requests answered 404; are --tenants and --path right for this deployment?');
  });

  test('failures at the share threshold get the hint; one fewer does not', () => {
    expect(clientErrorHint(arm(requests, { 404: atBound }))).toMatch(/^proxy: 1 % of requests answered 404;/);
    expect(clientErrorHint(arm(requests, { 404: atBound - 1 }))).toBeUndefined();
  });

  test('one status must carry more than half the failures: exactly half is not enough, one more is', () => {
    const failures = 2 * atBound;
    const half = failures * minShareOfFailures;
    expect(clientErrorHint(arm(requests, { 404: half, 503: failures - half }))).toBeUndefined();
    expect(clientErrorHint(arm(requests, { 404: half + 1, 503: failures - half - 1 }))).toMatch(/answered 404/);
    // Failures with no response count among the failures too.
    expect(clientErrorHint(arm(requests, { 404: half }, failures - half))).toBeUndefined();
  });

  test('only client errors (4xx): a run of 503s is the database, not the aim', () => {
    expect(clientErrorHint(arm(requests, { 503: 5000 }))).toBeUndefined();
    expect(clientErrorHint(arm(requests, { 429: 6000 }))).toBe("proxy: 60 % of requests answered 429; the API throttled it: is --rate within the stage's throttling (api.throttlingRateLimit, api.throttlingBurstLimit)?");
    expect(clientErrorHint(arm(requests, { 403: 6000 }))).toBe("proxy: 60 % of requests answered 403; are --path and the arm's URL right for this deployment?");
    expect(clientErrorHint(arm(requests, { 404: 150 }))).toBe('proxy: 1.5 % of requests answered 404; are --tenants and --path right for this deployment?');
  });

  test('the report carries it per arm, and the page shows it before the figures', () => {
    const report = buildReport([{ arms: ['proxy', 'direct'], raw: artilleryOutput(start, end, { proxy: { created: 100, codes: { 200: 2, 404: 98 } }, direct: { created: 100, codes: { 200: 100 } } }) }], options);
    expect(report.arms.map((a) => a.hint)).toEqual(['proxy: 98 % of requests answered 404; are --tenants and --path right for this deployment?', undefined]);
    const html = renderHtml(report);
    expect(html).toContain(`<li class="hint" data-arm="proxy">${escapeHtml(report.arms[0].hint!)}</li>`);
    expect(html.indexOf('class="hint"')).toBeLessThan(html.indexOf('class="glance"'));
  });
});

describe('the summary the CLI prints', () => {
  const figures = { created: 10, codes: { 200: 10 }, latency: [1, 2, 3, 4, 5] as [number, number, number, number, number] };
  const sequential = (arms: string[]) => {
    const o = parseOptions([...arms.flatMap((a, i) => ['--arm', `${a}=http://127.0.0.1:${i + 1}`]), '--order', 'sequential', '--cooldown', '7', '--duration', '10']);
    const runs: ArmsRun[] = arms.map((a, i) => ({ arms: [a], raw: artilleryOutput(start + i * 20_000, start + i * 20_000 + 10_000, { [a]: figures }) }));
    return summaryLines(buildReport(runs, o));
  };

  test('a sequential run names its cool-down, and each arm its window', () => {
    const lines = sequential(['proxy', 'direct']);
    expect(lines[0]).toBe('order sequential (cool-down 7 s):');
    expect(lines.slice(1, 3)).toEqual([expect.stringMatching(/^ {2}proxy +window \S+ → \S+ \(10 s\)$/), expect.stringMatching(/^ {2}direct +window /)]);
  });

  test('one arm alone has no cool-down to name', () => {
    expect(sequential(['proxy'])[0]).toBe('order sequential:');
  });
});
