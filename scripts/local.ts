/**
 * Local mode (`npm run local`): serves the `hits` function at http://127.0.0.1:<PORT>/ (default
 * 3000) against a throw-away MariaDB and memcached, bundled exactly as the stacks bundle it, each
 * HTTP request turned into an API Gateway payload 2.0 event. Local only: DB_AUTH=password, DB_TLS=off.
 * Beside it, as the HTTP API routes it, the `tenants` function serves `GET /tenants/{tenantId}/items`
 * for LOCAL_TENANTS tenants (default 3; 0 turns the route off) provisioned as a deploy does, their users
 * logging in with a password (TENANT_AUTH=password, DB_TLS=off: local only).
 *
 * Arms, for the A/B load test (`npm run load -- --arm <name>=<url> ...`): LOCAL_ARMS=proxy,direct serves
 * 1 to 4 named arms, each on its own port (the first on PORT, the next on PORT+1 and so on; with PORT=0
 * each on any free port), each with its own instances of both functions (their own connection pools and
 * cache clients, as two deployed functions have), all over the same MariaDB and memcached. It prints one
 * `arm <name>=<url>` line per arm, and a `npm run load` command that fits them (LOCAL_LOAD: tenants
 * provisioned, seconds, one arm after another). Locally every arm runs the same code with no RDS Proxy in front, so
 * local load figures test the load harness, not the proxy; it says so. Without LOCAL_ARMS: one unnamed
 * arm on PORT, as before.
 *
 * Nothing outlives it, whatever ends it (docs/local-development.md, "Local mode"; every path is tested in __tests__/local/):
 * - a port busy or invalid: one line naming PORT= (and, with arms, the arm and its port), exit 1,
 *   nothing started. Every arm's port is bound first, so nothing is started for a port that turns out
 *   busy, and nobody can take one meanwhile. LOCAL_ARMS or LOCAL_TENANTS invalid: one line naming it.
 * - a startup failure: the error, then everything started so far is ended and removed, exit 1.
 * - SIGINT (Ctrl-C), SIGTERM, SIGHUP, also while starting: clean stop, exit 0. `npm run local`
 *   execs this script, so the SIGINT/SIGTERM that npm 11 forwards to its child and then waits for
 *   (@npmcli/run-script lib/signal-manager.js) reach it; a `sh -c` in between would die on SIGTERM
 *   and leave this script running.
 * - its parent dies without passing a signal on (e.g. npm is SIGKILLed): noticed within half a
 *   second (the parent pid changes), clean stop.
 * - nobody reads its output any more (`npm run local | head -1`, a test runner killed while npm lives
 *   on): the next line it writes fails (EPIPE), and it stops cleanly, writing nothing more.
 * - this process is SIGKILLed or crashes: the watchdog (scripts/lifetime-guard.ts) ends the
 *   services and removes the temporary directory.
 */
import { randomUUID } from 'crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import type { HttpEvent, HttpResult } from '../functions/lib/http';
import { bundleFunction } from '../modules/bundle';
import { LifetimeGuard } from './lifetime-guard';
import { freePort, migrateLocalDatabase, provisionLocalTenants, startLocalServices } from './services';
import { ARM_NAME } from '../contracts';

const DEFAULT_PORT = 3000;
const HIGHEST_PORT = 65535;
/** How often the script checks that its parent (npm, a shell) still exists. */
const PARENT_CHECK_MS = 500;

/** Tenants provisioned and served when LOCAL_TENANTS is unset. */
const DEFAULT_LOCAL_TENANTS = 3;
/** The tenants route as the HTTP API has it (`GET /tenants/{tenantId}/items`); everything else reaches `hits`, the `$default` route. */
const TENANTS_ROUTE = /^\/tenants\/[^/]+\/items$/;

/** More arms than this on a shared laptop only divide it further; the deployed comparison has two. */
const MAX_ARMS = 4;
/**
 * The load test local mode prints: seconds, not the ten minutes meant for AWS, at a rate a laptop holds
 * beside the arms and the database; the arms one after another, since they share one MariaDB
 * (docs/load-testing.md). No CloudWatch locally, so a short cool-down will do.
 */
const LOCAL_LOAD = { rate: 20, duration: 10, cooldown: 5 } as const;
/** The path of a local load test with the tenants route off: a hits path (each request one row). */
const LOCAL_HITS_PATH = '/load';

