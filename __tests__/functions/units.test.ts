/** Pure parts of the function runtime: configuration, content negotiation, escaping, the hash ring, error classes, budgets. */
import { ConfigError, loadConfig } from '../../functions/lib/config';
import { isAuthError, isConnectionError, isDeadlineError, isSaturationError } from '../../functions/lib/db-errors';
import { Deadline, DEADLINE_MARGIN_MS, requestBudgetMs } from '../../functions/lib/deadline';
import { HashRing } from '../../functions/lib/cache';
import { escapeHtml, prefersHtml } from '../../functions/lib/http';

const base = { DB_HOST: 'prx.example', DB_NAME: 'hits', DB_USER: 'app', AWS_REGION: 'eu-west-1' };

describe('loadConfig', () => {
  test('defaults: iam over verified TLS, port 3306, no cache, TTL 5 s, bounded timeouts', () => {
    const c = loadConfig(base);
    expect(c.db).toMatchObject({ host: 'prx.example', port: 3306, auth: 'iam', tls: 'verify', connectTimeoutMs: 3000, idleRebuildMs: 1_800_000, region: 'eu-west-1' });
    expect(c.cache).toMatchObject({ nodes: [], tls: false, ttlSeconds: 5 });
    expect(c.cache.timeoutMs).toBeLessThanOrEqual(200);
    expect(c.db.requestBudgetMs).toBe(8000);
    expect(loadConfig({ ...base, DB_REQUEST_BUDGET_MS: '2500' }).db.requestBudgetMs).toBe(2500);
  });

  test('parses cache nodes and flags', () => {
    const c = loadConfig({ ...base, CACHE_NODES: 'a.cache:11211, b.cache:11212', CACHE_TLS: 'true', CACHE_TTL_SECONDS: '30' });
    expect(c.cache.nodes).toEqual([{ host: 'a.cache', port: 11211 }, { host: 'b.cache', port: 11212 }]);
    expect(c.cache).toMatchObject({ tls: true, ttlSeconds: 30 });
    expect(loadConfig({ ...base, CACHE_NODES: '' }).cache.nodes).toEqual([]);
  });

  test.each([
    [{ DB_HOST: undefined }, 'DB_HOST', /required/],
    [{ DB_AUTH: 'kerberos' }, 'DB_AUTH', /iam, secret, password/],
    [{ DB_TLS: 'off' }, 'DB_TLS', /iam requires DB_TLS=verify/],
    [{ DB_TLS: 'maybe', DB_AUTH: 'password', DB_PASSWORD: 'x' }, 'DB_TLS', /verify, off/],
    [{ DB_AUTH: 'secret' }, 'DB_SECRET_ARN', /required/],
    [{ DB_AUTH: 'password' }, 'DB_PASSWORD', /required/],
    [{ AWS_REGION: undefined }, 'AWS_REGION', /sign IAM tokens/],
    [{ DB_PORT: '99999' }, 'DB_PORT', /between 1 and 65535/],
    [{ DB_PORT: '33o6' }, 'DB_PORT', /whole number/],
    [{ CACHE_NODES: 'cache-without-port' }, 'CACHE_NODES', /host:port/],
    [{ CACHE_TLS: 'yes' }, 'CACHE_TLS', /true, false/],
    [{ CACHE_TTL_SECONDS: '0' }, 'CACHE_TTL_SECONDS', /between 1/],
    [{ DB_CONNECT_TIMEOUT_MS: '10000' }, 'DB_CONNECT_TIMEOUT_MS', /between 100 and 3000/],
    [{ DB_REQUEST_BUDGET_MS: '50' }, 'DB_REQUEST_BUDGET_MS', /between 100 and 900000/],
    [{ DB_REQUEST_BUDGET_MS: '8s' }, 'DB_REQUEST_BUDGET_MS', /whole number/],
    [{ DB_CA_FILE: '/nonexistent/ca.pem' }, 'DB_CA_FILE', /cannot read/],
  ])('%j is refused, naming %s', (override, variable, message) => {
    let err: unknown;
    try {
      loadConfig({ ...base, ...override });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as Error).message).toMatch(message);
  });

  test('DB_CA_FILE must hold a PEM certificate', () => {
    expect(() => loadConfig({ ...base, DB_CA_FILE: '/ca' }, () => 'not a cert')).toThrow(/DB_CA_FILE.*no PEM/);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(loadConfig({ ...base, DB_CA_FILE: '/ca' }, () => pem).db.ca).toBe(pem);
  });
});

