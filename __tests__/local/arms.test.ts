/**
 * Local mode with arms (LOCAL_ARMS), as the A/B load test drives it: each arm on its own port with its own
 * instances of the functions, all over one MariaDB and memcached. Real runs of `npm run local` (or the
 * script), real MariaDB and memcached, real signals; after each run, nothing is left (./leftovers.ts), every
 * arm's port included. Settings that are wrong fail before anything starts, so those runs take a second.
 */
import { execFile } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { promisify } from 'util';
import { binary } from '../../scripts/services';
import { parseOptions, runSeconds } from '../../tools/load/options';
import { accepting, bindable, limitConcurrency, LocalRun, processTree, type ProcessEntry, type Serving } from '../support/local-run';
import { expectNothingLeft } from './leftovers';

// A served run starts MariaDB (a few seconds, more beside other suites) and stops it cleanly: generous, not a timing assertion.
jest.setTimeout(240000);

const inTurn = limitConcurrency(2);

interface ArmsServing extends Serving {
  /** Every arm's name and port, in the order printed. */
  arms: Array<{ name: string; port: number }>;
}

/** Waits for the last line (`serving N arms …`), then reads the `arm <name>=<url>` lines: what a user copies into `npm run load`. */
async function servingArms(run: LocalRun): Promise<ArmsServing> {
  const m = await run.waitFor(/^serving (\d+) arms? +\(MariaDB 127\.0\.0\.1:(\d+), memcached 127\.0\.0\.1:(\d+); .* removes (\S+)\)$/m);
  const arms = [...run.stdout.matchAll(/^arm ([a-z0-9-]+)=http:\/\/127\.0\.0\.1:(\d+) /gm)].map((a) => ({ name: a[1], port: Number(a[2]) }));
  expect(arms).toHaveLength(Number(m[1]));
  return { arms, port: arms[0].port, dbPort: Number(m[2]), cachePort: Number(m[3]), runDir: m[4], processes: processTree(run.child.pid!) };
}