/** The `npm run load` arguments that fit these arms: their URLs, the tenants provisioned, LOCAL_LOAD. */
function localLoadArgs(arms: readonly { name: string; url: string }[], tenantCount: number): string[] {
  return [
    ...arms.flatMap((arm) => ['--arm', `${arm.name}=${arm.url}`]),
    ...(tenantCount > 0 ? ['--tenants', String(tenantCount)] : ['--path', LOCAL_HITS_PATH]),
    '--rate', String(LOCAL_LOAD.rate),
    '--duration', String(LOCAL_LOAD.duration),
    ...(arms.length > 1 ? ['--order', 'sequential', '--cooldown', String(LOCAL_LOAD.cooldown)] : []),
  ];
}

/** A problem the user fixes by changing a setting (PORT, LOCAL_ARMS, LOCAL_TENANTS): printed as one line, no stack trace. */
class SettingError extends Error {}

/** LOCAL_TENANTS: how many tenants to provision and serve, 0 to 100 (each holds 1,000 rows). */
function parseLocalTenants(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LOCAL_TENANTS;
  const count = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(count >= 0 && count <= 100)) throw new SettingError(`LOCAL_TENANTS must be a whole number from 0 to 100, got "${value}"`);
  return count;
}

/** LOCAL_ARMS: the arms' names, in port order; unset or empty: undefined (one unnamed arm). */
function parseArms(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const names = value.split(',').map((name) => name.trim());
  const rule = `LOCAL_ARMS must be 1 to ${MAX_ARMS} distinct arm names, comma-separated (lower-case letters, digits and hyphens, not starting with a hyphen; at most 32), e.g. LOCAL_ARMS=proxy,direct`;
  const invalid = names.find((name) => !ARM_NAME.test(name));
  if (invalid !== undefined) throw new SettingError(`${rule}; "${invalid}" is not such a name (got "${value}")`);
  if (names.length > MAX_ARMS) throw new SettingError(`${rule}; ${names.length} arms named (got "${value}")`);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new SettingError(`${rule}; "${twice}" is named twice (got "${value}")`);
  return names;
}

/** PORT from the environment: an integer from 0 to 65535 (0: any free port), leaving room for one port per arm from it. */
function parsePort(value: string | undefined, arms: ArmNames): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= HIGHEST_PORT)) throw new SettingError(`PORT must be a port number from 0 to 65535 (0: any free port), got "${value}"; set PORT=<free port>`);
  const count = arms?.length ?? 1;
  if (arms && port > 0 && port + count - 1 > HIGHEST_PORT) {
    throw new SettingError(`PORT=${port} leaves no room for ${count} arms (LOCAL_ARMS=${arms.join(',')} listen on PORT to PORT+${count - 1}); set PORT=<at most ${HIGHEST_PORT - count + 1}>, or PORT=0 for any free port per arm`);
  }
  return port;
}

/** The arms named by LOCAL_ARMS, in port order; undefined: plain local mode's one unnamed arm. */
type ArmNames = readonly string[] | undefined;

/** Whether 127.0.0.1:port can be bound now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports free at this moment (for the example in a message); 8080 if none turns up. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await freePort().catch(() => undefined);
    if (first === undefined || first + count - 1 > HIGHEST_PORT) continue;
    let free = true;
    for (let port = first + 1; free && port < first + count; port++) free = await bindable(port);
    if (free) return first;
  }
  return 8080;
}

/** One arm: its own server, port and function instances. `name` is undefined for the one arm of plain `npm run local`. */
interface Arm {
  readonly name?: string;
  readonly server: http.Server;
  port: number;
  handler?: Handler;
  tenantsHandler?: Handler;
}

