/**
 * The tenants route's failure paths, each against the real MariaDB (TLS, certificate checked) and the
 * loopback STS, each ending with the failing tenant served again and the other tenants never affected:
 * - STS throttling, refusing, slow, and refusing while IAM may still be propagating a deploy;
 * - the database refusing a tenant's login: its token expired, its session credentials revoked, its user's
 *   plugin changed, its grant revoked, or the grant not propagated yet. MariaDB has no
 *   AWSAuthenticationPlugin, so the IAM tenants here are PAM users: the server asks for
 *   `mysql_clear_password` as RDS Proxy does, and a pam_exec script judges the real token the function
 *   sends, the way IAM would (the user it names, the credentials that signed it, its date). PAM needs root;
 *   the cases that run everywhere judge the token in this process instead and log in with the tenant's
 *   password, or a wrong one when IAM would refuse, so the refusal is still MariaDB's own;
 * - the IAM propagation window, closed once IAM has let a request through;
 * - a tenant refused for good: remembered for a short window, in which its requests cost no STS call and no
 *   login;
 * - credentials expiring while connections are open;
 * - every pool of the environment busy, the database saturated, the deadline reached.
 * Every request line is checked as EMF; the tenant is in the line, never a dimension.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { createConnection } from 'mysql2/promise';
import { provisionTenants } from '../../functions/migrate/tenants';
import { pamAuth, passwordAuth } from '../../functions/migrate/runner';
import { createTenantsApp, IAM_PROPAGATION_MS, type TenantsApp, type TenantsAppOptions } from '../../functions/tenants/app';
import { loadTenantsConfig } from '../../functions/tenants/config';
import { REFUSAL_MEMORY_MS } from '../../functions/tenants/refusals';
import { signRdsToken, type SignToken } from '../../functions/lib/credentials';
import { RETRY_AFTER_SECONDS } from '../../functions/lib/http';
import { MariaDb, makeCerts, tempDir, type TestCerts } from '../../scripts/services';
import { loginsEndingIn, passwordAfterIam } from '../../scripts/tenant-logins';
import { emfProblems, metricsOf, type Line } from '../support/emf';
import { sleep } from '../support/hits';
import { canWritePam, iamTest, installPamService } from '../support/pam';
import { FakeSts } from './fake-sts';

const TENANTS = 5;
const PASSWORD = 'tenant-local-password';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/tenant-access';
const REGION = 'eu-west-1';
/** Password tenants `tenant_<t>`, and (with PAM) IAM tenants `iam_<t>` whose login is judged on the token. */
const IAM_PREFIX = 'iam_';
const METRICS = { namespace: 'tenants-test', service: 'tenants-test-fn' };

let dir: string;
let certs: TestCerts;
let db: MariaDb;
let sts: FakeSts;
let pamAvailable = false;
let removePamService = () => undefined as void;
/** Where the PAM script keeps its state: what it was sent, and what IAM would refuse. */
let iamState: string;
const pamService = `tenants-iam-test-${process.pid}`;
const savedEnv = { ...process.env };
const apps: TenantsApp[] = [];

beforeAll(async () => {
  dir = tempDir('tenants-failures-');
  certs = await makeCerts(dir);
  pamAvailable = canWritePam();
  iamState = path.join(dir, 'iam');
  mkdirSync(iamState);
  [db, sts] = await Promise.all([MariaDb.start({ tls: certs, pam: pamAvailable }), FakeSts.start()]);
  await db.sql("CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY 'master-pw'");
  await db.sql("GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION");
  const master = await masterConnection();
  await provisionTenants(master, { count: TENANTS, prefix: 'tenant_', rowsPerTenant: 20, auth: passwordAuth(PASSWORD) });
  if (pamAvailable) {
    const script = path.join(dir, 'iam-check.sh');
    writeFileSync(script, iamCheck(iamState, db.port));
    chmodSync(script, 0o755);
    removePamService = installPamService(pamService, script);
    await provisionTenants(master, { count: TENANTS, prefix: IAM_PREFIX, rowsPerTenant: 20, auth: pamAuth(pamService) });
  }
  await master.end();
  // Rows identifiable per tenant: c1 holds the tenant's number.
  for (const prefix of pamAvailable ? ['tenant_', IAM_PREFIX] : ['tenant_']) {
    for (let t = 0; t < TENANTS; t++) await db.sql('UPDATE ??.items SET c1 = ?', [`${prefix}${t}`, t]);
  }
  sts.useAsEndpointOfThisProcess('AKIDTENANTSFUNCTION', REGION);
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  sts.reset();
  for (const f of ['tokens.log', 'refused-users', 'revoked-keys']) rmSync(path.join(iamState, f), { force: true });
  for (let t = 0; t < TENANTS; t++) rmSync(expiredBefore(t), { force: true });
});

