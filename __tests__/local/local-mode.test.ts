/**
 * Local mode's exit paths, for real: the real `npm run local` (npm 11, the script exec'd by it) or
 * the script itself, started with a real MariaDB and memcached, ended by real signals. After each
 * run: the launcher has exited, no process of the run is left (checked by pid and start time
 * against every process seen in its tree, and by the run's temp dir in any command line), its
 * ports are free, and its TMPDIR holds nothing. The runs are independent, so they run concurrently.
 * Each exit path ends its run, so each needs a run of its own; what a served run shows (over HTTP and in
 * a real browser) is checked on one of them, before it is stopped.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { execFile } from 'child_process';
import { FAVICON_PATH } from '../../functions/hits/app';
import { binary, freePort } from '../../scripts/services';
import { artifactsDir, launchChromium, RecordingForwarder } from '../support/browser';
import { accepting, eventually, limitConcurrency, LocalRun, type Serving } from '../support/local-run';
import { expectNothingLeft } from './leftovers';

// Each run starts MariaDB (a few seconds) and stops it cleanly, two at a time, so a test may first wait
// for others: generous, not a timing assertion.
jest.setTimeout(240000);

/** Two runs at a time: enough to overlap one's MariaDB start with another's stop. */
const inTurn = limitConcurrency(2);

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A request whose path goes out exactly as given (fetch would percent-encode `<` and `>`), as curl or a script may send it. */
function rawGet(port: number, rawPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: rawPath, headers: { accept: 'application/json' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

/**
 * What a person sees at the local URL in Chromium: the page renders its table; a recorded path with markup
 * shows as text, not as markup; the favicon Chromium asks for on its own is answered and not recorded. The
 * browser goes through a forwarder that records its requests, so the favicon request is seen, not assumed.
 * (The HTML page's content-security-policy, default-src 'none', keeps Chromium from asking for a favicon
 * there; a JSON answer carries no such policy, so the browser asks when it shows one.)
 * `recorded`: the paths recorded so far in this run, oldest first.
 */
async function checkInBrowser(serving: Serving, recorded: string[]): Promise<void> {
  const markup = '/<b>x</b>';
  expect(await rawGet(serving.port, markup)).toBe(200);
  recorded.push(markup);
  const forwarder = await RecordingForwarder.start(serving.port);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    // The listing as JSON (not recorded): Chromium shows it as text and asks for the favicon.
    expect((await page.goto(`${forwarder.url}/_/hits`))?.status()).toBe(200);
    const askedForIcon = () => forwarder.seen.some((r) => r.method === 'GET' && r.path === FAVICON_PATH);
    expect(await eventually(askedForIcon, 20000)).toBe(true);
    expect(forwarder.seen.filter((r) => r.path === FAVICON_PATH).map((r) => r.status)).toEqual(expect.arrayContaining([204]));

    // The page, after the favicon request: a recorded favicon would be in its table.
    expect((await page.goto(`${forwarder.url}/in-browser`))?.status()).toBe(200);
    recorded.push('/in-browser');
    expect(await page.title()).toBe('hits');
    expect(await page.locator('table thead th').allInnerTexts()).toEqual(['id', 'method', 'path', 'at (UTC)']);
    const rows = page.locator('table tbody tr');
    expect(await rows.locator('td:nth-child(3)').allInnerTexts()).toEqual([...recorded].reverse());
    expect(await rows.locator('td:nth-child(2)').allInnerTexts()).toEqual(recorded.map(() => 'GET'));
    // The markup arrived as text: no element was made of it.
    expect(await page.locator('table b').count()).toBe(0);

    const screenshot = path.join(artifactsDir(), 'local-mode-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(readFileSync(screenshot).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  } finally {
    await browser.close();
    await forwarder.close();
  }
}

/**
 * The answered items are rows of tenant `t`'s own table, read back as that tenant's user (local mode's
 * password) with the MariaDB client: their values are random per tenant, so another tenant's rows would
 * not match. (A child process, not mysql2 in this file: these runs are concurrent, and mysql2 loads
 * modules lazily, which Jest refuses once another test of the file has finished.)
 */
async function expectRowsOf(dbPort: number, t: number, items: Array<Record<string, number>>): Promise<void> {
  const ids = items.map((i) => i.id).filter((id) => Number.isInteger(id));
  const { stdout } = await promisify(execFile)(binary('mariadb'), [
    '--protocol=tcp', '-h', '127.0.0.1', '-P', String(dbPort), '-u', `tenant_${t}`, '-plocal-tenant-password', '--batch', '--skip-column-names',
    '-e', `SELECT id, c1, c2, c3, c4, c5 FROM tenant_${t}.items WHERE id IN (${ids.join(',')}) ORDER BY id`,
  ]);
  const rows = stdout.trim().split('\n').map((line) => {
    const [id, c1, c2, c3, c4, c5] = line.split('\t').map(Number);
    return { id, c1, c2, c3, c4, c5 };
  });
  expect(rows).toEqual([...items].sort((a, b) => a.id - b.id));
}

/** Starts a run, waits until it serves, and checks that what it started is what the leftover checks will look for. */
async function startServing(via: 'npm' | 'script', options: { ownGroup?: boolean } = {}): Promise<{ run: LocalRun; serving: Serving }> {
  const run = new LocalRun(via, { PORT: String(await freePort()) }, options);
  const serving = await run.serving();
  expect(serving.runDir.startsWith(run.tmp + path.sep)).toBe(true);
  const commands = serving.processes.map((p) => p.cmdline);
  expect(commands).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/scripts\/local\.ts/),
      expect.stringMatching(new RegExp(`scripts/watchdog\\.cjs ${serving.runDir}`)),
      expect.stringMatching(new RegExp(`mariadbd .*--port=${serving.dbPort}`)),
      expect.stringMatching(new RegExp(`memcached .*-p ${serving.cachePort}`)),
    ]),
  );
  return { run, serving };
}

