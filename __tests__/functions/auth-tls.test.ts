/**
 * TLS verification and the `secret` / `iam` auth modes against a real MariaDB started with a
 * certificate from a CA this test generates, a real memcached with TLS, a local endpoint that
 * speaks the Secrets Manager JSON protocol (the real SDK client talks to it), and MariaDB's PAM
 * plugin asking for mysql_clear_password the way RDS Proxy does for IAM auth.
 */
import { rmSync, writeFileSync, chmodSync, readFileSync, existsSync } from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Signer } from '@aws-sdk/rds-signer';
import { loadConfig, ConfigError } from '../../functions/lib/config';
import { pamAuth } from '../../functions/migrate/runner';
import { MariaDb, Memcached, makeCerts, migrateLocalDatabase, tempDir, type TestCerts } from '../../scripts/services';
import { asEntryPoint, closeApps, makeApp, sleep } from '../support/hits';
import { canWritePam, iamTest, installPamService } from '../support/pam';

const FAKE_AWS = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLEHITSTEST', AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hits-db-AbCdEf';

let dir: string;
let certs: TestCerts;
let db: MariaDb;
let mc: Memcached;
let base: Record<string, string>;
const savedEnv = { ...process.env };

// PAM: the server asks the client for a clear-text password and hands it to this service, whose
// pam_exec script logs the token and accepts it when it has the shape of an RDS IAM token.
const pamService = `hits-iam-test-${process.pid}`;
let removePamService = () => undefined as void;
let pamAvailable = false;
let tokenLog: string;

// Local Secrets Manager endpoint (JSON 1.1 protocol, GetSecretValue only).
let secretServer: http.Server;
let secretPassword = 'secret-password-1';
const secretRequests: Array<{ target: string; auth: string; body: { SecretId?: string } }> = [];

