/**
 * The tenants function against a real MariaDB (TLS, certificate checked) and a fake STS on loopback:
 * isolation under concurrent mixed-tenant load, the pool bound, STS calls per tenant per credential
 * lifetime, the exact AssumeRole each tenant's session asks for, the token's signer input, and the error
 * mapping. MariaDB has no AWSAuthenticationPlugin: in `iam` mode the tests keep the whole IAM path (STS,
 * caches, signer, the clear-text auth plugin's token) and swap only the final login for the tenant's
 * local password.
 */
import { execFile } from 'child_process';
import { rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { createConnection } from 'mysql2/promise';
import { provisionTenants } from '../../functions/migrate/tenants';
import { passwordAuth } from '../../functions/migrate/runner';
import { createTenantsApp, type TenantsApp, type TenantsAppOptions } from '../../functions/tenants/app';
import { loadTenantsConfig } from '../../functions/tenants/config';
import { REFRESH_MARGIN_MS } from '../../functions/tenants/credentials';
import { CREDENTIALS_EXPIRY_SLACK_MS, TOKEN_REUSE_MS } from '../../functions/tenants/tokens';
import { RETRY_AFTER_SECONDS } from '../../functions/lib/http';
import { bundleFunction } from '../../modules/bundle';
import { MariaDb, freePort, makeCerts, tempDir, type TestCerts } from '../../scripts/services';
import { loginsEndingIn } from '../../scripts/tenant-logins';
import { emfProblems, metricsOf } from '../support/emf';
import { TENANTS_ROUTE_METRIC } from '../../contracts';
import { FakeSts } from './fake-sts';

const execFileAsync = promisify(execFile);
const TENANTS = 5;
const ROWS = 50;
const PASSWORD = 'tenant-local-password';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/tenant-access';
const PROXY_ID = 'prx-0123456789abcdef0';
const REGION = 'eu-west-1';
/** The function role's own (fake) credentials: what signs the AssumeRole requests. */
const FUNCTION_KEY = 'AKIDTENANTSFUNCTION';

let dir: string;
let certs: TestCerts;
let db: MariaDb;
let sts: FakeSts;
const savedEnv = { ...process.env };
const apps: TenantsApp[] = [];

beforeAll(async () => {
  dir = tempDir('tenants-route-');
  certs = await makeCerts(dir);
  [db, sts] = await Promise.all([MariaDb.start({ tls: certs }), FakeSts.start()]);
  await db.sql("CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY 'master-pw'");
  await db.sql("GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION");
  const master = await createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw' });
  await provisionTenants(master, { count: TENANTS, prefix: 'tenant_', rowsPerTenant: ROWS, auth: passwordAuth(PASSWORD) });
  await master.end();
  // Rows identifiable per tenant: c1 holds the tenant's number, in every row.
  for (let t = 0; t < TENANTS; t++) await db.sql('UPDATE ??.items SET c1 = ?', [`tenant_${t}`, t]);
  sts.useAsEndpointOfThisProcess(FUNCTION_KEY, REGION);
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  sts.reset();
});

afterAll(async () => {
  process.env = savedEnv;
  await sts?.close();
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_COUNT: String(TENANTS),
    TENANT_ACCESS_ROLE_ARN: ROLE_ARN,
    DB_RESOURCE_ID: PROXY_ID,
    AWS_REGION: REGION,
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_CA_FILE: certs.caFile,
    TENANT_MAX_CONNECTIONS: '2',
    ...over,
  };
}

const PASSWORD_ENV = { TENANT_AUTH: 'password', TENANT_PASSWORD: PASSWORD, DB_TLS: 'off' };

interface Harness {
  app: TenantsApp;
  /** The request lines, one per request. */
  logs: Array<Record<string, any>>;
  /** Every line written, the request lines and the others (retries). */
  lines: Array<Record<string, any>>;
  /** Logins the IAM path produced: user, and the token its clear-text auth plugin answered with. */
  logins: Array<{ tenant: number; user: string; token: string }>;
  get(path: string, headers?: Record<string, string>): Promise<{ statusCode: number; headers: Record<string, string>; body: string; json: any }>;
}

/**
 * An app (one execution environment). In `iam` mode its logins run the configured IAM login (STS, token,
 * auth plugin) and then log in with the local password; `mixUp` logs in as another tenant than asked.
 */
function harness(e: Record<string, string>, options: TenantsAppOptions & { mixUp?: (t: number) => number } = {}): Harness {
  const lines: Array<Record<string, any>> = [];
  const logins: Harness['logins'] = [];
  const adaptLogin = loginsEndingIn((tenant, given, token) => {
    if (token === undefined) return String(given.password);
    logins.push({ tenant, user: String(given.user), token });
    return PASSWORD;
  }, options.mixUp);
  const app = createTenantsApp(loadTenantsConfig(e), { log: (l) => lines.push(JSON.parse(l)), adaptLogin, ...options });
  apps.push(app);
  let seq = 0;
  return {
    app,
    get logs() {
      return lines.filter((l) => l.msg === 'request');
    },
    lines,
    logins,
    async get(path, headers = {}) {
      const res = await app.handler({ rawPath: path, headers, requestContext: { requestId: `r-${++seq}`, http: { method: 'GET' } } });
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      return { ...res, json: body };
    },
  };
}

/** Connections MariaDB holds for tenant users right now (root over the socket; not itself a tenant). */
async function tenantConnections(): Promise<number> {
  const rows = await db.sql<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER LIKE 'tenant\\_%'");
  return Number(rows[0].n);
}

/** Runs `work` while sampling the tenant connections the server sees; returns the highest count seen. */
async function peakConnectionsDuring(work: () => Promise<void>): Promise<number> {
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) peak = Math.max(peak, await tenantConnections());
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return Math.max(peak, await tenantConnections());
}