describe('prefersHtml', () => {
  test.each([
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true], // browsers
    ['text/html', true],
    ['application/json, text/html;q=0.9', false],
    ['text/html;q=0.5, application/json', false],
    ['text/html;q=0', false],
    ['*/*', false], // curl
    ['text/*', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

test('escapeHtml escapes the five significant characters and nothing else', () => {
  expect(escapeHtml(`<a href="x" title='y'>&é😀</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;é😀&lt;/a&gt;');
});

describe('HashRing', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `key:${i}`);

  test('spreads keys over all nodes, deterministically', () => {
    const ring = new HashRing(['a:11211', 'b:11211', 'c:11211']);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.nodeFor(k), (counts.get(ring.nodeFor(k)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a:11211', 'b:11211', 'c:11211']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(2000 / 3 / 2);
    expect(new HashRing(['c:11211', 'a:11211', 'b:11211']).nodeFor('key:7')).toBe(ring.nodeFor('key:7'));
  });

  test('removing a node moves only the keys it owned', () => {
    const three = new HashRing(['a:11211', 'b:11211', 'c:11211']);
    const two = new HashRing(['a:11211', 'b:11211']);
    for (const k of keys) {
      if (three.nodeFor(k) !== 'c:11211') expect(two.nodeFor(k)).toBe(three.nodeFor(k));
    }
  });
});

describe('database error classes', () => {
  const proxyBorrowTimeout = Object.assign(new Error('Timed-out waiting to acquire database connection'), { errno: 9501 });
  test.each([
    ['ER_CON_COUNT_ERROR', { code: 'ER_CON_COUNT_ERROR', fatal: true }, 'saturation'],
    ['ER_TOO_MANY_USER_CONNECTIONS', { code: 'ER_TOO_MANY_USER_CONNECTIONS', fatal: true }, 'saturation'],
    ['ER_USER_LIMIT_REACHED', { code: 'ER_USER_LIMIT_REACHED', fatal: true }, 'saturation'],
    ['RDS Proxy borrow timeout (errno 9501)', proxyBorrowTimeout, 'saturation'],
    ['RDS Proxy borrow timeout (message only)', { message: 'ERROR: timed-out waiting to acquire database connection' }, 'saturation'],
    ['ER_ACCESS_DENIED_ERROR', { code: 'ER_ACCESS_DENIED_ERROR', fatal: true }, 'auth'],
    ['ER_DBACCESS_DENIED_ERROR', { code: 'ER_DBACCESS_DENIED_ERROR', fatal: true }, 'auth'],
    ['mysql2 query timeout', { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }, 'deadline'],
    ['deadline timer', { code: 'DB_DEADLINE_EXCEEDED' }, 'deadline'],
    ['ECONNREFUSED', { code: 'ECONNREFUSED', fatal: true }, 'connection'],
    ['connect timeout', { code: 'ETIMEDOUT', fatal: true }, 'connection'],
    ['killed', { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }, 'connection'],
    ['TLS', { code: 'HANDSHAKE_SSL_ERROR', fatal: true }, 'connection'],
    ['SQL error', { code: 'ER_BAD_FIELD_ERROR' }, 'other'],
  ])('%s is %s', (_name, err, kind) => {
    const got = [isSaturationError(err) && 'saturation', isAuthError(err) && 'auth', isDeadlineError(err) && 'deadline', isConnectionError(err) && 'connection'].filter(Boolean);
    expect(got).toEqual(kind === 'other' ? [] : [kind]);
  });
});

describe('request budget', () => {
  const ctx = (ms: number) => ({ getRemainingTimeInMillis: () => ms });
  test('DB_REQUEST_BUDGET_MS without a Lambda context', () => {
    expect(requestBudgetMs(8000)).toBe(8000);
    expect(requestBudgetMs(8000, { awsRequestId: 'x' })).toBe(8000);
  });
  test('the remaining invocation time less the margin, when lower', () => {
    expect(DEADLINE_MARGIN_MS).toBe(1000);
    expect(requestBudgetMs(8000, ctx(10_000))).toBe(8000);
    expect(requestBudgetMs(8000, ctx(6_000))).toBe(5000);
    expect(requestBudgetMs(8000, ctx(900))).toBe(0);
  });
  test('a Deadline counts down on its clock and never goes negative', () => {
    let now = 100;
    const d = new Deadline(500, () => now);
    expect(d.remainingMs()).toBe(500);
    now = 450;
    expect(d.remainingMs()).toBe(150);
    now = 700;
    expect(d.remainingMs()).toBe(0);
  });
});

describe('every Lambda entry point suits nodejs24.x', () => {
  // Node.js 24's Lambda runtime no longer calls callback-style handlers, `(event, context, callback)`:
  // https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. Each entry is imported as
  // deployed, with a valid local configuration, and must take at most (event, context); that each returns a
  // promise is its declared type, which tsc checks.
  const env = { ...base, DB_AUTH: 'password', DB_PASSWORD: 'x', DB_TLS: 'off', HITS_RETENTION_DAYS: '7', TENANT_COUNT: '1', TENANT_AUTH: 'password', TENANT_PASSWORD: 'x', DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:m' };
  test.each(['hits', 'tenants', 'prune', 'migrate'])('%s', (name) => {
    const saved = process.env;
    process.env = { ...saved, ...env };
    try {
      jest.isolateModules(() => {
        const { handler } = require(`../../functions/${name}/handler`) as { handler: (...args: unknown[]) => unknown };
        expect(typeof handler).toBe('function');
        expect(handler.length).toBeLessThanOrEqual(2);
      });
    } finally {
      process.env = saved;
    }
  });
});
