/**
 * Throw-away local services for tests, benchmarks and `npm run local`: a real MariaDB (own data
 * directory from `mariadb-install-db`, loopback TCP port, socket inside the temp dir) and a real
 * memcached, each on a free 127.0.0.1 port. Everything lives under one mkdtemp directory that
 * `destroy()` removes. Needs the Debian packages `mariadb-server` and `memcached` (and `openssl`
 * for test certificates).
 */
import { execFile, spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { createConnection, type Connection } from 'mysql2/promise';
import { MIGRATIONS } from '../functions/migrate/migrations';
import { migrateAndReconcile, type AppUserReport } from '../functions/migrate/app-user';
import { passwordAuth, runMigrations, type AuthClause, type Migration, type MigrationResult } from '../functions/migrate/runner';
import { provisionTenants } from '../functions/migrate/tenants';
import { DEFAULT_TENANT_PREFIX } from '../contracts';

const run = promisify(execFile);

/** Absolute path of a server binary: Debian puts mariadbd in /usr/sbin, which a non-root PATH lacks. */
export function binary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(`${name} not found: install Debian's mariadb-server and memcached (bash .ci/run does it when missing)`);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Takes charge of the processes the services start, so they cannot outlive their starter
 * (scripts/lifetime-guard.ts, for local mode). With a guard, each process (mariadb-install-db,
 * mariadbd, memcached) starts as the leader of its own process group: the guard can then end
 * everything it started (install-db's bootstrap server included), and a terminal's Ctrl-C reaches
 * only the starter, which stops them in order. Without one (tests), they share the caller's group.
 */
export interface ProcessGuard {
  /** Called right after a process group leader is spawned. */
  adopt(child: ChildProcess): void;
}
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p) return;
  p.kill('SIGTERM');
  if (!(await waitExit(p, 15000))) {
    p.kill('SIGKILL');
    await waitExit(p, 5000);
  }
  live.delete(p);
}

