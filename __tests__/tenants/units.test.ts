/** Tenant id parsing, configuration errors (each naming its variable), session policy shape, HTML escaping, the refusal memory's windows and bound. */
import { loadTenantsConfig } from '../../functions/tenants/config';
import { ConfigError } from '../../functions/lib/env';
import { dbUserArn, sessionName, sessionPolicy, isStsDenial } from '../../functions/tenants/credentials';
import { escapeHtml, prefersHtml } from '../../functions/lib/http';
import { itemsPage } from '../../functions/tenants/http';
import { parseTenantId } from '../../functions/tenants/tenant-id';
import { MAX_REMEMBERED_REFUSALS, REFUSAL_MEMORY_MS, RefusalMemory, type Refusal } from '../../functions/tenants/refusals';
import { RETRY_AFTER_SECONDS } from '../../functions/lib/http';
import { TENANT_PREFIX_MAX_LENGTH } from '../../contracts';

describe('parseTenantId', () => {
  test.each(['0', '1', '9', '10', '41'])('%s below 42 is that tenant', (raw) => {
    expect(parseTenantId(raw, 42)).toEqual({ kind: 'tenant', tenant: Number(raw) });
  });
  test.each(['42', '43', '100', '999999999'])('%s at or above 42 is unknown', (raw) => {
    expect(parseTenantId(raw, 42)).toEqual({ kind: 'unknown' });
  });
  test.each(['', '00', '01', '+1', '-1', '-0', ' 1', '1 ', '1\n', '1.0', '1e1', '0x1', '１', '1_0', 'abc', undefined])('%p is invalid', (raw) => {
    expect(parseTenantId(raw as string | undefined, 1_000_000)).toEqual({ kind: 'invalid' });
  });
  test('with no tenants configured every well-formed id is unknown', () => {
    expect(parseTenantId('0', 0)).toEqual({ kind: 'unknown' });
  });
});

const IAM_ENV = {
  TENANT_COUNT: '3',
  TENANT_ACCESS_ROLE_ARN: 'arn:aws-cn:iam::210987654321:role/path/tenant-access',
  DB_RESOURCE_ID: 'prx-0abc',
  AWS_REGION: 'cn-north-1',
  DB_HOST: 'proxy.example',
};