/** `n` requests round-robin over the tenants, all in flight at once. */
function mixed(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 3) % TENANTS);
}

test('tenantId: malformed is 400, unknown is 404, both before any STS or database call', async () => {
  const h = harness(env());
  const connectionsBefore = await db.globalStatus('Connections');
  const cases: Array<[string, number]> = [
    ['/tenants/007/items', 400],
    ['/tenants/+1/items', 400],
    ['/tenants/-1/items', 400],
    ['/tenants/1.0/items', 400],
    ['/tenants/0x1/items', 400],
    ['/tenants/%31/items', 400],
    ['/tenants/%201/items', 400],
    ['/tenants/1%20/items', 400],
    ['/tenants//items', 400],
    ['/tenants/1e0/items', 400],
    // Well-formed but longer than any tenant id (contracts/tenants.ts): unknown, never parsed into a rounded number.
    ['/tenants/99999999999999999999/items', 404],
    [`/tenants/${TENANTS}/items`, 404],
    ['/tenants/123456/items', 404],
    ['/tenants/1/other', 404],
  ];
  for (const [path, status] of cases) {
    const res = await h.get(path);
    expect([path, res.statusCode]).toEqual([path, status]);
  }
  expect(sts.calls).toEqual([]);
  expect(h.app.pools.opened).toBe(0);
  expect(await db.globalStatus('Connections')).toBe(connectionsBefore);
  expect(h.logs.map((l) => l.status)).toEqual(cases.map(([, s]) => s));
  expect(h.logs.every((l) => l.stsCalls === 0 && l.tenant === undefined)).toBe(true);
  // The same app then serves a valid id: the refusals above were not a broken configuration.
  expect((await h.get('/tenants/0/items')).statusCode).toBe(200);
});

