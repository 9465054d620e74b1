/**
 * Local mode (`npm run local`): serves the `hits` function at http://127.0.0.1:<PORT>/ (default
 * 3000) against a throw-away MariaDB and memcached, bundled exactly as the stacks bundle it, each
 * HTTP request turned into an API Gateway payload 2.0 event. Local only: DB_AUTH=password, DB_TLS=off.
 * Beside it, as the HTTP API routes it, the `tenants` function serves `GET /tenants/{tenantId}/items`
 * for LOCAL_TENANTS tenants (default 3; 0 turns the route off) provisioned as a deploy does, their users
 * logging in with a password (TENANT_AUTH=password, DB_TLS=off: local only).
 *
 * Nothing outlives it, whatever ends it (docs/local-development.md, "Local mode"; every path is tested in __tests__/local/):
 * - PORT busy or invalid: one line naming PORT=, exit 1, nothing started. The port is bound first,
 *   so nothing is started for a port that turns out busy, and nobody can take it meanwhile.
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
import { mkdtempSync, writeFileSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import type { HttpEvent, HttpResult } from '../functions/lib/http';
import { bundleFunction } from '../modules/bundle';
import { LifetimeGuard } from './lifetime-guard';
import { freePort, migrateLocalDatabase, provisionLocalTenants, startLocalServices } from './services';

const DEFAULT_PORT = 3000;
/** How often the script checks that its parent (npm, a shell) still exists. */
const PARENT_CHECK_MS = 500;

/** Tenants provisioned and served when LOCAL_TENANTS is unset. */
const DEFAULT_LOCAL_TENANTS = 3;
/** The tenants route as the HTTP API has it (`GET /tenants/{tenantId}/items`); everything else reaches `hits`, the `$default` route. */
const TENANTS_ROUTE = /^\/tenants\/[^/]+\/items$/;

/** A problem the user fixes by setting PORT: printed as one line, no stack trace. */
class PortError extends Error {}

/** LOCAL_TENANTS: how many tenants to provision and serve, 0 to 100 (each holds 1,000 rows). */
function parseLocalTenants(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LOCAL_TENANTS;
  const count = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(count >= 0 && count <= 100)) throw new PortError(`LOCAL_TENANTS must be a whole number from 0 to 100, got "${value}"`);
  return count;
}

/** PORT from the environment: an integer from 0 to 65535 (0: any free port). */
function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new PortError(`PORT must be a port number from 0 to 65535 (0: any free port), got "${value}"; set PORT=<free port>`);
  return port;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = async (err: NodeJS.ErrnoException) => {
      const suggestion = `set PORT=<free port>, e.g. PORT=${await freePort().catch(() => 8080)} npm run local`;
      if (err.code === 'EADDRINUSE') reject(new PortError(`port ${port} on 127.0.0.1 is in use; ${suggestion}`));
      else if (err.code === 'EACCES') reject(new PortError(`port ${port} on 127.0.0.1 needs privileges this user lacks; ${suggestion}`));
      else reject(new PortError(`cannot listen on 127.0.0.1:${port} (${err.code ?? err.message}); ${suggestion}`));
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
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
const state: { server?: http.Server; guard?: LifetimeGuard; runDir?: string; handler?: Handler; tenantsHandler?: Handler; stopping?: Promise<void>; outputClosed?: boolean } = {};

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
    state.server?.closeAllConnections();
    state.server?.close();
    await state.guard?.end();
    if (state.runDir) say(`stopped; removed ${state.runDir}`);
    process.exit(exitCode);
  })();
  return state.stopping;
}

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const event = toEvent(req, Buffer.concat(chunks));
    const tenantsRoute = event.requestContext?.http?.method === 'GET' && TENANTS_ROUTE.test(event.rawPath ?? '');
    const handler = tenantsRoute && state.tenantsHandler ? state.tenantsHandler : state.handler;
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

  let port: number;
  let tenantCount: number;
  const server = http.createServer(serve);
  try {
    tenantCount = parseLocalTenants(process.env.LOCAL_TENANTS);
    port = await listen(server, parsePort(process.env.PORT));
  } catch (err) {
    if (!(err instanceof PortError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  state.server = server;
  if (state.stopping) return;

  const runDir = mkdtempSync(path.join(tmpdir(), 'hits-local-'));
  state.runDir = runDir;
  state.guard = new LifetimeGuard([runDir]);
  say(`local mode: port ${port} taken; starting MariaDB and memcached in ${runDir}`);
  const services = await startLocalServices({ dir: path.join(runDir, 'mariadb'), guard: state.guard });
  if (state.stopping) return;
  const bundleFile = path.join(runDir, 'index.js');
  writeFileSync(bundleFile, bundleFunction('functions/hits/handler.ts').code);
  const tenantsBundleFile = path.join(runDir, 'tenants.js');
  if (tenantCount > 0) writeFileSync(tenantsBundleFile, bundleFunction('functions/tenants/handler.ts').code);
  // As a deploy does: the migrations run first (as a master user), then the function serves as the
  // application user they create, with only SELECT, INSERT, DELETE on hits.
  const migration = await migrateLocalDatabase(services.db);
  if (state.stopping) return;
  say(`migrations applied: ${migration.result.applied.join(', ') || 'none'}; serving as ${migration.env.DB_USER}`);
  Object.assign(process.env, services.env, migration.env);
  if (tenantCount > 0) {
    // As the deploy-time migration does after the migrations; the tenants function reads TENANT_* at load.
    const tenants = await provisionLocalTenants(services.db, migration.master, { count: tenantCount });
    if (state.stopping) return;
    Object.assign(process.env, tenants.env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    state.tenantsHandler = (require(tenantsBundleFile) as { handler: Handler }).handler;
    say(`tenants function: http://127.0.0.1:${port}/tenants/{0..${tenantCount - 1}}/items  (${tenantCount} tenants × 1000 rows, password login: local only; LOCAL_TENANTS=<n> changes the count)`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  state.handler = (require(bundleFile) as { handler: Handler }).handler;
  // Last: this line says everything is served.
  say(`hits function: http://127.0.0.1:${port}/  (MariaDB 127.0.0.1:${services.db.port}, memcached ${services.cache.node}; Ctrl-C stops everything and removes ${runDir})`);
}

main().catch((err: Error) => {
  if (state.stopping) return; // a stop during startup makes the step in flight fail: not news
  complain(`local mode failed to start: ${err.message}`);
  void stop('startup failed', 1);
});