/** Runs a command to its end, keeping the tail of its output for the error; with a guard, as its own process group. */
function runToCompletion(file: string, args: readonly string[], guard?: ProcessGuard): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: Boolean(guard) });
    guard?.adopt(child);
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} ended with ${code ?? signal}: ${output.trim()}`))));
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl)

export interface TestCerts {
  dir: string;
  /** CA that signed the server certificate. */
  caFile: string;
  /** A CA that signed nothing the server presents. */
  otherCaFile: string;
  /** Server certificate for DNS:localhost and IP:127.0.0.1. */
  certFile: string;
  keyFile: string;
  /** Same CA, but for another name (DNS:db.elsewhere.test): a wrong host name for "localhost". */
  wrongNameCertFile: string;
  wrongNameKeyFile: string;
}

export async function makeCerts(dir: string): Promise<TestCerts> {
  const f = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=hits test CA']);
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('other-ca.key'), '-out', f('other-ca.pem'), '-days', '2', '-subj', '/CN=unrelated CA']);
  for (const [name, san] of [
    ['server', 'DNS:localhost,IP:127.0.0.1'],
    ['wrong-name', 'DNS:db.elsewhere.test'],
  ]) {
    await run('openssl', ['req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${san.split(',')[0].slice(4)}`]);
    writeFileSync(f(`${name}.cnf`), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.cnf`)]);
  }
  return {
    dir,
    caFile: f('ca.pem'),
    otherCaFile: f('other-ca.pem'),
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    wrongNameCertFile: f('wrong-name.pem'),
    wrongNameKeyFile: f('wrong-name.key'),
  };
}

// ---------------------------------------------------------------------------------------------
// MariaDB

export interface MariaDbOptions {
  /** Server certificate and key (and the CA clients use); enables TLS on the server. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** Load auth_pam with clear-text passwords, so PAM users get mysql_clear_password (like RDS Proxy IAM auth). */
  pam?: boolean;
  /** Directory for all of the server's files, which the caller removes; default: a new temp dir removed by destroy(). */
  dir?: string;
  /** Takes charge of the server's processes (default: none; they die with this process's normal exit). */
  guard?: ProcessGuard;
}

export class MariaDb {
  readonly host = '127.0.0.1';
  private proc?: ChildProcess;
  private adminConn?: Connection;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: MariaDbOptions,
  ) {}

  get socket(): string {
    return path.join(this.dir, 'mysqld.sock');
  }

  static async start(options: MariaDbOptions = {}): Promise<MariaDb> {
    const dir = options.dir ?? tempDir('hits-mariadb-');
    const datadir = path.join(dir, 'data');
    // A private tmpdir: servers bootstrapping in parallel (jest workers) clash over temporary
    // tables in a shared /tmp ("Unknown table 'mysql.tmp_proxies_priv'").
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const args = ['--no-defaults', `--datadir=${datadir}`, `--tmpdir=${tmp}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'];
    if (isRoot) args.push('--user=root');
    try {
      await runToCompletion(binary('mariadb-install-db'), args, options.guard);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mariadb-install-db failed (is the Debian package mariadb-server installed?): ${(err as Error).message}`);
    }
    const db = new MariaDb(dir, await freePort(), options);
    try {
      await db.start();
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return db;
  }

  /** Starts (or restarts, on the same port and data) the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const o = this.options;
    const args = [
      '--no-defaults',
      `--datadir=${path.join(this.dir, 'data')}`,
      `--tmpdir=${path.join(this.dir, 'tmp')}`,
      `--socket=${this.socket}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
      `--log-error=${path.join(this.dir, 'error.log')}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=100',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
    ];
    if (isRoot) args.push('--user=root');
    if (o.tls) args.push(`--ssl-ca=${o.tls.caFile}`, `--ssl-cert=${o.tls.certFile}`, `--ssl-key=${o.tls.keyFile}`);
    if (o.pam) args.push('--plugin-load-add=auth_pam.so', '--pam-use-cleartext-plugin=ON');
    const proc = spawn(binary('mariadbd'), args, { stdio: 'ignore', detached: Boolean(o.guard) });
    o.guard?.adopt(proc);
    live.add(proc);
    this.proc = proc;
    const deadline = Date.now() + 30000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`mariadbd exited (${proc.exitCode ?? proc.signalCode}):\n${this.errorLog().slice(-2000)}`);
      }
      try {
        const c = await createConnection({ socketPath: this.socket, user: 'root' });
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not start in 30 s:\n${this.errorLog().slice(-2000)}`);
        await sleep(100);
      }
    }
  }

  errorLog(): string {
    try {
      return readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Root over the unix socket (not through TCP): for setup and observation in tests. */
  async admin(): Promise<Connection> {
    if (!this.adminConn) {
      this.adminConn = await createConnection({ socketPath: this.socket, user: 'root', multipleStatements: false, dateStrings: true });
      this.adminConn.on('error', () => (this.adminConn = undefined));
    }
    return this.adminConn;
  }

  async sql<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    const [rows] = await (await this.admin()).query(sql, params);
    return rows as T;
  }

  /** Creates a database and a password user allowed from 127.0.0.1 (optionally requiring TLS). */
  async createUser(user: string, password: string, database: string, requireSsl = false): Promise<void> {
    await this.sql(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
    await this.sql(`CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ?${requireSsl ? ' REQUIRE SSL' : ''}`, [user, password]);
    await this.sql(`GRANT ALL ON \`${database}\`.* TO ?@'127.0.0.1'`, [user]);
  }

  async globalStatus(name: string): Promise<number> {
    const rows = await this.sql<Array<{ Value: string }>>('SHOW GLOBAL STATUS LIKE ?', [name]);
    return Number(rows[0]?.Value ?? NaN);
  }

  /** Stops the server (SIGTERM, clean shutdown). */
  async stop(): Promise<void> {
    const c = this.adminConn;
    this.adminConn = undefined;
    await c?.end().catch(() => undefined);
    await stopProcess(this.proc);
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (!this.options.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Migrations, as the deploy does them: as a master user like RDS's, creating the application user.

export interface LocalMigration {
  readonly result: MigrationResult;
  /** The application user's reconcile, as a deploy reports it (absent when `migrations` was empty: no hits table to grant on). */
  readonly appUser?: AppUserReport;
  /** The function's database environment as the application user (`password` mode, DB_TLS=off: local only). */
  readonly env: Record<string, string>;
  readonly master: { user: string; password: string };
}

export interface LocalMigrationOptions {
  readonly database?: string;
  readonly appUser?: string;
  readonly appPassword?: string;
  /** @default passwordAuth(appPassword) */
  readonly appAuth?: AuthClause;
  /** @default the project's migrations */
  readonly migrations?: readonly Migration[];
}

/**
 * Creates the database and a master user with RDS's master privileges (everything, with GRANT OPTION),
 * then runs what a deploy runs as that user over TCP: the migrations and the application user's reconcile,
 * the user getting a password (MariaDB has no AWSAuthenticationPlugin). Returns the function's
 * environment as the application user. With `migrations: []`, only the database, the master user and
 * `schema_migrations` exist afterwards.
 */
export async function migrateLocalDatabase(db: MariaDb, options: LocalMigrationOptions = {}): Promise<LocalMigration> {
  const database = options.database ?? 'hits';
  const appUser = options.appUser ?? 'hits_app';
  const appPassword = options.appPassword ?? 'local-app-password';
  const master = { user: 'hits_admin', password: 'local-master-password' };
  await db.sql(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  await db.sql("CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ?", [master.user, master.password]);
  await db.sql("GRANT ALL ON *.* TO ?@'127.0.0.1' WITH GRANT OPTION", [master.user]);
  const conn = await createConnection({ host: db.host, port: db.port, user: master.user, password: master.password, database });
  try {
    const run = {
      migrations: options.migrations ?? MIGRATIONS,
      database,
      appUser,
      appHost: '%',
      appAuth: options.appAuth ?? passwordAuth(appPassword),
    };
    const env = { DB_HOST: db.host, DB_PORT: String(db.port), DB_NAME: database, DB_USER: appUser, DB_AUTH: 'password', DB_PASSWORD: appPassword, DB_TLS: 'off' };
    if (run.migrations.length === 0) return { result: await runMigrations(conn, run), env, master };
    const { appUser: report, ...result } = await migrateAndReconcile(conn, run);
    return { result, appUser: report, env, master };
  } finally {
    await conn.end();
  }
}

export interface LocalTenants {
  readonly count: number;
  readonly provisioned: readonly number[];
  /** The tenants function's environment (`password` mode, DB_TLS=off: local only), beside the hits one. */
  readonly env: Record<string, string>;
}

/**
 * Provisions `count` tenants as the deploy-time migration does (functions/migrate/tenants.ts), as the
 * master user `migrateLocalDatabase` created, the tenant users getting a password instead of the IAM
 * clause. Returns the `tenants` function's environment for them.
 */
export async function provisionLocalTenants(
  db: MariaDb,
  master: { user: string; password: string },
  options: { count?: number; rowsPerTenant?: number; prefix?: string; password?: string } = {},
): Promise<LocalTenants> {
  const count = options.count ?? 3;
  const prefix = options.prefix ?? DEFAULT_TENANT_PREFIX;
  const password = options.password ?? 'local-tenant-password';
  const conn = await createConnection({ host: db.host, port: db.port, user: master.user, password: master.password });
  try {
    const done = await provisionTenants(conn, { count, prefix, rowsPerTenant: options.rowsPerTenant ?? 1000, auth: passwordAuth(password) });
    return {
      count,
      provisioned: done.provisioned,
      env: { TENANT_COUNT: String(count), TENANT_PREFIX: prefix, TENANT_AUTH: 'password', TENANT_PASSWORD: password, DB_HOST: db.host, DB_PORT: String(db.port), DB_TLS: 'off' },
    };
  } finally {
    await conn.end();
  }
}

// ---------------------------------------------------------------------------------------------
// memcached

export class Memcached {
  readonly host = '127.0.0.1';
  private proc?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly tls?: { certFile: string; keyFile: string },
    private readonly guard?: ProcessGuard,
  ) {}

  get node(): string {
    return `${this.host}:${this.port}`;
  }

  /** `guard`: takes charge of the server's process (default: none). */
  static async start(tls?: { certFile: string; keyFile: string }, guard?: ProcessGuard): Promise<Memcached> {
    const m = new Memcached(await freePort(), tls, guard);
    await m.start();
    return m;
  }

  async start(): Promise<void> {
    const args = ['-l', `127.0.0.1`, '-p', String(this.port), '-U', '0', '-m', '16', '-c', '256'];
    if (isRoot) args.push('-u', 'root');
    if (this.tls) args.push('-Z', '-o', `ssl_chain_cert=${this.tls.certFile},ssl_key=${this.tls.keyFile}`);
    const proc = spawn(binary('memcached'), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: Boolean(this.guard) });
    this.guard?.adopt(proc);
    let stderr = '';
    proc.stderr?.on('data', (d) => (stderr += d));
    live.add(proc);
    this.proc = proc;
    const deadline = Date.now() + 10000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`memcached exited (${proc.exitCode}): ${stderr}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: this.port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`memcached did not start: ${stderr}`);
      await sleep(50);
    }
  }

  /** Empties the cache (`flush_all`). */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port }, () => s.write('flush_all\r\n'));
      s.on('data', (d) => {
        s.destroy();
        if (d.toString().startsWith('OK')) resolve();
        else reject(new Error(`flush_all: ${d.toString()}`));
      });
      s.on('error', reject);
    });
  }

  /** One counter of the server's `stats` (e.g. `cmd_set`, `get_hits`): what tests observe the cache by. */
  stat(name: string): Promise<number> {
    return new Promise((resolve, reject) => {
      let reply = '';
      const s = net.connect({ host: this.host, port: this.port }, () => s.write('stats\r\n'));
      s.on('data', (d) => {
        reply += d.toString();
        if (!reply.endsWith('END\r\n')) return;
        s.destroy();
        const line = reply.split('\r\n').find((l) => l.startsWith(`STAT ${name} `));
        if (line) resolve(Number(line.slice(`STAT ${name} `.length)));
        else reject(new Error(`memcached has no stat ${name}`));
      });
      s.on('error', reject);
    });
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The usual pair, for local mode and benchmarks (the schema and the login come from migrateLocalDatabase).

export interface LocalServices {
  db: MariaDb;
  cache: Memcached;
  /**
   * Where the function finds the services (`password` / `DB_TLS=off` mode, local only), without a login:
   * `migrateLocalDatabase` creates the schema and the application user and gives DB_USER and DB_PASSWORD,
   * as a deploy's migration does.
   */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface LocalServicesOptions {
  /** Directory for MariaDB's files, which the caller removes; default: a new temp dir, removed by stop(). */
  dir?: string;
  /** Takes charge of every process started (default: none; see ProcessGuard). */
  guard?: ProcessGuard;
}

/** Starts both servers; if either fails, the other is stopped before the error is thrown. */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const [dbStarted, cacheStarted] = await Promise.allSettled([MariaDb.start({ dir: options.dir, guard: options.guard }), Memcached.start(undefined, options.guard)]);
  if (dbStarted.status === 'rejected' || cacheStarted.status === 'rejected') {
    await Promise.all([dbStarted.status === 'fulfilled' && dbStarted.value.destroy(), cacheStarted.status === 'fulfilled' && cacheStarted.value.stop()]);
    throw dbStarted.status === 'rejected' ? dbStarted.reason : (cacheStarted as PromiseRejectedResult).reason;
  }
  const [db, cache] = [dbStarted.value, cacheStarted.value];
  return {
    db,
    cache,
    env: {
      DB_HOST: db.host,
      DB_PORT: String(db.port),
      DB_NAME: 'hits',
      DB_AUTH: 'password',
      DB_TLS: 'off',
      CACHE_NODES: cache.node,
      CACHE_TTL_SECONDS: '5',
    },
    async stop() {
      await Promise.all([db.destroy(), cache.stop()]);
    },
  };
}