test('iam: concurrent mixed-tenant requests each get their own rows; one AssumeRole per tenant, exactly scoped; the pool bound holds', async () => {
  const h = harness(env());
  sts.delayMs = 30;
  const tenants = mixed(60);
  let results: Array<Awaited<ReturnType<Harness['get']>>> = [];
  const peak = await peakConnectionsDuring(async () => {
    results = await Promise.all(tenants.map((t) => h.get(`/tenants/${t}/items`)));
  });
  results.forEach((res, i) => {
    expect(res.statusCode).toBe(200);
    expect(res.json.tenant).toBe(tenants[i]);
    expect(res.json.items).toHaveLength(5);
    expect(new Set(res.json.items.map((r: { id: number }) => r.id)).size).toBe(5);
    for (const item of res.json.items) expect(item.c1).toBe(tenants[i]);
  });
  expect(peak).toBeLessThanOrEqual(2);
  expect(peak).toBeGreaterThan(0);

  // STS: one call per tenant for 60 requests, though pools were closed and reopened to stay within 2.
  expect(h.app.pools.opened).toBeGreaterThan(TENANTS);
  expect(sts.countBySession()).toEqual(Object.fromEntries(Array.from({ length: TENANTS }, (_, t) => [`tenant_${t}`, 1])));
  for (const call of sts.calls) {
    const t = Number(call.roleSessionName.slice('tenant_'.length));
    expect(call).toMatchObject({ action: 'AssumeRole', roleArn: ROLE_ARN, durationSeconds: 3600, signedBy: FUNCTION_KEY, scope: `${REGION}/sts` });
    expect(JSON.parse(call.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: `arn:aws:rds-db:${REGION}:123456789012:dbuser:${PROXY_ID}/tenant_${t}` }],
    });
    // AWS's limit on the plaintext of session policies: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
    expect(call.policy.length).toBeLessThanOrEqual(2048);
  }
  expect(h.logs.reduce((n, l) => n + l.stsCalls, 0)).toBe(TENANTS);
});