afterAll(async () => {
  process.env = savedEnv;
  removePamService();
  await sts?.close();
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * What IAM decides on a token, as a pam_exec script: it must be a token for this endpoint and the user
 * logging in; it is refused when the user's grant is revoked (`refused-users`), when it was signed with
 * revoked credentials (`revoked-keys`, access key ids), or when it is dated at or before the user's
 * `expired-before.<user>` (X-Amz-Date). Every token is logged with the decision.
 */
function iamCheck(state: string, port: number): string {
  return `#!/bin/sh
state='${state}'
tok=$(tr -d '\\000')
decide() { printf '%s %s %s\\n' "$PAM_USER" "$1" "$tok" >> "$state/tokens.log"; [ "$1" = accepted ]; exit $?; }
case "$tok" in
  "127.0.0.1:${port}/?Action=connect&DBUser=$PAM_USER&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="*"X-Amz-Signature="*) ;;
  *) decide refused ;;
esac
grep -qxF "$PAM_USER" "$state/refused-users" 2>/dev/null && decide refused
key=\${tok#*X-Amz-Credential=}
key=\${key%%%2F*}
grep -qxF "$key" "$state/revoked-keys" 2>/dev/null && decide refused
if [ -f "$state/expired-before.$PAM_USER" ]; then
  date=\${tok#*X-Amz-Date=}
  date=\${date%%&*}
  first=$(printf '%s\\n%s\\n' "$date" "$(cat "$state/expired-before.$PAM_USER")" | sort | head -n 1)
  [ "$first" = "$date" ] && decide refused
fi
decide accepted
`;
}

const expiredBefore = (t: number) => path.join(iamState, `expired-before.${IAM_PREFIX}${t}`);

interface TokenSeen {
  readonly decision: 'accepted' | 'refused';
  readonly token: string;
  /** Access key id that signed it. */
  readonly key: string;
  /** X-Amz-Date. */
  readonly date: string;
}

/** The tokens IAM tenant `t` presented, in order, with what the server decided. */
function tokensOf(t: number): TokenSeen[] {
  let text = '';
  try {
    text = readFileSync(path.join(iamState, 'tokens.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${IAM_PREFIX}${t} `))
    .map((l) => {
      const [, decision, token] = l.split(' ');
      const url = new URL(`https://${token}`);
      return { decision: decision as TokenSeen['decision'], token, key: url.searchParams.get('X-Amz-Credential')!.split('/')[0], date: url.searchParams.get('X-Amz-Date')! };
    });
}

const masterConnection = () => createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw' });

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_COUNT: String(TENANTS),
    TENANT_ACCESS_ROLE_ARN: ROLE_ARN,
    DB_RESOURCE_ID: 'prx-0123456789abcdef0',
    AWS_REGION: REGION,
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_CA_FILE: certs.caFile,
    ...over,
  };
}
const PASSWORD_ENV = { TENANT_AUTH: 'password', TENANT_PASSWORD: PASSWORD };
const IAM_ENV = { TENANT_PREFIX: IAM_PREFIX };

/** A wall clock the test moves: the app's credentials, tokens, idle gaps, IAM propagation and refusal windows read it. */
function movableClock(): { offset: number; now: () => number } {
  // Stopped: only the test moves it, so a window's edge is where the test puts it, however slow the machine.
  const start = Date.now();
  const clock = { offset: 0, now: () => start + clock.offset };
  return clock;
}

/** The IAM path (STS, credentials and token caches, signer, plugin) ending in a password login: no PAM needed. */
const passwordAtTheEnd = passwordAfterIam(PASSWORD);

/**
 * IAM's judgement of each token, in this process: the database-refusal cases that run without PAM (as a normal
 * user). The IAM path runs whole (STS, the credentials and token caches, the real signer, the plugin's
 * token); the token is then judged as IAM would judge it (refused when signed with revoked credentials), and
 * the login presents the tenant's password when IAM accepts, a wrong one when it refuses: the refusal is
 * MariaDB's own, and goes through the function's retry as any refused login does.
 */
function iamJudge() {
  const revokedKeys = new Set<string>();
  const seen: Array<TokenSeen & { tenant: number }> = [];
  const signed: Array<{ user: string; key: string }> = [];
  const sign: SignToken = async (request) => {
    signed.push({ user: request.username, key: request.credentials!.accessKeyId });
    return signRdsToken(request);
  };
  const adaptLogin = loginsEndingIn((tenant, _given, token) => {
    const url = new URL(`https://${token}`);
    const key = url.searchParams.get('X-Amz-Credential')!.split('/')[0];
    const decision = revokedKeys.has(key) ? 'refused' : 'accepted';
    seen.push({ tenant, decision, token: token!, key, date: url.searchParams.get('X-Amz-Date')! });
    return decision === 'accepted' ? PASSWORD : 'refused-by-iam';
  });
  return {
    revokedKeys,
    /** The app options that put the judge in the login path. */
    options: { sign, adaptLogin } satisfies TenantsAppOptions,
    /** The tokens tenant `t` presented, in order, with IAM's decision. */
    tokensOf: (t: number) => seen.filter((s) => s.tenant === t),
    /** The access key each of tenant `t`'s tokens was signed with, in order. */
    signedFor: (t: number) => signed.filter((s) => s.user === `tenant_${t}`).map((s) => s.key),
  };
}

/** Makes the real MariaDB refuse tenant `t`'s login (as a revoked grant or a changed plugin does); returns the undo. */
async function refuseLoginsOf(t: number): Promise<() => Promise<void>> {
  await db.sql("ALTER USER ??@'%' IDENTIFIED BY 'no-longer-this-password'", [`tenant_${t}`]);
  return async () => void (await db.sql("ALTER USER ??@'%' IDENTIFIED BY ?", [`tenant_${t}`, PASSWORD]));
}

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json: any;
  /** The request's log line. */
  line: Line;
}

interface Harness {
  app: TenantsApp;
  lines: Line[];
  get(tenant: number, options?: { remainingMs?: number }): Promise<Answer>;
}

let seq = 0;

function start(e: Record<string, string>, options: TenantsAppOptions = {}): Harness {
  const lines: Line[] = [];
  const app = createTenantsApp(loadTenantsConfig(e), { log: (l) => lines.push(JSON.parse(l)), metrics: METRICS, ...options });
  apps.push(app);
  return {
    app,
    lines,
    async get(tenant, { remainingMs } = {}) {
      const requestId = `f-${++seq}`;
      const started = performance.now();
      const context = remainingMs === undefined ? undefined : { awsRequestId: requestId, getRemainingTimeInMillis: () => Math.max(0, Math.round(remainingMs - (performance.now() - started))) };
      const res = await app.handler({ rawPath: `/tenants/${tenant}/items`, headers: { accept: 'application/json' }, requestContext: { requestId, http: { method: 'GET' } } }, context);
      const line = lines.find((l) => l.msg === 'request' && l.requestId === requestId)!;
      // Every request line is valid EMF, and no tenant becomes a dimension.
      expect(emfProblems(line)).toEqual([]);
      expect(metricsOf(line).dimensions).toEqual([['service'], ['service', 'route', 'statusClass']]);
      let json: unknown;
      try {
        json = JSON.parse(res.body);
      } catch {
        json = undefined;
      }
      return { ...res, json, line };
    },
  };
}

/** Count metric `name` of a request line: 0 when the line does not emit it. */
function count(line: Line, name: string): number {
  return metricsOf(line).values[name] ?? 0;
}

/** Asserts a 200 with five of tenant `t`'s own rows, and returns the answer. */
async function served(h: Harness, t: number, options?: { remainingMs?: number }): Promise<Answer> {
  const res = await h.get(t, options);
  expect([t, res.statusCode, res.line.error]).toEqual([t, 200, undefined]);
  expect(res.json.items).toHaveLength(5);
  for (const item of res.json.items) expect(item.c1).toBe(t);
  return res;
}

/** Asserts a 503 with Retry-After and a body that names nothing, and returns the answer. */
async function retryLater(h: Harness, t: number, options?: { remainingMs?: number }): Promise<Answer> {
  const res = await h.get(t, options);
  expect([t, res.statusCode, res.headers['retry-after']]).toEqual([t, 503, String(RETRY_AFTER_SECONDS)]);
  expect(Object.keys(res.json).sort()).toEqual(['error', 'requestId']);
  expect(res.line).toMatchObject({ level: 'error', tenant: t, status: 503, statusClass: '5xx' });
  return res;
}

/** Asserts a 500 without Retry-After and with a body that names nothing, the tenant and `errorCode` in the line. */
async function refusedFor(h: Harness, t: number, errorCode: string): Promise<Answer> {
  const res = await h.get(t);
  expect([t, res.statusCode, res.headers['retry-after']]).toEqual([t, 500, undefined]);
  expect(Object.keys(res.json).sort()).toEqual(['error', 'requestId']);
  expect(res.body).not.toMatch(/tenant|iam_|arn|sts|denied/i);
  expect(res.line).toMatchObject({ level: 'error', tenant: t, status: 500, errorCode });
  expect(res.line.iamPropagation).toBeUndefined();
  return res;
}

/** Asserts that the answer came from the refusal memory: no STS call, no pool, no login, nothing counted but the request. */
function fromMemory(res: Answer): void {
  expect(res.line).toMatchObject({ refusalRemembered: true, stsCalls: 0, poolsOpened: 0 });
  expect(metricsOf(res.line).names).toEqual(['Requests', 'Latency']);
}

const stsCallsFor = (t: number, prefix = 'tenant_') => sts.calls.filter((c) => c.roleSessionName === `${prefix}${t}`).length;

async function connectionsOf(user: string): Promise<number> {
  const rows = await db.sql<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
  return Number(rows[0].n);
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('STS', () => {
  test('throttling: 503 with Retry-After and StsThrottled; a tenant with cached credentials goes on; nothing is cached from the failure, so the next request is served', async () => {
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd });
    await served(h, 0);
    sts.mode = 'throttled';
    const throttled = await retryLater(h, 1);
    expect(throttled.line).toMatchObject({ errorCode: 'STS_THROTTLED', stsCalls: 1 });
    expect([count(throttled.line, 'StsThrottled'), count(throttled.line, 'StsCalls'), count(throttled.line, 'StsUnavailable')]).toEqual([1, 1, 0]);
    expect(metricsOf(throttled.line).names.filter((n) => n.startsWith('DbUnavailable'))).toEqual([]);
    // STS really answered Throttling (the SDK retried it once, as its retry strategy does for throttling).
    expect(stsCallsFor(1)).toBe(2);

    // Another tenant is not affected: its credentials are cached, it needs no STS.
    const other = await served(h, 0);
    expect(other.line.stsCalls).toBe(0);

    sts.mode = 'ok';
    const next = await served(h, 1);
    expect(next.line.stsCalls).toBe(1);
  });

  test("a refusal after the IAM propagation window: 500 without details, the tenant and STS_ACCESS_DENIED in the log, StsDenied; remembered: the tenant's requests within REFUSAL_MEMORY_MS get the same answer with no STS call, other tenants are served; then one more AssumeRole; served after the window once STS allows it", async () => {
    const clock = movableClock();
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd, now: clock.now });
    await served(h, 0);
    clock.offset = IAM_PROPAGATION_MS + 1000;
    sts.mode = 'denied';
    const denied = await refusedFor(h, 1, 'STS_ACCESS_DENIED');
    expect([denied.line.stsCalls, count(denied.line, 'StsDenied')]).toEqual([1, 1]);
    expect(stsCallsFor(1)).toBe(1);

    const refusedAt = clock.offset;
    for (const step of [0, REFUSAL_MEMORY_MS / 2, REFUSAL_MEMORY_MS - 1]) {
      clock.offset = refusedAt + step;
      const again = await refusedFor(h, 1, 'STS_ACCESS_DENIED');
      fromMemory(again);
      expect(again.line.error).toBe(denied.line.error);
      await served(h, 0);
    }
    expect(stsCallsFor(1)).toBe(1);

    // The window over: one more AssumeRole, refused, and remembered again.
    clock.offset = refusedAt + REFUSAL_MEMORY_MS;
    const retried = await refusedFor(h, 1, 'STS_ACCESS_DENIED');
    expect([retried.line.refusalRemembered, retried.line.stsCalls, count(retried.line, 'StsDenied')]).toEqual([undefined, 1, 1]);
    fromMemory(await refusedFor(h, 1, 'STS_ACCESS_DENIED'));

    sts.mode = 'ok';
    fromMemory(await refusedFor(h, 1, 'STS_ACCESS_DENIED'));
    clock.offset += REFUSAL_MEMORY_MS;
    const back = await served(h, 1);
    expect(back.line.stsCalls).toBe(1);
    expect(stsCallsFor(1)).toBe(3);
  });

  test('a refusal while the environment is young and no AssumeRole has got through in it yet (IAM may still be propagating the deploy): 503 with Retry-After, marked in the log; within that Retry-After the same answer without STS; served once IAM has caught up', async () => {
    const clock = movableClock();
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd, now: clock.now });
    sts.mode = 'denied';
    const early = await retryLater(h, 2);
    expect(early.line).toMatchObject({ errorCode: 'STS_ACCESS_DENIED', iamPropagation: true });
    expect(count(early.line, 'StsDenied')).toBe(1);
    sts.mode = 'ok';
    const again = await retryLater(h, 2);
    expect(again.line).toMatchObject({ errorCode: 'STS_ACCESS_DENIED', iamPropagation: true });
    fromMemory(again);
    expect(stsCallsFor(2)).toBe(1);
    clock.offset = RETRY_AFTER_SECONDS * 1000;
    await served(h, 2);
  });

  test('a refusal in a young environment once an AssumeRole has got through in it: 500, a misconfiguration (the role and its trust are in effect), though no login has', async () => {
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd });
    // Tenant 0's AssumeRole gets through and its login is refused: propagation still, for the login.
    const restore = await refuseLoginsOf(0);
    try {
      const login = await retryLater(h, 0);
      expect(login.line).toMatchObject({ errorCode: 'ER_ACCESS_DENIED_ERROR', iamPropagation: true, stsCalls: 2 });
    } finally {
      await restore();
    }
    sts.mode = 'denied';
    const denied = await refusedFor(h, 1, 'STS_ACCESS_DENIED');
    expect(count(denied.line, 'StsDenied')).toBe(1);
  });
});

