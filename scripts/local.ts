/**
 * Local mode (`npm run local`): starts a throw-away MariaDB and memcached, bundles the function
 * exactly as the stacks do, loads the bundle and serves it at http://127.0.0.1:3000 (PORT to
 * change), turning each HTTP request into an API Gateway payload 2.0 event. Ctrl-C stops
 * everything and removes the temporary data. Local only: DB_AUTH=password, DB_TLS=off.
 */
import { randomUUID } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import { tmpdir } from 'os';
import * as path from 'path';
import type { HttpEvent, HttpResult } from '../functions/lib/http';
import { bundleFunction } from '../modules/bundle';
import { migrateLocalDatabase, startLocalServices } from './services';

const PORT = Number(process.env.PORT ?? 3000);

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

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hits-local-'));
  console.log('starting MariaDB and memcached…');
  const services = await startLocalServices();
  const file = path.join(dir, 'index.js');
  writeFileSync(file, bundleFunction('functions/hits/handler.ts').code);
  // As a deploy does: the migrations run first (as a master user), then the function serves as the
  // application user they create, with only SELECT, INSERT, DELETE on hits.
  const migration = await migrateLocalDatabase(services.db);
  console.log(`migrations applied: ${migration.result.applied.join(', ') || 'none'}; serving as ${migration.env.DB_USER}`);
  Object.assign(process.env, services.env, migration.env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(file) as { handler: (e: HttpEvent) => Promise<HttpResult> };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handler(toEvent(req, Buffer.concat(chunks)))
        .then((r) => {
          res.writeHead(r.statusCode, r.headers);
          res.end(r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
        })
        .catch((err) => {
          console.error(err);
          res.writeHead(502).end('handler failed (see the console)');
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, '127.0.0.1', resolve);
  });
  console.log(`hits function: http://127.0.0.1:${PORT}/  (MariaDB 127.0.0.1:${services.db.port}, memcached ${services.cache.node}; Ctrl-C to stop)`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    server.closeAllConnections();
    server.close();
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