test('iam: each token is signed for the endpoint and the tenant user with that tenant\'s scoped credentials', async () => {
  const h = harness(env({ TENANT_MAX_CONNECTIONS: '5' }));
  for (let t = 0; t < TENANTS; t++) expect((await h.get(`/tenants/${t}/items`)).statusCode).toBe(200);
  expect(h.logins.map((l) => l.tenant)).toEqual([0, 1, 2, 3, 4]);
  for (const login of h.logins) {
    const call = sts.calls.find((c) => c.roleSessionName === `tenant_${login.tenant}`)!;
    expect(login.user).toBe(`tenant_${login.tenant}`);
    // An RDS IAM token is a presigned URL without its scheme: host:port/?Action=connect&DBUser=…&X-Amz-…
    const url = new URL(`https://${login.token}`);
    expect(url.host).toBe(`${db.host}:${db.port}`);
    expect(url.searchParams.get('Action')).toBe('connect');
    expect(url.searchParams.get('DBUser')).toBe(`tenant_${login.tenant}`);
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${call.issued!.accessKeyId}/\\d{8}/${REGION}/rds-db/aws4_request$`));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(call.issued!.sessionToken);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
  }
});

test('the direct arm: the same code names the instance (DB_RESOURCE_ID db-…) in every session policy and trusts the RDS CA bundle (DB_CA_BUNDLE=rds) instead of the public roots', async () => {
  // Straight to an instance: what the direct arm's tenants function is given (components/tenants-service.ts).
  const instanceId = 'db-ABCDEFGHIJKLMNOPQRSTUVWXY2';
  const h = harness(env({ DB_RESOURCE_ID: instanceId, DB_CA_BUNDLE: 'rds', TENANT_MAX_CONNECTIONS: '5' }));
  for (let t = 0; t < TENANTS; t++) {
    const res = await h.get(`/tenants/${t}/items`);
    expect(res.statusCode).toBe(200);
    for (const item of res.json.items) expect(item.c1).toBe(t);
  }
  expect(sts.calls).toHaveLength(TENANTS);
  for (const call of sts.calls) {
    expect(JSON.parse(call.policy).Statement).toEqual([{ Effect: 'Allow', Action: 'rds-db:connect', Resource: `arn:aws:rds-db:${REGION}:123456789012:dbuser:${instanceId}/${call.roleSessionName}` }]);
  }
  // The RDS bundle replaces the public roots: a server whose CA is in neither (the test CA, without DB_CA_FILE) is refused.
  const bundleOnly = harness(env({ DB_RESOURCE_ID: instanceId, DB_CA_BUNDLE: 'rds', DB_CA_FILE: '' }));
  const refused = await bundleOnly.get('/tenants/0/items');
  expect(refused.statusCode).toBe(503);
  expect(bundleOnly.logs.at(-1)).toMatchObject({ status: 503, dbUnavailable: 'unreachable' });
  expect(JSON.stringify(bundleOnly.logs.at(-1))).toMatch(/certificate/i);
});

test('iam: credentials are renewed only near their expiry, tokens more often, STS never per request', async () => {
  let offset = 0;
  const h = harness(env({ TENANT_MAX_CONNECTIONS: '1' }), { now: () => Date.now() + offset });
  // One connection for two tenants: every request reopens a pool and needs a login.
  const round = async () => {
    for (const t of [0, 1, 0, 1]) expect((await h.get(`/tenants/${t}/items`)).statusCode).toBe(200);
  };
  await round();
  expect(sts.calls).toHaveLength(2);
  const signed = h.app.tokens!.signed;
  offset = TOKEN_REUSE_MS + 1000; // tokens stale, credentials (1 h) fresh
  await round();
  expect(sts.calls).toHaveLength(2);
  expect(h.app.tokens!.signed).toBe(signed + 2);
  offset = 3600_000 - REFRESH_MARGIN_MS + 1000; // inside the refresh margin
  await round();
  expect(sts.countBySession()).toEqual({ tenant_0: 2, tenant_1: 2 });
});

test("iam: credentials that expire within TOKEN_REUSE_MS of signing: the token is reused only until the last minute of those credentials, then signed again with renewed ones before they lapse", async () => {
  // A stopped clock that only the test moves: the edges below are where the test puts them.
  const start = Date.now();
  let offset = 0;
  const now = () => start + offset;
  // Credentials with this much life left when first used: still fresh (beyond the refresh margin), but
  // expiring before a token signed with them would otherwise be dropped.
  const life = (REFRESH_MARGIN_MS + TOKEN_REUSE_MS) / 2;
  expect(life > REFRESH_MARGIN_MS && life < TOKEN_REUSE_MS).toBe(true);
  const sessionSeconds = 900;
  // STS dates the credentials it issues so that they expire `life` from the function's clock.
  sts.now = () => now() - (sessionSeconds * 1000 - life);
  const h = harness(env({ TENANT_MAX_CONNECTIONS: '1', TENANT_SESSION_SECONDS: String(sessionSeconds) }), { now });
  const keyOf = (token: string) => new URL(`https://${token}`).searchParams.get('X-Amz-Credential')!.split('/')[0];
  /** One connection for two tenants: every request opens a pool, and logs in with the tenant's token. */
  const round = async () => {
    const from = h.logins.length;
    for (const t of [0, 1, 0, 1]) expect((await h.get(`/tenants/${t}/items`)).statusCode).toBe(200);
    return h.logins.slice(from);
  };
  const issued = (t: number) => sts.calls.filter((c) => c.roleSessionName === `tenant_${t}`).map((c) => c.issued!);

  const first = await round();
  expect(h.app.tokens!.signed).toBe(2);
  const firstTokens = new Map(first.map((l) => [l.tenant, l.token]));

  // Shortly before the credentials' last minute (STS dates them to the second, so up to a second early): the tokens are still reused.
  offset = life - CREDENTIALS_EXPIRY_SLACK_MS - 2000;
  for (const login of await round()) expect(login.token).toBe(firstTokens.get(login.tenant));
  expect([h.app.tokens!.signed, sts.calls.length]).toEqual([2, 2]);

  // In it: every login presents a token signed again, with credentials of a new AssumeRole that have more
  // than that minute left.
  offset = life - CREDENTIALS_EXPIRY_SLACK_MS;
  const late = await round();
  expect(h.app.tokens!.signed).toBe(4);
  for (const login of late) {
    const renewed = issued(login.tenant).at(-1)!;
    expect(issued(login.tenant)).toHaveLength(2);
    expect(keyOf(login.token)).toBe(renewed.accessKeyId);
    expect(renewed.expiration.getTime() - now()).toBeGreaterThan(CREDENTIALS_EXPIRY_SLACK_MS);
  }
});

test('iam: concurrent misses for one tenant share one AssumeRole', async () => {
  const h = harness(env());
  sts.delayMs = 100;
  const creds = await Promise.all(Array.from({ length: 20 }, () => h.app.credentials!.get(3)));
  expect(sts.calls).toHaveLength(1);
  expect(new Set(creds.map((c) => c.accessKeyId)).size).toBe(1);
  expect(creds[0].accessKeyId).toBe(sts.calls[0].issued!.accessKeyId);
});

test('password mode: mixed-tenant load with more tenants than connections stays within the bound', async () => {
  const h = harness(env({ ...PASSWORD_ENV, TENANT_MAX_CONNECTIONS: '3' }));
  const tenants = mixed(150);
  let sizes = 0;
  const peak = await peakConnectionsDuring(async () => {
    const results = await Promise.all(
      tenants.map(async (t) => {
        const res = await h.get(`/tenants/${t}/items`);
        sizes = Math.max(sizes, h.app.pools.size);
        return res;
      }),
    );
    results.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      for (const item of res.json.items) expect(item.c1).toBe(tenants[i]);
    });
  });
  expect(peak).toBeLessThanOrEqual(3);
  expect(sizes).toBeLessThanOrEqual(3);
  expect(sts.calls).toEqual([]);
  // Afterwards at most 3 pools remain, and closing the app closes them.
  await h.app.close();
  expect(await tenantConnections()).toBeLessThanOrEqual(3);
});