describe('a busy or invalid PORT', () => {
  let occupier: net.Server;
  let busyPort: number;
  beforeAll(async () => {
    occupier = net.createServer();
    await new Promise<void>((r) => occupier.listen(0, '127.0.0.1', r));
    busyPort = (occupier.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((r) => occupier.close(r)));

  test.each(['npm', 'script'] as const)('via %s: one line naming PORT=, exit 1, nothing started', async (via) => {
    const run = new LocalRun(via, { PORT: String(busyPort) });
    try {
      expect((await run.closed).code).toBe(1);
      expect(run.ownLines()).toEqual([expect.stringMatching(new RegExp(`^port ${busyPort} on 127\\.0\\.0\\.1 is in use; set PORT=<free port>, e\\.g\\. PORT=\\d+ npm run local$`))]);
      if (via === 'script') expect(run.stdout).toBe(''); // the line is an error: stderr
      // The suggested port is one this machine had free.
      const suggested = Number(/PORT=(\d+) npm/.exec(run.output)![1]);
      expect(suggested).not.toBe(busyPort);
      await expectNothingLeft(run);
      expect(run.processesSeen.some((p) => /mariadb|memcached|watchdog/.test(p.cmdline))).toBe(false);
      expect(await accepting(busyPort)).toBe(true); // the other program keeps its port
    } finally {
      await run.dispose();
    }
  });

  test.each(['http', '70000', '-1'])('PORT=%s: one line naming PORT=, exit 1', async (port) => {
    const run = new LocalRun('script', { PORT: port });
    try {
      expect((await run.closed).code).toBe(1);
      expect(run.ownLines()).toEqual([`PORT must be a port number from 0 to 65535 (0: any free port), got "${port}"; set PORT=<free port>`]);
      await expectNothingLeft(run);
    } finally {
      await run.dispose();
    }
  });
});

describe('clean stops: the script stops everything itself and says so', () => {
  test.concurrent('serves the function, to a browser too; SIGINT to npm stops it (exit 0)', inTurn(async () => {
    const { run, serving } = await startServing('npm');
    try {
      const write = await get(serving.port, '/hello', { accept: 'application/json' });
      expect(write.status).toBe(200);
      expect(JSON.parse(write.body)).toMatchObject({ hits: [{ path: '/hello', method: 'GET' }], cache: 'bypass' });
      const page = await get(serving.port, '/page', { accept: BROWSER_ACCEPT });
      expect(page.body).toContain('listing: from the database</p>');
      const favicon = await get(serving.port, FAVICON_PATH, { accept: 'image/*' });
      expect(favicon.status).toBe(204);
      expect(favicon.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const listing = JSON.parse((await get(serving.port, '/_/hits')).body);
      expect(listing.hits.map((h: { path: string }) => h.path)).toEqual(['/page', '/hello']);
      await checkInBrowser(serving, ['/hello', '/page']);

      // Beside hits, the tenants route against the tenants local mode provisioned (3 by default).
      expect(run.stdout).toContain(`tenants function: http://127.0.0.1:${serving.port}/tenants/{0..2}/items`);
      const tenant = await get(serving.port, '/tenants/1/items', { accept: 'application/json' });
      expect(tenant.status).toBe(200);
      const answer = JSON.parse(tenant.body) as { tenant: number; items: Array<Record<string, number>> };
      expect(answer.tenant).toBe(1);
      expect(answer.items.length).toBeGreaterThan(0);
      await expectRowsOf(serving.dbPort, 1, answer.items);
      expect((await get(serving.port, '/tenants/01/items', { accept: 'application/json' })).status).toBe(400);
      expect((await get(serving.port, '/tenants/3/items', { accept: 'application/json' })).status).toBe(404);
      // The tenant route records no hit: the listing is unchanged.
      expect(JSON.parse((await get(serving.port, '/_/hits')).body).hits.map((h: { path: string }) => h.path)).not.toContain('/tenants/1/items');

      process.kill(run.child.pid!, 'SIGINT');
      expect((await run.closed).code).toBe(0);
      expect(run.stdout).toContain('stopping (SIGINT)');
      expect(run.stdout).toContain(`stopped; removed ${serving.runDir}`);
      await expectNothingLeft(run, serving);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('SIGTERM to npm (npm forwards it to the exec\'d script and waits): exit 0', inTurn(async () => {
    const { run, serving } = await startServing('npm');
    try {
      process.kill(run.child.pid!, 'SIGTERM');
      expect((await run.closed).code).toBe(0);
      expect(run.stdout).toContain('stopping (SIGTERM)');
      await expectNothingLeft(run, serving);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('SIGTERM to the script process under npm', inTurn(async () => {
    const { run, serving } = await startServing('npm');
    try {
      process.kill(run.scriptPid(), 'SIGTERM');
      expect((await run.closed).code).toBe(0);
      expect(run.stdout).toContain('stopping (SIGTERM)');
      await expectNothingLeft(run, serving);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('Ctrl-C: SIGINT to the whole process group of npm and the script', inTurn(async () => {
    const { run, serving } = await startServing('npm', { ownGroup: true });
    try {
      process.kill(-run.child.pid!, 'SIGINT');
      await run.closed;
      expect(run.stdout).toContain('stopping (SIGINT)');
      expect(run.stdout).toContain(`stopped; removed ${serving.runDir}`);
      await expectNothingLeft(run, serving);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('SIGTERM to npm while MariaDB is still starting', inTurn(async () => {
    const port = await freePort();
    const run = new LocalRun('npm', { PORT: String(port) });
    try {
      const [, runDir] = await run.waitFor(/starting MariaDB and memcached in (\S+)/);
      // The port is served from the start: until the function is ready, "come back in a second".
      const early = await get(port, '/too-early');
      expect([early.status, early.headers.get('retry-after')]).toEqual([503, '1']);
      process.kill(run.child.pid!, 'SIGTERM');
      expect((await run.closed).code).toBe(0);
      expect(run.stdout).toContain('stopping (SIGTERM)');
      expect(run.output).not.toContain('hits function:');
      expect(existsSync(runDir)).toBe(false);
      await expectNothingLeft(run);
    } finally {
      await run.dispose();
    }
  }));
});

describe('abnormal ends: nothing is left either', () => {
  test.concurrent('SIGKILL to the script: the watchdog ends the services and removes the temp dir', inTurn(async () => {
    const { run, serving } = await startServing('npm');
    try {
      process.kill(run.scriptPid(), 'SIGKILL');
      await expectNothingLeft(run, serving);
      expect(run.stderr).toMatch(new RegExp(`the watchdog ended 2 process group\\(s\\) and removed ${serving.runDir}`));
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('SIGKILL to npm: the script sees its parent gone and stops cleanly', inTurn(async () => {
    const { run, serving } = await startServing('npm');
    try {
      const npmPid = run.child.pid!;
      process.kill(npmPid, 'SIGKILL');
      await expectNothingLeft(run, serving);
      expect(run.stdout).toContain(`stopping (parent process ${npmPid} exited)`);
      expect(run.stdout).toContain(`stopped; removed ${serving.runDir}`);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('nobody reads its output any more (a reader that went away): it stops at its next line', inTurn(async () => {
    // As `npm run local | head -1`, or a test runner killed while npm lives on: the pipes' read ends close.
    const run = new LocalRun('npm', { PORT: String(await freePort()) });
    try {
      const [, runDir] = await run.waitFor(/starting MariaDB and memcached in (\S+)/);
      run.child.stdout!.destroy();
      run.child.stderr!.destroy();
      expect((await run.closed).code).toBe(0);
      expect(run.processesSeen.some((p) => /mariadbd/.test(p.cmdline))).toBe(true);
      expect(existsSync(runDir)).toBe(false);
      await expectNothingLeft(run);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('a startup failure (MariaDB refuses a socket path over 107 bytes): the error, exit 1, memcached stopped', inTurn(async () => {
    // A TMPDIR deep enough that MariaDB's socket path in the run's directory is too long for a
    // unix socket: a real failure after the port, memcached and mariadb-install-db have started.
    const base = mkdtempSync(path.join(tmpdir(), 'local-long-'));
    const deep = path.join(base, 'd'.repeat(Math.max(1, 100 - base.length)));
    mkdirSync(deep);
    const run = new LocalRun('script', { PORT: String(await freePort()) }, { tmpParent: deep });
    try {
      expect((await run.closed).code).toBe(1);
      expect(run.stderr).toMatch(/^local mode failed to start: mariadbd exited/m);
      expect(run.stdout).toContain('stopping (startup failed)');
      expect(run.processesSeen.some((p) => /memcached/.test(p.cmdline))).toBe(true);
      await expectNothingLeft(run);
    } finally {
      await run.dispose();
      rmSync(base, { recursive: true, force: true });
    }
  }));
});