describe('loadTenantsConfig', () => {
  test('iam by default: partition and account come from the role ARN; defaults filled in', () => {
    expect(loadTenantsConfig(IAM_ENV)).toEqual({
      count: 3,
      prefix: 'tenant_',
      auth: 'iam',
      iam: { roleArn: IAM_ENV.TENANT_ACCESS_ROLE_ARN, partition: 'aws-cn', account: '210987654321', region: 'cn-north-1', dbResourceId: 'prx-0abc', sessionSeconds: 3600 },
      password: undefined,
      db: { host: 'proxy.example', port: 3306, tls: 'verify', ca: undefined, caBundle: undefined, connectTimeoutMs: 3000, idleRebuildMs: 1_800_000, requestBudgetMs: 8000 },
      maxConnections: 8,
    });
  });

  test.each<[string, Record<string, string | undefined>]>([
    ['TENANT_COUNT', { TENANT_COUNT: undefined }],
    ['TENANT_COUNT', { TENANT_COUNT: '-1' }],
    ['TENANT_COUNT', { TENANT_COUNT: 'ten' }],
    ['TENANT_PREFIX', { TENANT_PREFIX: 'Tenant' }],
    ['TENANT_PREFIX', { TENANT_PREFIX: 'a'.repeat(TENANT_PREFIX_MAX_LENGTH + 1) }],
    ['TENANT_AUTH', { TENANT_AUTH: 'secret' }],
    ['TENANT_ACCESS_ROLE_ARN', { TENANT_ACCESS_ROLE_ARN: undefined }],
    ['TENANT_ACCESS_ROLE_ARN', { TENANT_ACCESS_ROLE_ARN: 'arn:aws:iam::123:role/x' }],
    ['TENANT_ACCESS_ROLE_ARN', { TENANT_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:user/x' }],
    ['DB_RESOURCE_ID', { DB_RESOURCE_ID: undefined }],
    ['DB_RESOURCE_ID', { DB_RESOURCE_ID: 'my-proxy' }],
    // The instance's identifier is not its resource id; nor is a resource id in the wrong case.
    ['DB_RESOURCE_ID', { DB_RESOURCE_ID: 'hits-dev' }],
    ['DB_RESOURCE_ID', { DB_RESOURCE_ID: 'db-abcdefghijklmnopqrstuvwxyz' }],
    ['DB_RESOURCE_ID', { DB_RESOURCE_ID: 'PRX-0ABC' }],
    ['DB_CA_BUNDLE', { DB_CA_BUNDLE: 'amazon' }],
    ['DB_CA_BUNDLE', { TENANT_AUTH: 'password', TENANT_PASSWORD: 'pw', DB_TLS: 'off', DB_CA_BUNDLE: 'rds' }],
    ['AWS_REGION', { AWS_REGION: undefined }],
    ['AWS_REGION', { AWS_REGION: 'Europe' }],
    ['DB_HOST', { DB_HOST: undefined }],
    ['DB_PORT', { DB_PORT: '70000' }],
    ['DB_TLS', { DB_TLS: 'off' }],
    ['DB_TLS', { DB_TLS: 'maybe' }],
    ['TENANT_MAX_CONNECTIONS', { TENANT_MAX_CONNECTIONS: '0' }],
    ['TENANT_SESSION_SECONDS', { TENANT_SESSION_SECONDS: '7200' }],
    ['TENANT_SESSION_SECONDS', { TENANT_SESSION_SECONDS: '60' }],
    ['TENANT_PASSWORD', { TENANT_AUTH: 'password', DB_TLS: 'off' }],
    ['DB_CA_FILE', { DB_CA_FILE: '/nonexistent/ca.pem' }],
    ['DB_CONNECT_TIMEOUT_MS', { DB_CONNECT_TIMEOUT_MS: '5000' }],
    ['DB_REQUEST_BUDGET_MS', { DB_REQUEST_BUDGET_MS: '50' }],
    ['DB_IDLE_REBUILD_SECONDS', { DB_IDLE_REBUILD_SECONDS: 'soon' }],
  ])('%s: a bad value is refused naming the variable (%p)', (variable, over) => {
    const env = { ...IAM_ENV, ...over };
    let error: unknown;
    try {
      loadTenantsConfig(env, (p) => {
        throw new Error(`ENOENT ${p}`);
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ variable });
    expect((error as Error).message.startsWith(`invalid configuration: ${variable}: `)).toBe(true);
  });

  test('straight to an instance (the direct arm): its db- resource id and the RDS CA bundle', () => {
    const c = loadTenantsConfig({ ...IAM_ENV, DB_RESOURCE_ID: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY2', DB_CA_BUNDLE: 'rds', DB_HOST: 'hits-dev.abc.cn-north-1.rds.amazonaws.com.cn' });
    expect(c.iam?.dbResourceId).toBe('db-ABCDEFGHIJKLMNOPQRSTUVWXY2');
    expect(c.db).toMatchObject({ tls: 'verify', caBundle: 'rds' });
    expect(dbUserArn(c.iam!, 'tenant_7')).toBe('arn:aws-cn:rds-db:cn-north-1:210987654321:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY2/tenant_7');
  });

  test('password mode needs no AWS settings and may turn TLS off (local only)', () => {
    const c = loadTenantsConfig({ TENANT_COUNT: '2', TENANT_AUTH: 'password', TENANT_PASSWORD: 'pw', DB_TLS: 'off', DB_HOST: '127.0.0.1', DB_PORT: '3307', TENANT_PREFIX: 'shop_' });
    expect(c).toMatchObject({ auth: 'password', password: 'pw', iam: undefined, prefix: 'shop_', db: { tls: 'off', port: 3307 } });
  });
});

test('session policy: rds-db:connect on exactly the tenant user ARN of the configured partition, region, account and proxy', () => {
  const iam = loadTenantsConfig(IAM_ENV).iam!;
  expect(dbUserArn(iam, 'tenant_7')).toBe('arn:aws-cn:rds-db:cn-north-1:210987654321:dbuser:prx-0abc/tenant_7');
  expect(JSON.parse(sessionPolicy(iam, 'tenant_', 7))).toEqual({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: 'arn:aws-cn:rds-db:cn-north-1:210987654321:dbuser:prx-0abc/tenant_7' }],
  });
  // RoleSessionName: 2-64 characters of [\w+=,.@-] (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
  expect(sessionName('a'.repeat(22), 999_999)).toMatch(/^[\w+=,.@-]{2,64}$/);
  expect(sessionPolicy(iam, 'a'.repeat(22), 999_999).length).toBeLessThanOrEqual(2048);
});

test('STS refusals are told apart from outages', () => {
  expect(isStsDenial({ name: 'AccessDenied' })).toBe(true);
  expect(isStsDenial({ name: 'PackedPolicyTooLargeException' })).toBe(true);
  expect(isStsDenial({ name: 'ThrottlingException' })).toBe(false);
  expect(isStsDenial({ name: 'TimeoutError' })).toBe(false);
});

test('HTML: every value is escaped; browsers get HTML, API clients JSON', () => {
  expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  const page = itemsPage(1, [{ id: '<b>' as unknown as number, c1: 1, c2: 2, c3: 3, c4: 4, c5: 5 }]);
  expect(page).toContain('<td>&lt;b&gt;</td>');
  expect(page).not.toContain('<b>');
  expect(prefersHtml('text/html,application/xhtml+xml,*/*;q=0.8')).toBe(true);
  expect(prefersHtml('application/json')).toBe(false);
  expect(prefersHtml('*/*')).toBe(false);
  expect(prefersHtml('application/json, text/html;q=0.5')).toBe(false);
  expect(prefersHtml(undefined)).toBe(false);
});

describe('Lambda entry point', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  /** Lines written to stdout and stderr (the logger writes info to one, errors to the other; Lambda keeps both). */
  function captureOutput(): string[] {
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
    }
    return lines;
  }

  test('reads the configuration once at load and answers from it', async () => {
    Object.assign(process.env, { TENANT_COUNT: '2', TENANT_AUTH: 'password', TENANT_PASSWORD: 'pw', DB_TLS: 'off', DB_HOST: '127.0.0.1', POWERTOOLS_SERVICE_NAME: 'tenants-fn', POWERTOOLS_METRICS_NAMESPACE: 'ns-from-env' });
    const lines = captureOutput();
    let handler!: typeof import('../../functions/tenants/handler').handler;
    jest.isolateModules(() => {
      handler = require('../../functions/tenants/handler').handler;
    });
    // Changing the environment after load changes nothing: tenant 2 stays unknown, tenant 01 malformed.
    process.env.TENANT_COUNT = '10';
    expect((await handler({ rawPath: '/tenants/2/items', requestContext: { http: { method: 'GET' } } })).statusCode).toBe(404);
    expect((await handler({ rawPath: '/tenants/01/items', requestContext: { http: { method: 'GET' } } })).statusCode).toBe(400);
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((l) => l.status)).toEqual([404, 400]);
    // The service and namespace the stacks set (POWERTOOLS_*), as the hits function reads them.
    for (const l of parsed) expect(l).toMatchObject({ msg: 'request', service: 'tenants-fn', _aws: { CloudWatchMetrics: [{ Namespace: 'ns-from-env' }] } });
  });

  test('a bad configuration fails the cold start, logging the variable', () => {
    Object.assign(process.env, { TENANT_COUNT: '2', DB_HOST: 'proxy.example', AWS_REGION: 'eu-west-1', DB_RESOURCE_ID: 'prx-1' });
    delete process.env.TENANT_ACCESS_ROLE_ARN;
    delete process.env.POWERTOOLS_SERVICE_NAME;
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    const lines = captureOutput();
    expect(() =>
      jest.isolateModules(() => {
        require('../../functions/tenants/handler');
      }),
    ).toThrow(/^invalid configuration: TENANT_ACCESS_ROLE_ARN: is required/);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'error', msg: 'invalid configuration', service: 'tenants-local', variable: 'TENANT_ACCESS_ROLE_ARN' });
  });
});