beforeAll(async () => {
  dir = tempDir('hits-auth-');
  certs = await makeCerts(dir);
  pamAvailable = canWritePam();
  tokenLog = path.join(dir, 'tokens.log');
  if (pamAvailable) {
    const script = path.join(dir, 'check-token.sh');
    writeFileSync(
      script,
      `#!/bin/sh
tok=$(tr -d '\\000')
printf '%s\\n' "$tok" >> '${tokenLog}'
case "$tok" in
  localhost:*'/?Action=connect&DBUser=hits_iam&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLEHITSTEST%2F'*'X-Amz-Signature='*) exit 0 ;;
esac
exit 1
`,
    );
    chmodSync(script, 0o755);
    removePamService = installPamService(pamService, script);
  }
  [db, mc] = await Promise.all([
    MariaDb.start({ dir: path.join(dir), tls: certs, pam: pamAvailable }),
    Memcached.start({ certFile: certs.certFile, keyFile: certs.keyFile }),
  ]);
  // The schema from the real migrations. The IAM stand-in is the application user they create, with PAM
  // in place of AWSAuthenticationPlugin as its authentication clause (and so only the app user's grants).
  await migrateLocalDatabase(db, pamAvailable ? { appUser: 'hits_iam', appAuth: pamAuth(pamService) } : {});
  await db.createUser('hits_tls', 'tls-password', 'hits', true);
  await db.createUser('hits_secret', secretPassword, 'hits', true);
  base = { DB_HOST: 'localhost', DB_PORT: String(db.port), DB_NAME: 'hits', DB_TLS: 'verify', DB_CA_FILE: certs.caFile };

  secretServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}');
      secretRequests.push({ target: String(req.headers['x-amz-target']), auth: String(req.headers.authorization), body: parsed });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || parsed.SecretId !== SECRET_ARN) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
        return;
      }
      res.end(
        JSON.stringify({
          ARN: SECRET_ARN,
          Name: 'hits-db',
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
          SecretString: JSON.stringify({ username: 'hits_secret', password: secretPassword, engine: 'mysql', port: db.port }),
        }),
      );
    });
  });
  await new Promise<void>((r) => secretServer.listen(0, '127.0.0.1', r));
  Object.assign(process.env, FAKE_AWS, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretServer.address() as { port: number }).port}`,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
  });
});

afterEach(closeApps);

afterAll(async () => {
  process.env = savedEnv;
  await new Promise((r) => secretServer?.close(r));
  await Promise.all([db?.stop(), mc?.stop()]);
  removePamService();
  rmSync(dir, { recursive: true, force: true });
});

const hitsConnection = async (user: string) =>
  (await db.sql<Array<{ id: number }>>('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [user]))[0]?.id;

describe('TLS verify', () => {
  const tlsEnv = () => ({ ...base, DB_AUTH: 'password', DB_USER: 'hits_tls', DB_PASSWORD: 'tls-password' });

  test('connects when the certificate chains to DB_CA_FILE and names the host', async () => {
    const app = makeApp(tlsEnv());
    const r = await app.call('GET', '/over-tls');
    expect(r.statusCode).toBe(200);
    // The server saw an encrypted session for this user (it REQUIREs SSL anyway).
    const id = await hitsConnection('hits_tls');
    expect(id).toBeDefined();
  });

  test('refuses a certificate from the right CA for another host name: 503', async () => {
    // Swap the server's certificate files and reload them (FLUSH SSL), then put them back.
    const { copyFileSync } = await import('fs');
    const keep = { cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) };
    copyFileSync(certs.wrongNameCertFile, certs.certFile);
    copyFileSync(certs.wrongNameKeyFile, certs.keyFile);
    await db.sql('FLUSH SSL');
    try {
      const app = makeApp(tlsEnv());
      const r = await app.call('GET', '/wrong-name');
      expect(r.statusCode).toBe(503);
      expect(String(app.logs.find((l) => l.msg === 'request')?.error)).toMatch(/altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      writeFileSync(certs.certFile, keep.cert);
      writeFileSync(certs.keyFile, keep.key);
      await db.sql('FLUSH SSL');
    }
    expect((await makeApp(tlsEnv()).call('GET', '/right-name-again')).statusCode).toBe(200);
  });

  test.each([
    ['an unknown CA', { DB_CA_FILE: '@other' }, /^HANDSHAKE_SSL_ERROR .*(self-signed certificate|unable to verify|unable to get)/],
    ['no CA bundle (system roots only)', { DB_CA_FILE: '' }, /^HANDSHAKE_SSL_ERROR .*(self-signed certificate|unable to verify|unable to get)/],
  ])('refuses %s: 503, nothing sent in clear', async (_name, override, code) => {
    const env = { ...tlsEnv(), ...override };
    if (env.DB_CA_FILE === '@other') env.DB_CA_FILE = certs.otherCaFile;
    const app = makeApp(env);
    const r = await app.call('GET', '/should-not-be-stored');
    expect(r.statusCode).toBe(503);
    const line = app.logs.find((l) => l.msg === 'request');
    expect(`${line?.errorCode} ${line?.error}`).toMatch(code);
    expect(await hitsConnection('hits_tls')).toBeUndefined();
  });

  test('memcached over TLS (CACHE_TLS=true) serves cached listings; without trusting its CA the cache is bypassed', async () => {
    await mc.flush().catch(() => undefined); // plain-text flush fails on a TLS-only listener; harmless
    // The longest cache budget the function allows (200 ms): a TLS handshake has the same budget as any
    // cache call, and on a loaded machine the first ones can miss it (the request then goes on to the
    // database, by design). A hit proves the TLS round trip; the attempts only absorb the machine's load.
    const app = makeApp({ ...tlsEnv(), CACHE_NODES: mc.node, CACHE_TLS: 'true', CACHE_TIMEOUT_MS: '200' });
    const outcomes: string[] = [];
    for (let i = 0; i < 20 && !outcomes.includes('hit'); i++) outcomes.push((await app.call('GET', '/_/hits')).json.cache);
    expect(outcomes[0]).toBe('miss');
    expect(outcomes).toContain('hit');
    expect((await app.call('GET', '/_/health')).json.cache).toBe('ok');

    const untrusting = makeApp({ ...tlsEnv(), CACHE_NODES: mc.node, CACHE_TLS: 'true' });
    // Same nodes, but the cache client must not trust a CA it was not given.
    (untrusting.cache as unknown as { conns: Map<string, { ca?: string }> }).conns.forEach((c) => (c.ca = undefined));
    const r = await untrusting.call('GET', '/_/hits');
    expect(r.statusCode).toBe(200);
    expect(r.json.cache).toBe('miss');
    expect((await untrusting.call('GET', '/_/health')).json.cache).toBe('degraded');
  });
});

describe('secret mode', () => {
  test('fetches the secret once for many invocations and new connections, via the real SDK client', async () => {
    const before = secretRequests.length;
    const app = makeApp({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: SECRET_ARN, DB_USER: '' });
    for (let i = 0; i < 5; i++) expect((await app.call('GET', `/secret/${i}`)).statusCode).toBe(200);
    await db.sql('KILL CONNECTION ?', [await hitsConnection('hits_secret')]);
    await sleep(50);
    for (let i = 5; i < 10; i++) expect((await app.call('GET', `/secret/${i}`)).statusCode).toBe(200);
    const mine = secretRequests.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0].target).toBe('secretsmanager.GetSecretValue');
    expect(mine[0].auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEHITSTEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(app.db.secretFetches).toBe(1);
  });

  test('after a rotation the next new connection is denied, the secret is fetched again and the request succeeds', async () => {
    const app = makeApp({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: SECRET_ARN });
    expect((await app.call('GET', '/before-rotation')).statusCode).toBe(200);
    const before = secretRequests.length;
    secretPassword = 'secret-password-2';
    await db.sql("ALTER USER 'hits_secret'@'127.0.0.1' IDENTIFIED BY ?", [secretPassword]);
    await db.sql('KILL CONNECTION ?', [await hitsConnection('hits_secret')]);
    await sleep(50);
    expect((await app.call('GET', '/after-rotation')).statusCode).toBe(200);
    expect(secretRequests.length - before).toBe(1);
  });

  test('a secret the server keeps refusing gives 500 after one refetch, not 503', async () => {
    const app = makeApp({ ...base, DB_AUTH: 'secret', DB_SECRET_ARN: SECRET_ARN });
    await db.sql("ALTER USER 'hits_secret'@'127.0.0.1' IDENTIFIED BY 'not-what-the-secret-says'");
    try {
      const before = secretRequests.length;
      const r = await app.call('GET', '/stale-secret');
      expect(r.statusCode).toBe(500);
      expect(r.headers['retry-after']).toBeUndefined();
      expect(secretRequests.length - before).toBe(2); // fetched, refused, fetched again, refused
      expect(app.db.attempts).toBe(2);
      expect(app.logs.find((l) => l.msg === 'database refused the credentials')).toMatchObject({ auth: 'secret', errorCode: 'ER_ACCESS_DENIED_ERROR' });
      expect(JSON.stringify(app.logs)).not.toContain(secretPassword);
    } finally {
      await db.sql("ALTER USER 'hits_secret'@'127.0.0.1' IDENTIFIED BY ?", [secretPassword]);
    }
  });
});

describe('iam mode', () => {
  test('DB_AUTH=iam with DB_TLS=off is a configuration error, naming DB_TLS, before anything connects', async () => {
    const env = { ...base, ...FAKE_AWS, DB_AUTH: 'iam', DB_USER: 'hits_iam', DB_TLS: 'off' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/DB_TLS.*iam.*clear/i);
    const connections = await db.globalStatus('Connections');
    // The Lambda entry point refuses to initialise with it, and logs why.
    const { lines } = await asEntryPoint(env, () =>
      jest.isolateModules(() => {
        expect(() => require('../../functions/hits/handler')).toThrow(/DB_TLS/);
      }),
    );
    expect(JSON.parse(lines.find((l) => l.includes('invalid configuration'))!)).toMatchObject({ level: 'error', variable: 'DB_TLS' });
    expect(await db.globalStatus('Connections')).toBe(connections);
  });

  iamTest('mints one RDS IAM token per new connection and sends it with mysql_clear_password over TLS', async () => {
    if (existsSync(tokenLog)) rmSync(tokenLog);
    const app = makeApp({ ...base, ...FAKE_AWS, DB_AUTH: 'iam', DB_USER: 'hits_iam' });
    for (let i = 0; i < 3; i++) expect((await app.call('GET', `/iam/${i}`)).statusCode).toBe(200);
    expect(app.db.tokensMinted).toBe(1);
    await sleep(1100); // the next token carries another X-Amz-Date
    await db.sql('KILL CONNECTION ?', [await hitsConnection('hits_iam')]);
    await sleep(50);
    expect((await app.call('GET', '/iam/after-kill')).statusCode).toBe(200);
    expect(app.db.tokensMinted).toBe(2);

    const tokens = readFileSync(tokenLog, 'utf8').trim().split('\n');
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    // Each token the server received is exactly what the signer produces with these credentials at its date.
    for (const token of tokens) {
      const date = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(token)![1];
      const at = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
      jest.useFakeTimers({ now: at, doNotFake: ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
      try {
        const expected = await new Signer({
          hostname: 'localhost',
          port: db.port,
          username: 'hits_iam',
          region: FAKE_AWS.AWS_REGION,
          credentials: { accessKeyId: FAKE_AWS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS.AWS_SECRET_ACCESS_KEY },
        }).getAuthToken();
        expect(token).toBe(expected);
      } finally {
        jest.useRealTimers();
      }
      expect(token).toMatch(/X-Amz-Expires=900/);
    }
  });

  iamTest('a token the server rejects twice (the second one fresh) gives 500 with a request id, not 503', async () => {
    // E.g. the function's role lacks rds-db:connect: retrying later will not help, so no Retry-After.
    const app = makeApp({ ...base, ...FAKE_AWS, DB_AUTH: 'iam', DB_USER: 'hits_iam' }, { db: { mintToken: async () => 'not-a-token' } });
    const r = await app.call('GET', '/iam/denied');
    expect(r.statusCode).toBe(500);
    expect(r.headers['retry-after']).toBeUndefined();
    expect(r.json).toEqual({ error: 'internal error', requestId: r.headers['x-request-id'] });
    expect(app.db.tokensMinted).toBe(2);
    expect(app.logs.find((l) => l.msg === 'database refused the credentials')).toMatchObject({ level: 'error', auth: 'iam', user: 'hits_iam', errorCode: 'ER_ACCESS_DENIED_ERROR' });
    expect(app.logs.find((l) => l.msg === 'request')).toMatchObject({ status: 500, errorCode: 'ER_ACCESS_DENIED_ERROR' });
    const health = await app.call('GET', '/_/health');
    expect(health.statusCode).toBe(500);
    expect(health.json).toMatchObject({ status: 'down', db: 'error' });
  });
});
