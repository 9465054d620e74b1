import { OptionError } from '../../tools/load/errors';
import { parseThresholds, evaluateThresholds } from '../../tools/load/thresholds';
import type { ArmReport } from '../../tools/load/types';

function arm(name: string, over: Partial<ArmReport> = {}): ArmReport {
  return {
    name,
    url: `http://127.0.0.1/${name}`,
    window: { start: '2026-01-01T12:00:00.000Z', end: '2026-01-01T12:00:10.000Z', seconds: 10 },
    requests: 200,
    rps: 20,
    throughput: 19,
    codes: { 200: 190, 503: 10 },
    failures: { total: 12, percent: 6, byStatus: { 503: 10 }, byError: { ETIMEDOUT: 2 } },
    latency: { min: 5, p50: 40, p90: 90, p99: 300, max: 900, mean: 55 },
    series: [],
    ...over,
  };
}

describe('--ensure thresholds', () => {
  test('parses metrics, operators, units and arm prefixes', () => {
    expect(parseThresholds('p99<800, p50<=0.1s,max<2s,failures<1%,failures<=3,throughput>100,rps>=5,direct:p90<250ms', ['proxy', 'direct'])).toEqual([
      { text: 'p99<800', metric: 'p99', op: '<', value: 800 },
      { text: 'p50<=0.1s', metric: 'p50', op: '<=', value: 100 },
      { text: 'max<2s', metric: 'max', op: '<', value: 2000 },
      { text: 'failures<1%', metric: 'failures%', op: '<', value: 1 },
      { text: 'failures<=3', metric: 'failures', op: '<=', value: 3 },
      { text: 'throughput>100', metric: 'throughput', op: '>', value: 100 },
      { text: 'rps>=5', metric: 'rps', op: '>=', value: 5 },
      { text: 'direct:p90<250ms', arm: 'direct', metric: 'p90', op: '<', value: 250 },
    ]);
  });

  test.each([
    ['p98<800', /unknown metric p98/],
    ['p99 800', /expected \[<arm>:\]<metric><op><number>/],
    ['p99<', /expected/],
    ['p99>800', /p99 is an upper bound/],
    ['p99<5%', /p99 is a time/],
    ['failures>1', /failures is an upper bound/],
    ['failures<101%', /at most 100/],
    ['failures<1s', /failures is a count or a percentage/],
    ['throughput<5', /throughput is a lower bound/],
    ['rps>5%', /requests per second, without a unit/],
    ['other:p99<1', /no arm named other \(arms: proxy, direct\)/],
  ])('%s is refused with a message naming --ensure', (text, message) => {
    expect(() => parseThresholds(text, ['proxy', 'direct'])).toThrow(OptionError);
    expect(() => parseThresholds(text, ['proxy', 'direct'])).toThrow(new RegExp(`--ensure .*${message.source}`));
  });

  const arms = [arm('proxy'), arm('direct', { latency: { min: 5, p50: 60, p90: 200, p99: 1200, max: 3000, mean: 90 }, failures: { total: 0, percent: 0, byStatus: {}, byError: {} }, throughput: 20 }), arm('down', { latency: null, throughput: 0, codes: {} })];

  test('each threshold is checked on every arm, each against its own figures; a bound is strict or not as written', () => {
    const results = evaluateThresholds(arms, parseThresholds('p99<1200,failures<6%,throughput>=19', arms.map((a) => a.name)));
    expect(results).toEqual([
      { arm: 'proxy', threshold: 'p99<1200', actual: 300, ok: true },
      { arm: 'direct', threshold: 'p99<1200', actual: 1200, ok: false },
      { arm: 'down', threshold: 'p99<1200', actual: null, ok: false },
      { arm: 'proxy', threshold: 'failures<6%', actual: 6, ok: false },
      { arm: 'direct', threshold: 'failures<6%', actual: 0, ok: true },
      { arm: 'down', threshold: 'failures<6%', actual: 6, ok: false },
      { arm: 'proxy', threshold: 'throughput>=19', actual: 19, ok: true },
      { arm: 'direct', threshold: 'throughput>=19', actual: 20, ok: true },
      { arm: 'down', threshold: 'throughput>=19', actual: 0, ok: false },
    ]);
  });

  test('an arm prefix limits a threshold to that arm; counts and rps read their own fields', () => {
    const names = arms.map((a) => a.name);
    expect(evaluateThresholds(arms, parseThresholds('direct:max<=3000,proxy:failures<=12,proxy:rps>20', names))).toEqual([
      { arm: 'direct', threshold: 'direct:max<=3000', actual: 3000, ok: true },
      { arm: 'proxy', threshold: 'proxy:failures<=12', actual: 12, ok: true },
      { arm: 'proxy', threshold: 'proxy:rps>20', actual: 20, ok: false },
    ]);
  });
});