test('a login mixed up between tenants is refused by MySQL: 500 at once (a fresh login cannot grant a table), an error code in the log, nothing tenant-identifying in the body', async () => {
  const h = harness(env({ ...PASSWORD_ENV }), { mixUp: (t) => (t + 1) % TENANTS });
  const res = await h.get('/tenants/2/items');
  expect(res.statusCode).toBe(500);
  expect(Object.keys(res.json).sort()).toEqual(['error', 'requestId']);
  expect(res.body).not.toMatch(/tenant|\b2\b|denied/i);
  expect(h.logs.at(-1)).toMatchObject({ status: 500, tenant: 2, errorCode: 'ER_TABLEACCESS_DENIED_ERROR' });
  expect(h.logs.at(-1)!.error).toMatch(/tenant_3/);
  expect(h.lines.filter((l) => /retrying/.test(l.msg))).toEqual([]);
});

test('database unreachable: 503 with Retry-After, logged as unreachable with the connection error', async () => {
  const h = harness(env({ ...PASSWORD_ENV, DB_PORT: String(await freePort()), DB_CONNECT_TIMEOUT_MS: '500' }));
  const res = await h.get('/tenants/0/items');
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
  expect(h.logs.at(-1)).toMatchObject({ status: 503, errorCode: 'ECONNREFUSED', dbUnavailable: 'unreachable' });
});

test('browsers get an HTML table of the same rows; JSON otherwise', async () => {
  const h = harness(env({ ...PASSWORD_ENV }));
  const page = await h.get('/tenants/4/items', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.body.match(/<tr><td>/g)).toHaveLength(5);
  expect(page.body.match(/<tr><td>\d+<\/td><td>4<\/td>/g)).toHaveLength(5);
  const data = await h.get('/tenants/4/items', { accept: 'application/json' });
  expect(data.headers['content-type']).toMatch(/^application\/json/);
});

test('the log line of a request is one JSON object with status, latency, tenant and STS calls', async () => {
  const h = harness(env());
  await h.get('/tenants/0/items');
  await h.get('/tenants/0/items');
  expect(h.lines).toHaveLength(2);
  expect(h.logs[0]).toMatchObject({ level: 'info', msg: 'request', requestId: 'r-1', method: 'GET', path: '/tenants/0/items', status: 200, tenant: 0, stsCalls: 1, poolsOpened: 1, items: 5 });
  expect(h.logs[1]).toMatchObject({ status: 200, tenant: 0, stsCalls: 0, poolsOpened: 0 });
  expect(typeof h.logs[0].latencyMs).toBe('number');
});

