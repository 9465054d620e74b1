/** The log line layout and streams of the functions' logger (Powertools Logger with our formatter). */
import { createLogger } from '../../functions/lib/log';
import { EmfWriter } from '../../functions/lib/metrics';

/** Lines written to stdout and stderr while `fn` runs, with `env` merged into process.env. */
function written(env: Record<string, string>, fn: () => void): { stdout: string[]; stderr: string[] } {
  const saved = { ...process.env };
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      out[stream].push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
  );
  try {
    Object.assign(process.env, env);
    fn();
    return out;
  } finally {
    for (const s of spies) s.mockRestore();
    process.env = saved;
  }
}

test('info goes to stdout, warnings and errors to stderr, one JSON object per line with time, level, msg, service first', () => {
  const { stdout, stderr } = written({}, () => {
    const log = createLogger({ service: 'svc-a' });
    log.info('first', { n: 1, nested: { a: [1, 2] } });
    log.warn('second', { n: 2 });
    log.error('third', { n: 3, errorCode: 'E_X' });
  });
  expect(stdout).toHaveLength(1);
  expect(stderr).toHaveLength(2);
  const [info, warn, error] = [...stdout, ...stderr].map((l) => JSON.parse(l));
  expect(Object.keys(info)).toEqual(['time', 'level', 'msg', 'service', 'n', 'nested']);
  expect(info).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: 'info', msg: 'first', service: 'svc-a', n: 1, nested: { a: [1, 2] } });
  expect(warn).toMatchObject({ level: 'warn', msg: 'second', service: 'svc-a', n: 2 });
  expect(error).toMatchObject({ level: 'error', msg: 'third', service: 'svc-a', n: 3, errorCode: 'E_X' });
  expect(Math.abs(Date.parse(info.time) - Date.now())).toBeLessThan(60_000);
});

test.each(['POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL'])('%s=ERROR does not silence the info lines (they carry the metrics)', (variable) => {
  const { stdout } = written({ [variable]: 'ERROR' }, () => createLogger({ service: 'svc-b' }).info('request', { status: 200 }));
  expect(stdout.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: 'info', msg: 'request', status: 200 })]);
});

test('EMF fields spread into a line keep their directive, values and service dimension, with no extra line', () => {
  const emf = new EmfWriter({ namespace: 'ns-log', service: 'svc-c' });
  const lines: string[] = [];
  createLogger({ service: 'svc-c', sink: (l) => lines.push(l) }).info('request', { status: 200, ...emf.request({ route: 'record', status: 200, latencyMs: 12 }) });
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]);
  expect(line).toMatchObject({ msg: 'request', service: 'svc-c', route: 'record', statusClass: '2xx', Requests: 1, Latency: 12 });
  expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ns-log', Dimensions: [['service'], ['service', 'route', 'statusClass']] });
});

test('a service field that is not the logger\'s is not swapped silently: Powertools warns about it', () => {
  const lines: string[] = [];
  createLogger({ service: 'svc-d', sink: (l) => lines.push(l) }).info('request', { service: 'someone-else' });
  const parsed = lines.map((l) => JSON.parse(l));
  expect(parsed.find((l) => l.msg === 'request')).toMatchObject({ service: 'svc-d' });
  expect(parsed.some((l) => l.level === 'warn' && /service/.test(l.msg))).toBe(true);
});