test('tenant code sends SQL through query() only, never execute() (prepared statements pin RDS Proxy sessions)', () => {
  const { readdirSync, readFileSync } = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const root = path.resolve(__dirname, '../../functions');
  const files = [...readdirSync(path.join(root, 'tenants')).map((f) => path.join(root, 'tenants', f)), path.join(root, 'migrate', 'tenants.ts')];
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) expect([file, /\.execute\s*\(/.test(readFileSync(file, 'utf8'))]).toEqual([file, false]);
});

test("the STS client calls the region's own endpoint, not the global one", async () => {
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const { stsClientSettings } = await import('../../functions/tenants/credentials');
  const saved = process.env.AWS_ENDPOINT_URL_STS;
  delete process.env.AWS_ENDPOINT_URL_STS;
  const hosts: string[] = [];
  const client = new STSClient({ ...stsClientSettings('ap-southeast-2'), credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' } });
  // Stops every request after signing and before the network: only its destination is looked at.
  client.middlewareStack.add(
    () => async (args: any) => {
      hosts.push(args.request.hostname);
      throw new Error('stopped before sending');
    },
    { step: 'finalizeRequest', priority: 'low', name: 'captureHost' },
  );
  try {
    await expect(client.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/x', RoleSessionName: 'tenant_1' }))).rejects.toThrow('stopped before sending');
  } finally {
    client.destroy();
    if (saved !== undefined) process.env.AWS_ENDPOINT_URL_STS = saved;
  }
  expect(hosts[0]).toBe('sts.ap-southeast-2.amazonaws.com');
});

describe('RefusalMemory', () => {
  // Told apart by their error code: a refused login, and STS refusing AssumeRole.
  const LOGIN = 'ER_ACCESS_DENIED_ERROR';
  const STS = 'STS_ACCESS_DENIED';
  const refusal = (errorCode: string, propagation = false): Refusal => ({ fields: { errorCode }, propagation });
  const codeOf = (r: Refusal | undefined) => r?.fields.errorCode;

  test('a refusal answered 500 is kept for REFUSAL_MEMORY_MS, one answered 503 for its Retry-After; when the window ends one caller tries, and the others are answered until its outcome', () => {
    let now = 1_000_000;
    const memory = new RefusalMemory(() => now);
    memory.remember(1, refusal(LOGIN));
    memory.remember(2, refusal(STS, true));
    now += RETRY_AFTER_SECONDS * 1000 - 1;
    expect([codeOf(memory.recall(1)), codeOf(memory.recall(2))]).toEqual([LOGIN, STS]);
    now += 1;
    // Tenant 2's window is over: this caller tries; the next, while it does, is still answered.
    expect(memory.recall(2)).toBeUndefined();
    expect(memory.recall(2)).toEqual(refusal(STS, true));
    now = 1_000_000 + REFUSAL_MEMORY_MS - 1;
    expect(codeOf(memory.recall(1))).toBe(LOGIN);
    now += 1;
    expect(memory.recall(1)).toBeUndefined();
    expect(codeOf(memory.recall(1))).toBe(LOGIN);
    // The trying caller got past IAM: forgotten.
    memory.forget(1);
    expect(memory.recall(1)).toBeUndefined();
    expect(memory.recall(1)).toBeUndefined();
  });

  test('holds at most MAX_REMEMBERED_REFUSALS, forgetting the oldest first; a tenant remembered again becomes the newest', () => {
    const memory = new RefusalMemory(() => 0);
    for (let t = 0; t < MAX_REMEMBERED_REFUSALS; t++) memory.remember(t, refusal(LOGIN));
    memory.remember(0, refusal(STS));
    memory.remember(MAX_REMEMBERED_REFUSALS, refusal(LOGIN));
    expect(memory.size).toBe(MAX_REMEMBERED_REFUSALS);
    expect(memory.recall(1)).toBeUndefined();
    expect(codeOf(memory.recall(0))).toBe(STS);
    expect(codeOf(memory.recall(2))).toBe(LOGIN);
    expect(codeOf(memory.recall(MAX_REMEMBERED_REFUSALS))).toBe(LOGIN);
  });
});