test('each request line carries its EMF metrics: requests by status class, latency, database time, STS calls and pools opened and evicted, under the service and route; the tenant only in the line', async () => {
  const metrics = { namespace: 'tenants-route-test', service: 'tenants-route-fn' };
  // One connection for two tenants: the third request evicts the second's pool and reopens the first's.
  const h = harness(env({ TENANT_MAX_CONNECTIONS: '1' }), { metrics });
  for (const path of ['/tenants/0/items', '/tenants/1/items', '/tenants/0/items', '/tenants/01/items', '/tenants/9/items', '/elsewhere']) await h.get(path);
  const lines = h.logs;
  for (const l of lines) {
    expect(emfProblems(l)).toEqual([]);
    const m = metricsOf(l);
    expect([m.namespace, m.dimensions]).toEqual([metrics.namespace, [['service'], ['service', 'route', 'statusClass']]]);
    expect(l.service).toBe(metrics.service);
    expect(l.Latency).toBe(l.latencyMs);
  }
  const [first, second, third, malformed, unknown, elsewhere] = lines;
  expect(first).toMatchObject({ tenant: 0, route: TENANTS_ROUTE_METRIC, statusClass: '2xx', Requests: 1, StsCalls: 1, PoolsOpened: 1 });
  expect(metricsOf(first).names).not.toContain('PoolsEvicted');
  expect(second).toMatchObject({ tenant: 1, StsCalls: 1, PoolsOpened: 1, PoolsEvicted: 1 });
  // Tenant 0's credentials and token are cached: its pool reopens without STS.
  expect(third).toMatchObject({ tenant: 0, PoolsOpened: 1, PoolsEvicted: 1 });
  expect(metricsOf(third).names).not.toContain('StsCalls');
  for (const l of [first, second, third]) expect(l.DbTime).toBeGreaterThan(0);
  // Refused before STS and the database: counted by status class, no database time, no tenant.
  expect(malformed).toMatchObject({ route: TENANTS_ROUTE_METRIC, statusClass: '4xx', status: 400, Requests: 1 });
  expect(unknown).toMatchObject({ route: TENANTS_ROUTE_METRIC, statusClass: '4xx', status: 404 });
  expect(elsewhere).toMatchObject({ route: TENANTS_ROUTE_METRIC, statusClass: '4xx', status: 404 });
  for (const l of [malformed, unknown, elsewhere]) {
    expect(metricsOf(l).names).toEqual(['Requests', 'Latency']);
    expect(l.tenant).toBeUndefined();
  }
});

test('the deployed bundle, run by node as Lambda runs it: the namespace and service the stacks set, and STS throttling told apart by the bundled SDK', async () => {
  const out = tempDir('tenants-bundle-');
  try {
    const file = path.join(out, 'index.js');
    writeFileSync(file, bundleFunction('functions/tenants/handler.ts').code);
    // A process of its own: the SDK loads parts of itself with import(), which jest's module sandbox cannot run.
    const script = `const { handler } = require(${JSON.stringify(file)});
(async () => {
  const answers = [];
  for (const t of [1, ${TENANTS}]) answers.push(await handler({ rawPath: '/tenants/' + t + '/items', headers: {}, requestContext: { requestId: 'bundle-' + t, http: { method: 'GET' } } }));
  process.stdout.write('ANSWERS ' + JSON.stringify(answers) + '\\n');
})();`;
    sts.mode = 'throttled';
    const { stdout, stderr } = await execFileAsync(process.execPath, ['-e', script], {
      env: { ...process.env, ...env(), POWERTOOLS_METRICS_NAMESPACE: 'from-env', POWERTOOLS_SERVICE_NAME: 'tenants-env-fn' },
      timeout: 30_000,
    });
    const lines = `${stdout}\n${stderr}`.split('\n');
    const answers = JSON.parse(lines.find((l) => l.startsWith('ANSWERS '))!.slice('ANSWERS '.length)) as Array<{ statusCode: number; headers: Record<string, string> }>;
    expect(answers.map((r) => r.statusCode)).toEqual([503, 404]);
    expect(answers[0].headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
    const requests = lines.filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l));
    expect(requests).toHaveLength(2);
    for (const line of requests) {
      expect(emfProblems(line)).toEqual([]);
      expect([line.service, metricsOf(line).namespace]).toEqual(['tenants-env-fn', 'from-env']);
    }
    // Errors go to stderr, the rest to stdout: found by request id.
    expect(requests.find((l) => l.requestId === 'bundle-1')).toMatchObject({ level: 'error', tenant: 1, errorCode: 'STS_THROTTLED', StsThrottled: 1 });
    expect(sts.calls.map((c) => c.roleSessionName)).toEqual(['tenant_1', 'tenant_1']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