/** Binds arm `index` of `arms` (0: plain local mode's only arm) on `port`; a failure is a SettingError naming PORT= and the arm. */
function listen(server: http.Server, port: number, index: number, names: ArmNames): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = async (err: NodeJS.ErrnoException) => {
      const which = names ? ` (arm ${names[index]}: PORT${index > 0 ? `+${index}` : ''})` : '';
      const suggestion = names
        ? `set PORT=<the first of ${names.length} free ports in a row>, e.g. PORT=${await freePortRun(names.length)} LOCAL_ARMS=${names.join(',')} npm run local, or PORT=0 for any free port per arm`
        : `set PORT=<free port>, e.g. PORT=${await freePort().catch(() => 8080)} npm run local`;
      if (err.code === 'EADDRINUSE') reject(new SettingError(`port ${port} on 127.0.0.1${which} is in use; ${suggestion}`));
      else if (err.code === 'EACCES') reject(new SettingError(`port ${port} on 127.0.0.1${which} needs privileges this user lacks; ${suggestion}`));
      else reject(new SettingError(`cannot listen on 127.0.0.1:${port}${which} (${err.code ?? err.message}); ${suggestion}`));
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Binds every arm's port, in order, before anything starts (a failure ends the process, which releases the ones bound). */
async function listenAll(names: ArmNames, firstPort: number): Promise<Arm[]> {
  const arms: Arm[] = [];
  for (const [index, name] of (names ?? [undefined]).entries()) {
    const arm: Arm = { name, server: http.createServer((req, res) => serve(arm, req, res)), port: 0 };
    arm.port = await listen(arm.server, firstPort === 0 ? 0 : firstPort + index, index, names);
    arms.push(arm);
  }
  return arms;
}

function toEvent(req: http.IncomingMessage, body: Buffer): HttpEvent {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return {
    version: '2.0',
    rawPath,
    rawQueryString: q < 0 ? '' : url.slice(q + 1),
    headers,
    requestContext: { requestId: randomUUID(), http: { method: req.method ?? 'GET', path: rawPath } },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
}

type Handler = (e: HttpEvent) => Promise<HttpResult>;

/** What is running, so that `stop` ends exactly that, whenever it is called. */
const state: { arms: Arm[]; guard?: LifetimeGuard; runDir?: string; stopping?: Promise<void>; outputClosed?: boolean } = { arms: [] };

/** A line for the user (stdout) or about a failure (stderr); nothing once the output is gone. */
function say(line: string): void {
  if (!state.outputClosed) console.log(line);
}
function complain(err: unknown): void {
  if (!state.outputClosed) console.error(err);
}

function stop(reason: string, exitCode: number): Promise<void> {
  state.stopping ??= (async () => {
    say(`stopping (${reason})…`);
    for (const { server } of state.arms) {
      server.closeAllConnections();
      server.close();
    }
    await state.guard?.end();
    if (state.runDir) say(`stopped; removed ${state.runDir}`);
    process.exit(exitCode);
  })();
  return state.stopping;
}

function serve(arm: Arm, req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const event = toEvent(req, Buffer.concat(chunks));
    const tenantsRoute = event.requestContext?.http?.method === 'GET' && TENANTS_ROUTE.test(event.rawPath ?? '');
    const handler = tenantsRoute && arm.tenantsHandler ? arm.tenantsHandler : arm.handler;
    if (!handler) {
      res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('local mode is still starting MariaDB and memcached\n');
      return;
    }
    handler(event)
      .then((r) => {
        res.writeHead(r.statusCode, r.headers);
        res.end(r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
      })
      .catch((err) => {
        complain(err);
        res.writeHead(502).end('handler failed (see the console)');
      });
  });
}

/**
 * Loads a function's bundle for one arm from a file of that arm's own: each file is a module of its own, so
 * each arm gets its own instance of the function's module scope (its connection pool, cache client,
 * configuration), as two deployed functions each have theirs. Requiring one file twice would share them.
 */
function loadHandler(dir: string, file: string, code: string): Handler {
  mkdirSync(dir, { recursive: true });
  const bundleFile = path.join(dir, file);
  writeFileSync(bundleFile, code);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(bundleFile) as { handler: Handler }).handler;
}

