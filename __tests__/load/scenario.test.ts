import { parseOptions } from '../../tools/load/options';
import { artilleryArgs, buildScript, requestPath, workerCount } from '../../tools/load/scenario';
import type { LoadOptions } from '../../tools/load/types';

const base = ['--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=http://127.0.0.1:3001/direct', '--arm', 'cache-off=http://127.0.0.1:3002'];

/** Every option set the scenario must follow: local and distributed, with and without warm-up and tenants. */
const cases: [string, LoadOptions][] = [
  ['defaults', parseOptions(base)],
  ['local, ramp, hits path', parseOptions([...base, '--rate', '50', '--ramp', '20', '--duration', '5', '--path', '/_/hits'])],
  ['lambda, 4 workers', parseOptions([...base, '--rate', '140', '--ramp', '60', '--duration', '600', '--on', 'lambda', '--count', '4', '--region', 'eu-west-1', '--tenants', '1000'])],
  ['fargate, 3 workers, rate not divisible', parseOptions([...base, '--rate', '100', '--duration', '1800', '--on', 'fargate', '--count', '3', '--region', 'us-east-2'])],
];

describe.each(cases)('the Artillery script for %s', (_label, options) => {
  const script = buildScript(options);
  const workers = workerCount(options);

  test('one scenario per arm, weight 1, one GET to the arm URL + path, named after the arm', () => {
    expect(script.scenarios).toHaveLength(options.arms.length);
    options.arms.forEach((arm, i) => {
      const s = script.scenarios[i];
      expect(s.name).toBe(arm.name);
      expect(s.weight).toBe(1);
      expect(s.flow).toEqual([{ get: { url: `${arm.url}${requestPath(options.path, options.tenants)}`, name: arm.name } }]);
    });
  });

  test('per-arm metrics: metrics-by-endpoint keyed by request name', () => {
    expect(script.config.plugins['metrics-by-endpoint']).toEqual({ useOnlyRequestNames: true, stripQueryString: true });
  });

  test('phases: optional linear warm-up, then the rate for the duration; each worker gets rate / workers, so all together make the rate', () => {
    const steady = script.config.phases[script.config.phases.length - 1];
    expect(steady).toMatchObject({ name: 'steady', duration: options.duration });
    expect(steady.arrivalRate * workers).toBeCloseTo(options.rate, 1);
    if (options.ramp > 0) {
      expect(script.config.phases).toHaveLength(2);
      const warm = script.config.phases[0];
      expect(warm).toMatchObject({ name: 'warm-up', duration: options.ramp, rampTo: steady.arrivalRate });
      expect(warm.arrivalRate * workers).toBeCloseTo(1, 1);
    } else {
      expect(script.config.phases).toHaveLength(1);
    }
    const seconds = script.config.phases.reduce((s, p) => s + p.duration, 0);
    expect(seconds).toBe(options.ramp + options.duration);
  });

  test('the Artillery command runs this script with --output, on the runner asked for', () => {
    const args = artilleryArgs(options, '/o/scenario.json', '/o/raw.json');
    const r = options.runner;
    const command = r.on === 'local' ? ['run'] : [r.on === 'lambda' ? 'run-lambda' : 'run-fargate', '--count', String(r.count), '--region', r.region];
    expect(args).toEqual([...command, '--output', '/o/raw.json', '/o/scenario.json']);
  });
});

test('{tenant} becomes a random id from 0 to tenants-1 (both ends included by $randomNumber), everywhere it appears', () => {
  expect(requestPath('/tenants/{tenant}/items', 200)).toBe('/tenants/{{ $randomNumber(0, 199) }}/items');
  expect(requestPath('/a/{tenant}/b/{tenant}', 1)).toBe('/a/{{ $randomNumber(0, 0) }}/b/{{ $randomNumber(0, 0) }}');
  expect(requestPath('/_/hits', 200)).toBe('/_/hits');
});