async function getJson(port: number, urlPath: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { headers: { accept: 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const paths = (body: Record<string, unknown>) => (body.hits as Array<{ path: string }>).map((h) => h.path);

/**
 * Connections the database holds per user, read as root over the run's unix socket with the MariaDB client
 * (a child process: these runs are concurrent, and Jest refuses mysql2's lazy module loads once another test
 * of the file has finished).
 */
async function connectionsByUser(runDir: string, users: readonly string[]): Promise<Record<string, number>> {
  const { stdout } = await promisify(execFile)(binary('mariadb'), [
    '-S', path.join(runDir, 'mariadb', 'mysqld.sock'), '-u', 'root', '--batch', '--skip-column-names',
    '-e', `SELECT USER, COUNT(*) FROM information_schema.PROCESSLIST WHERE USER IN (${users.map((u) => `'${u}'`).join(',')}) GROUP BY USER`,
  ]);
  const counts: Record<string, number> = Object.fromEntries(users.map((u) => [u, 0]));
  for (const line of stdout.trim().split('\n').filter(Boolean)) {
    const [user, count] = line.split('\t');
    counts[user] = Number(count);
  }
  return counts;
}

const named = (processes: readonly ProcessEntry[], pattern: RegExp) => processes.filter((p) => pattern.test(p.cmdline));

describe('two arms over one database', () => {
  test.concurrent('each arm serves hits and the tenant route with its own pools; a write through one is listed through the other; Ctrl-C stops both', inTurn(async () => {
    const run = new LocalRun('npm', { PORT: '0', LOCAL_ARMS: 'proxy,direct' }, { ownGroup: true });
    try {
      const serving = await servingArms(run);
      const [proxy, direct] = serving.arms;
      expect([proxy.name, direct.name]).toEqual(['proxy', 'direct']);
      expect(proxy.port).not.toBe(direct.port);
      // What the user pastes into the load test, read by the load tool's own parser: both arms, the tenants
      // this run provisioned, the arms in turn (they share the database), seconds rather than minutes.
      const provisioned = Number(/^tenants function on every arm: \/tenants\/\{0\.\.(\d+)\}\/items/m.exec(run.stdout)![1]) + 1;
      const load = parseOptions(/^load test: npm run load -- (.*)$/m.exec(run.stdout)![1].split(' '));
      expect(load).toMatchObject({ arms: [{ name: 'proxy', url: `http://127.0.0.1:${proxy.port}` }, { name: 'direct', url: `http://127.0.0.1:${direct.port}` }], tenants: provisioned, order: 'sequential' });
      expect(load.orderNote).toBeUndefined();
      expect(runSeconds(load)).toBeLessThanOrEqual(60);
      expect(run.stdout).toMatch(/^Locally both arms run the same code against the same MariaDB and memcached, with no RDS Proxy in front, .*: local load figures test the load harness, not the proxy\.$/m);
      // One database and one cache for both arms.
      expect(named(serving.processes, /mariadbd /)).toHaveLength(1);
      expect(named(serving.processes, /memcached /)).toHaveLength(1);

      const users = ['hits_app', 'tenant_1'];
      expect(await connectionsByUser(serving.runDir, users)).toEqual({ hits_app: 0, tenant_1: 0 });
      const viaProxy = await getJson(proxy.port, '/via-proxy');
      expect([viaProxy.status, paths(viaProxy.body)]).toEqual([200, ['/via-proxy']]);
      expect(await connectionsByUser(serving.runDir, users)).toEqual({ hits_app: 1, tenant_1: 0 });
      // The other arm's write answer lists from the database: the first arm's hit is there.
      const viaDirect = await getJson(direct.port, '/via-direct');
      expect([viaDirect.status, paths(viaDirect.body)]).toEqual([200, ['/via-direct', '/via-proxy']]);
      // Each arm's hits function holds its own connection (one per pool): a shared pool would still hold one.
      expect(await connectionsByUser(serving.runDir, users)).toEqual({ hits_app: 2, tenant_1: 0 });
      const listing = await getJson(proxy.port, '/_/hits');
      expect([listing.status, paths(listing.body)]).toEqual([200, ['/via-direct', '/via-proxy']]);

      for (const [arm, expected] of [[proxy, 1], [direct, 2]] as const) {
        const tenant = await getJson(arm.port, '/tenants/1/items');
        expect(tenant.status).toBe(200);
        expect(tenant.body.tenant).toBe(1);
        expect((tenant.body.items as unknown[]).length).toBeGreaterThan(0);
        expect(await connectionsByUser(serving.runDir, users)).toEqual({ hits_app: 2, tenant_1: expected });
      }
      // Neither tenant request was recorded as a hit, through either arm.
      expect(paths((await getJson(direct.port, '/_/hits')).body)).toEqual(['/via-direct', '/via-proxy']);

      process.kill(-run.child.pid!, 'SIGINT');
      await run.closed;
      expect(run.stdout).toContain('stopping (SIGINT)');
      expect(run.stdout).toContain(`stopped; removed ${serving.runDir}`);
      await expectNothingLeft(run, serving, [direct.port]);
    } finally {
      await run.dispose();
    }
  }));

  test.concurrent('SIGTERM to the script while MariaDB is still starting: every arm answered 503 meanwhile, and every port is freed', inTurn(async () => {
    const run = new LocalRun('npm', { PORT: '0', LOCAL_ARMS: 'a,b-2,c3' });
    try {
      const m = await run.waitFor(/ports (\d+) \(a\), (\d+) \(b-2\), (\d+) \(c3\) taken; starting MariaDB and memcached in (\S+)/);
      const ports = m.slice(1, 4).map(Number);
      for (const port of ports) {
        const early = await fetch(`http://127.0.0.1:${port}/too-early`);
        expect([early.status, early.headers.get('retry-after')]).toEqual([503, '1']);
      }
      process.kill(run.scriptPid(), 'SIGTERM');
      expect((await run.closed).code).toBe(0);
      expect(run.stdout).toContain('stopping (SIGTERM)');
      expect(run.stdout).not.toMatch(/^serving /m);
      await expectNothingLeft(run);
      for (const port of ports) expect(await bindable(port)).toBe(true);
    } finally {
      await run.dispose();
    }
  }));
});

describe('settings that cannot work: one line naming the setting, exit 1, nothing started', () => {
  const RULE = 'LOCAL_ARMS must be 1 to 4 distinct arm names, comma-separated (lower-case letters, digits and hyphens, not starting with a hyphen; at most 32), e.g. LOCAL_ARMS=proxy,direct';

  /** `line`: the one line expected (a string or an asymmetric matcher). */
  async function expectRefused(run: LocalRun, line: unknown): Promise<void> {
    expect((await run.closed).code).toBe(1);
    expect(run.ownLines()).toEqual([line]);
    if (run.child.spawnfile === process.execPath) expect(run.stdout).toBe(''); // the script's line is an error: stderr
    await expectNothingLeft(run);
    expect(run.processesSeen.some((p) => /mariadb|memcached|watchdog/.test(p.cmdline))).toBe(false);
  }

  test.concurrent.each([
    ['Proxy,direct', '"Proxy" is not such a name'],
    ['proxy,', '"" is not such a name'],
    ['-x,y', '"-x" is not such a name'],
    ['proxy direct', '"proxy direct" is not such a name'],
    ['a'.repeat(33), `"${'a'.repeat(33)}" is not such a name`],
    ['a,b,c,d,e', '5 arms named'],
    ['proxy,direct,proxy', '"proxy" is named twice'],
  ])('LOCAL_ARMS=%s', async (arms, detail) => {
    const run = new LocalRun('script', { PORT: '0', LOCAL_ARMS: arms });
    try {
      await expectRefused(run, `${RULE}; ${detail} (got "${arms}")`);
    } finally {
      await run.dispose();
    }
  });

  test('PORT too high for the arms after it', async () => {
    const run = new LocalRun('script', { PORT: '65535', LOCAL_ARMS: 'proxy,direct' });
    try {
      await expectRefused(run, 'PORT=65535 leaves no room for 2 arms (LOCAL_ARMS=proxy,direct listen on PORT to PORT+1); set PORT=<at most 65534>, or PORT=0 for any free port per arm');
    } finally {
      await run.dispose();
    }
  });

  describe('the second arm\'s port (PORT+1) busy', () => {
    let occupier: net.Server;
    let busyPort: number;
    beforeAll(async () => {
      // A port held by another program whose predecessor is free, so that the first arm binds and the second cannot.
      for (;;) {
        occupier = net.createServer();
        await new Promise<void>((r) => occupier.listen(0, '127.0.0.1', r));
        busyPort = (occupier.address() as net.AddressInfo).port;
        if (busyPort > 1024 && (await bindable(busyPort - 1))) return;
        await new Promise((r) => occupier.close(r));
      }
    });
    afterAll(() => new Promise((r) => occupier.close(r)));

    test('via npm: the line names the port, the arm and PORT=; the first arm\'s port is released', async () => {
      const run = new LocalRun('npm', { PORT: String(busyPort - 1), LOCAL_ARMS: 'proxy,direct' });
      try {
        await expectRefused(
          run,
          expect.stringMatching(
            new RegExp(`^port ${busyPort} on 127\\.0\\.0\\.1 \\(arm direct: PORT\\+1\\) is in use; set PORT=<the first of 2 free ports in a row>, e\\.g\\. PORT=\\d+ LOCAL_ARMS=proxy,direct npm run local, or PORT=0 for any free port per arm$`),
          ),
        );
        // The suggestion is not the range that failed (the first arm still held its port when it was chosen).
        const suggested = Number(/PORT=(\d+) LOCAL_ARMS/.exec(run.output)![1]);
        expect([busyPort - 1, busyPort]).not.toContain(suggested);
        expect(await bindable(busyPort - 1)).toBe(true);
        expect(await accepting(busyPort)).toBe(true); // the other program keeps its port
      } finally {
        await run.dispose();
      }
    });
  });
});