/** Where an arm's bundles live in the run's directory (plain local mode: the directory itself, as before arms). */
function armDir(runDir: string, arm: Arm): string {
  return arm.name === undefined ? runDir : path.join(runDir, `arm-${arm.name}`);
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal, 0));
  // Without a listener, a write to a closed pipe (EPIPE; EIO for a terminal that went away) is an
  // uncaught exception, whose report is another write there: a loop that keeps the process busy and
  // never lets it stop. Output nobody can read is the user gone, as a hang-up is.
  for (const output of [process.stdout, process.stderr]) {
    output.on('error', (err: NodeJS.ErrnoException) => {
      state.outputClosed = true;
      void stop(`its output failed: ${err.code ?? err.message}`, 0);
    });
  }
  process.on('uncaughtException', (err) => {
    complain(err);
    void stop('unexpected error', 1);
  });
  process.on('unhandledRejection', (err) => {
    complain(err);
    void stop('unexpected error', 1);
  });
  const parentAtStart = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentAtStart) void stop(`parent process ${parentAtStart} exited`, 0);
  }, PARENT_CHECK_MS).unref();

  let tenantCount: number;
  let names: ArmNames;
  try {
    tenantCount = parseLocalTenants(process.env.LOCAL_TENANTS);
    names = parseArms(process.env.LOCAL_ARMS);
    state.arms = await listenAll(names, parsePort(process.env.PORT, names));
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  if (state.stopping) return;
  const arms = state.arms;
  const named = names !== undefined;

  const runDir = mkdtempSync(path.join(tmpdir(), 'hits-local-'));
  state.runDir = runDir;
  state.guard = new LifetimeGuard([runDir]);
  const ports = named ? `port${arms.length === 1 ? '' : 's'} ${arms.map((a) => `${a.port} (${a.name})`).join(', ')}` : `port ${arms[0].port}`;
  say(`local mode: ${ports} taken; starting MariaDB and memcached in ${runDir}`);
  const services = await startLocalServices({ dir: path.join(runDir, 'mariadb'), guard: state.guard });
  if (state.stopping) return;
  const hitsCode = bundleFunction('functions/hits/handler.ts').code;
  const tenantsCode = tenantCount > 0 ? bundleFunction('functions/tenants/handler.ts').code : undefined;
  // As a deploy does: the migrations run first (as a master user), then the function serves as the
  // application user they create, with only SELECT, INSERT, DELETE on hits.
  const migration = await migrateLocalDatabase(services.db);
  if (state.stopping) return;
  say(`migrations applied: ${migration.result.applied.join(', ') || 'none'}; serving as ${migration.env.DB_USER}`);
  Object.assign(process.env, services.env, migration.env);
  const tenantsPath = `/tenants/{0..${tenantCount - 1}}/items`;
  if (tenantsCode) {
    // As the deploy-time migration does after the migrations; the tenants function reads TENANT_* at load.
    const tenants = await provisionLocalTenants(services.db, migration.master, { count: tenantCount });
    if (state.stopping) return;
    Object.assign(process.env, tenants.env);
    for (const arm of arms) arm.tenantsHandler = loadHandler(armDir(runDir, arm), 'tenants.js', tenantsCode);
    const tenantsDetail = `${tenantCount} tenants × 1000 rows, password login: local only; LOCAL_TENANTS=<n> changes the count`;
    if (named) say(`tenants function on every arm: ${tenantsPath}  (${tenantsDetail})`);
    else say(`tenants function: http://127.0.0.1:${arms[0].port}${tenantsPath}  (${tenantsDetail})`);
  }
  for (const arm of arms) arm.handler = loadHandler(armDir(runDir, arm), 'index.js', hitsCode);
  const where = `MariaDB 127.0.0.1:${services.db.port}, memcached ${services.cache.node}; Ctrl-C stops everything and removes ${runDir}`;
  if (!named) {
    // Last: this line says everything is served.
    say(`hits function: http://127.0.0.1:${arms[0].port}/  (${where})`);
    return;
  }
  const url = (arm: Arm) => `http://127.0.0.1:${arm.port}`;
  const every = arms.length === 2 ? 'both arms run' : `all ${arms.length} arms run`;
  say(
    arms.length === 1
      ? 'Locally the arm runs against MariaDB and memcached with no RDS Proxy in front: local load figures test the load harness, not the proxy.'
      : `Locally ${every} the same code against the same MariaDB and memcached, with no RDS Proxy in front, ` +
          'each arm with its own function instances and connection pools: local load figures test the load harness, not the proxy.',
  );
  const routes = tenantsCode ? `hits function at /, tenants function at ${tenantsPath}` : 'hits function at /; tenants route off (LOCAL_TENANTS=0)';
  for (const arm of arms) say(`arm ${arm.name}=${url(arm)}  (${routes})`);
  say(`load test: npm run load -- ${localLoadArgs(arms.map((arm) => ({ name: arm.name!, url: url(arm) })), tenantCount).join(' ')}`);
  // Last: this line says everything is served.
  say(`serving ${arms.length} arm${arms.length === 1 ? '' : 's'}  (${where})`);
}

main().catch((err: Error) => {
  if (state.stopping) return; // a stop during startup makes the step in flight fail: not news
  complain(`local mode failed to start: ${err.message}`);
  void stop('startup failed', 1);
});