describe("the database refuses a tenant's login (IAM judged in this process: runs without PAM)", () => {
  test('its session credentials revoked: the refused login drops the token and the credentials, and the one fresh login presents a token signed again with the credentials of a new AssumeRole; served; the other tenant keeps its token', async () => {
    const judge = iamJudge();
    // One connection for two tenants: every switch closes a pool, so each request needs a login.
    const h = start(env({ TENANT_MAX_CONNECTIONS: '1' }), judge.options);
    await served(h, 0);
    await served(h, 1);
    const [first] = judge.tokensOf(0);
    expect(judge.signedFor(0)).toEqual([first.key]);
    // As IAM's "revoke active sessions" does: credentials issued until now are refused.
    judge.revokedKeys.add(first.key);

    const res = await served(h, 0);
    const seen = judge.tokensOf(0);
    expect(seen.map((s) => s.decision)).toEqual(['accepted', 'refused', 'accepted']);
    expect(seen[1].token).toBe(first.token);
    expect(seen[2].token).not.toBe(first.token);
    expect(stsCallsFor(0)).toBe(2);
    const renewed = sts.calls.filter((c) => c.roleSessionName === 'tenant_0')[1].issued!.accessKeyId;
    expect(judge.signedFor(0)).toEqual([first.key, renewed]);
    expect(seen[2].key).toBe(renewed);
    expect([res.line.stsCalls, count(res.line, 'LoginFailures')]).toEqual([1, 1]);
    expect(h.lines.filter((l) => /refused the tenant's login, retrying once/.test(l.msg)).map((l) => l.tenant)).toEqual([0]);

    // Tenant 1 logs in again with its own cached token: nothing of tenant 0's failure reached it.
    const other = await served(h, 1);
    expect([other.line.stsCalls, count(other.line, 'LoginFailures')]).toEqual([0, 0]);
    expect(judge.signedFor(1)).toHaveLength(1);
    const tokens1 = judge.tokensOf(1);
    expect([tokens1.length, tokens1[1].token]).toEqual([2, tokens1[0].token]);
  });

  test('refused twice while the environment is young and no login has got through in it yet (the grant not propagated): 503 with Retry-After, marked in the log; once a login has got through, a refusal is 500', async () => {
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd });
    const restore2 = await refuseLoginsOf(2);
    const restore3 = await refuseLoginsOf(3);
    try {
      const early = await retryLater(h, 2);
      expect(early.line).toMatchObject({ errorCode: 'ER_ACCESS_DENIED_ERROR', iamPropagation: true });
      expect(count(early.line, 'LoginFailures')).toBe(2);
      await served(h, 1);
      const late = await refusedFor(h, 3, 'ER_ACCESS_DENIED_ERROR');
      expect(count(late.line, 'LoginFailures')).toBe(2);
    } finally {
      await restore2();
      await restore3();
    }
  });

  test("refused for good (its grant revoked): remembered for REFUSAL_MEMORY_MS, in which the tenant's requests cost no STS call and no login while other tenants are served; then one request tries again, however many arrive together; served after the window once restored", async () => {
    const clock = movableClock();
    // One connection for all: every switch of tenant closes a pool, so tenant 2's next request needs a login.
    const h = start(env({ TENANT_MAX_CONNECTIONS: '1' }), { adaptLogin: passwordAtTheEnd, now: clock.now });
    await served(h, 2);
    await served(h, 1);
    const restore = await refuseLoginsOf(2);
    try {
      const deniedBefore = await db.globalStatus('Access_denied_errors');
      // With its credentials cached: one login, one AssumeRole for the fresh one, and its login.
      const first = await refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR');
      expect([first.line.stsCalls, count(first.line, 'LoginFailures')]).toEqual([1, 2]);

      const refusedAt = clock.offset;
      for (const step of [0, REFUSAL_MEMORY_MS / 2, REFUSAL_MEMORY_MS - 1]) {
        clock.offset = refusedAt + step;
        const again = await refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR');
        fromMemory(again);
        expect(again.line.error).toBe(first.line.error);
        await served(h, 1);
      }
      await served(h, 3);
      expect(stsCallsFor(2)).toBe(2);
      expect((await db.globalStatus('Access_denied_errors')) - deniedBefore).toBe(2);

      // The window over, four requests at once: one tries (two AssumeRoles, its credentials dropped by the last refusal; two logins), three are answered from memory.
      clock.offset = refusedAt + REFUSAL_MEMORY_MS;
      const together = await Promise.all(Array.from({ length: 4 }, () => refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR')));
      expect(together.map((r) => r.line.refusalRemembered ?? false).sort()).toEqual([false, true, true, true]);
      const tried = together.find((r) => !r.line.refusalRemembered)!;
      expect([tried.line.stsCalls, count(tried.line, 'LoginFailures')]).toEqual([2, 2]);
      for (const r of together.filter((a) => a !== tried)) fromMemory(r);
      expect(stsCallsFor(2)).toBe(4);
      expect((await db.globalStatus('Access_denied_errors')) - deniedBefore).toBe(4);
    } finally {
      await restore();
    }
    // Restored: still remembered until the window ends, then served.
    fromMemory(await refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR'));
    clock.offset += REFUSAL_MEMORY_MS;
    await served(h, 2);
    await served(h, 2);
  });
});

describe("the database refuses a tenant's login (IAM judged on the real token by PAM: needs root)", () => {
  iamTest('its token expired: the cached token is dropped and one fresh login, with a new token, succeeds; the other tenant keeps its token', async () => {
    // One connection for two tenants: every switch closes a pool, so each request needs a login.
    const h = start(env({ ...IAM_ENV, TENANT_MAX_CONNECTIONS: '1' }));
    await served(h, 0);
    await served(h, 1);
    const [first] = tokensOf(0);
    expect(first.decision).toBe('accepted');
    // IAM now holds tenant 0's token (still cached, reused for 10 minutes) expired.
    writeFileSync(expiredBefore(0), first.date);
    await sleep(1100); // a token signed from now on carries a later X-Amz-Date

    const res = await served(h, 0);
    const seen = tokensOf(0);
    expect(seen.map((s) => s.decision)).toEqual(['accepted', 'refused', 'accepted']);
    expect(seen[1].token).toBe(first.token);
    expect(seen[2].token).not.toBe(first.token);
    expect(seen[2].date > first.date).toBe(true);
    expect(count(res.line, 'LoginFailures')).toBe(1);
    expect(h.lines.filter((l) => /refused the tenant's login, retrying once/.test(l.msg)).map((l) => l.tenant)).toEqual([0]);

    // Tenant 1 logs in again with its own cached token: nothing of tenant 0's failure reached it.
    const other = await served(h, 1);
    expect([other.line.stsCalls, count(other.line, 'LoginFailures')]).toEqual([0, 0]);
    expect(tokensOf(1).map((s) => s.decision)).toEqual(['accepted', 'accepted']);
    expect(tokensOf(1)[1].token).toBe(tokensOf(1)[0].token);
  });

  iamTest('its session credentials revoked: the token and the credentials are dropped, and the fresh login presents a token signed with new ones', async () => {
    const h = start(env({ ...IAM_ENV, TENANT_MAX_CONNECTIONS: '1' }));
    await served(h, 0);
    await served(h, 1);
    const [first] = tokensOf(0);
    // As IAM's "revoke active sessions" does: credentials issued until now are refused.
    writeFileSync(path.join(iamState, 'revoked-keys'), `${first.key}\n`);

    const res = await served(h, 0);
    const seen = tokensOf(0);
    expect(seen.map((s) => s.decision)).toEqual(['accepted', 'refused', 'accepted']);
    expect(seen[2].key).not.toBe(first.key);
    expect(seen[2].key).toBe(sts.calls.filter((c) => c.roleSessionName === 'iam_0').at(-1)!.issued!.accessKeyId);
    expect([res.line.stsCalls, count(res.line, 'LoginFailures')]).toEqual([1, 1]);

    const other = await served(h, 1);
    expect([other.line.stsCalls, count(other.line, 'LoginFailures')]).toEqual([0, 0]);
  });

  // The last field: how many tokens reach IAM's judge (PAM); none once the user no longer logs in through it.
  const misconfigured: Array<[string, () => Promise<void>, () => Promise<void>, number]> = [
    [
      "its user's plugin changed",
      () => db.sql("ALTER USER 'iam_2'@'%' IDENTIFIED BY 'no-longer-iam'"),
      () => db.sql("ALTER USER 'iam_2'@'%' IDENTIFIED VIA pam USING ?", [pamService]),
      0,
    ],
    [
      'its grant revoked',
      async () => writeFileSync(path.join(iamState, 'refused-users'), 'iam_2\n'),
      async () => rmSync(path.join(iamState, 'refused-users')),
      2,
    ],
  ];
  for (const [cause, breakIt, fixIt, judged] of misconfigured) {
    iamTest(`${cause}: refused twice (the second time a fresh token on fresh credentials), 500 after the IAM propagation window, the tenant logged; other tenants served; once fixed, served after the refusal's memory window`, async () => {
      const clock = movableClock();
      const h = start(env({ ...IAM_ENV, TENANT_MAX_CONNECTIONS: '5' }), { now: clock.now });
      await served(h, 1);
      clock.offset = IAM_PROPAGATION_MS + 1000;
      await breakIt();
      try {
        const res = await refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR');
        expect(res.line.stsCalls).toBe(2);
        expect(count(res.line, 'LoginFailures')).toBe(2);
        // Where IAM judged the tokens, each was signed with other credentials.
        const seen = tokensOf(2);
        expect([seen.length, new Set(seen.map((s) => s.key)).size]).toEqual([judged, judged]);

        await served(h, 1);
        await served(h, 3);
      } finally {
        await fixIt();
      }
      fromMemory(await refusedFor(h, 2, 'ER_ACCESS_DENIED_ERROR'));
      clock.offset += REFUSAL_MEMORY_MS;
      await served(h, 2);
    });
  }

  iamTest('refused while the environment is young and no login has got through in it yet (the grant not propagated): 503 with Retry-After after the fresh login, marked in the log; served once it has propagated and that Retry-After has passed', async () => {
    const clock = movableClock();
    const h = start(env({ ...IAM_ENV, TENANT_MAX_CONNECTIONS: '5' }), { now: clock.now });
    writeFileSync(path.join(iamState, 'refused-users'), 'iam_4\n');
    const early = await retryLater(h, 4);
    expect(early.line).toMatchObject({ errorCode: 'ER_ACCESS_DENIED_ERROR', iamPropagation: true });
    expect(count(early.line, 'LoginFailures')).toBe(2);
    await served(h, 3);
    rmSync(path.join(iamState, 'refused-users'));
    clock.offset = RETRY_AFTER_SECONDS * 1000;
    await served(h, 4);
  });

  iamTest('credentials expiring while connections are open: the open connection goes on serving; the next new connection logs in with renewed credentials, never refused', async () => {
    const clock = movableClock();
    // STS issues credentials for an hour of the same clock.
    sts.now = clock.now;
    const h = start(env({ ...IAM_ENV, TENANT_MAX_CONNECTIONS: '5' }), { now: clock.now });
    await served(h, 0);
    await served(h, 1);
    const [first] = tokensOf(0);
    // Steps shorter than the idle rebuild (30 minutes), past the credentials' hour.
    for (const minutes of [20, 40, 60]) {
      clock.offset = minutes * 60_000 + 1000;
      for (const t of [0, 1]) {
        const res = await served(h, t);
        expect([minutes, t, res.line.stsCalls, res.line.poolsOpened]).toEqual([minutes, t, 0, 0]);
      }
    }
    expect(tokensOf(0)).toHaveLength(1);
    // IAM refuses the expired credentials from now on; the connection dies.
    writeFileSync(path.join(iamState, 'revoked-keys'), `${first.key}\n`);
    const [{ id }] = await db.sql<Array<{ id: number }>>("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = 'iam_0'");
    await db.sql('KILL CONNECTION ?', [id]);
    await sleep(50);

    const res = await served(h, 0);
    expect([res.line.stsCalls, count(res.line, 'LoginFailures')]).toEqual([1, 0]);
    expect(tokensOf(0).map((s) => s.decision)).toEqual(['accepted', 'accepted']);
    expect(tokensOf(0)[1].key).not.toBe(first.key);
    // The other tenant's open connection was never touched.
    const other = await served(h, 1);
    expect([other.line.stsCalls, other.line.poolsOpened]).toEqual([0, 0]);
  });
});

describe('connections', () => {
  test('every pool busy at the bound: a request waits while it could still connect, then 503 (saturated, PoolsRefused); a waiter is served when a pool frees; the bound holds', async () => {
    const h = start(env({ ...PASSWORD_ENV, TENANT_MAX_CONNECTIONS: '1', DB_CONNECT_TIMEOUT_MS: '300' }));
    const locker = await masterConnection();
    let peak = 0;
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        const rows = await db.sql<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER LIKE 'tenant\\_%'");
        peak = Math.max(peak, Number(rows[0].n));
      }
    })();
    try {
      await locker.query('LOCK TABLES tenant_0.items WRITE');
      const a = h.get(0, { remainingMs: 6000 });
      await until('tenant 0 blocked by the lock', async () => (await db.sql<unknown[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'tenant_0' AND INFO LIKE 'SELECT%'")).length > 0);

      // Budget 600 ms, less a connect (300 ms): it waits 300 ms for the one pool, then gives up.
      const refused = await retryLater(h, 1, { remainingMs: 1600 });
      expect(refused.line).toMatchObject({ dbUnavailable: 'saturated', errorCode: 'TENANT_POOLS_BUSY' });
      expect([count(refused.line, 'PoolsRefused'), count(refused.line, 'DbUnavailableSaturated')]).toEqual([1, 1]);
      expect(refused.line.latencyMs).toBeGreaterThanOrEqual(250);

      const waiter = h.get(2, { remainingMs: 6000 });
      await sleep(100);
      await locker.query('UNLOCK TABLES');
      const [blocked, waited] = await Promise.all([a, waiter]);
      for (const [t, res] of [[0, blocked], [2, waited]] as const) {
        expect([t, res.statusCode]).toEqual([t, 200]);
        for (const item of res.json.items) expect(item.c1).toBe(t);
      }
      expect([count(waited.line, 'PoolsEvicted'), count(waited.line, 'PoolsOpened')]).toEqual([1, 1]);
      await served(h, 1);
    } finally {
      sampling.on = false;
      await sampler;
      await locker.end();
    }
    expect(peak).toBe(1);
  });

  test('the database saturated (the tenant user at its connection limit): 503 at once, one connection attempt, no retry; other tenants served; served once a connection frees', async () => {
    await db.sql("ALTER USER 'tenant_3'@'%' WITH MAX_USER_CONNECTIONS 1");
    const holder = await createConnection({ host: db.host, port: db.port, user: 'tenant_3', password: PASSWORD });
    try {
      const h = start(env({ ...PASSWORD_ENV, TENANT_MAX_CONNECTIONS: '5' }));
      const before = await db.globalStatus('Connections');
      const res = await retryLater(h, 3);
      expect((await db.globalStatus('Connections')) - before).toBe(1);
      expect(res.line).toMatchObject({ dbUnavailable: 'saturated', errorCode: 'ER_USER_LIMIT_REACHED' });
      expect(count(res.line, 'DbUnavailableSaturated')).toBe(1);
      await served(h, 4);
      await holder.end();
      // The server counts the holder until it has processed its disconnect.
      await until('the holder to disconnect', async () => (await connectionsOf('tenant_3')) === 0);
      await served(h, 3);
    } finally {
      await holder.end().catch(() => undefined);
      await db.sql("ALTER USER 'tenant_3'@'%' WITH MAX_USER_CONNECTIONS 0");
    }
  });

  test('concurrent first requests for one tenant log in once and share its one connection', async () => {
    const h = start(env({ ...PASSWORD_ENV, TENANT_MAX_CONNECTIONS: '5' }));
    const before = await db.globalStatus('Connections');
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.get(4)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    expect((await db.globalStatus('Connections')) - before).toBe(1);
    expect(await connectionsOf('tenant_4')).toBe(1);
  });
});

describe('the deadline', () => {
  test('a statement blocked past the request budget: abandoned (its connection destroyed) and answered 503 before the invocation ends; other tenants served meanwhile; served once the table frees', async () => {
    const h = start(env({ ...PASSWORD_ENV, TENANT_MAX_CONNECTIONS: '3' }));
    await served(h, 1);
    const locker = await masterConnection();
    try {
      await locker.query('LOCK TABLES tenant_1.items WRITE');
      // 1.5 s left in the invocation: 0.5 s of budget after the margin.
      const blocked = retryLater(h, 1, { remainingMs: 1500 });
      await served(h, 0);
      const res = await blocked;
      expect(res.line).toMatchObject({ dbUnavailable: 'deadline', errorCode: 'DB_DEADLINE_EXCEEDED' });
      expect(count(res.line, 'DbUnavailableDeadline')).toBe(1);
      expect(res.line.latencyMs).toBeGreaterThanOrEqual(450);
      expect(res.line.latencyMs).toBeLessThan(1500);
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    // The abandoned connection is gone from the server once its statement ends.
    await until('the abandoned connection to close', async () => (await connectionsOf('tenant_1')) === 0);
    await served(h, 1, { remainingMs: 3000 });
  });

  test('STS slower than the request budget: 503 at the deadline, tenants with cached credentials served meanwhile; the late answer and its pool serve the next request', async () => {
    const h = start(env({ TENANT_MAX_CONNECTIONS: '5' }), { adaptLogin: passwordAtTheEnd });
    await served(h, 0);
    const connections = await db.globalStatus('Connections');
    sts.delayMs = 1500;
    const slow = retryLater(h, 1, { remainingMs: 1500 });
    await served(h, 0);
    const res = await slow;
    expect(res.line).toMatchObject({ dbUnavailable: 'deadline', stsCalls: 1 });
    expect(res.line.latencyMs).toBeLessThan(1500);
    sts.delayMs = 0;
    await until('the late AssumeRole answer', async () => sts.calls.length === 2);
    await sleep(200); // whatever the late login goes on to do, it has done
    const next = await served(h, 1);
    expect(next.line.stsCalls).toBe(0);
    // One connection for tenant 1 in all: the late login connected for nobody, and closed nothing under the next request.
    expect((await db.globalStatus('Connections')) - connections).toBe(1);
  });
});
