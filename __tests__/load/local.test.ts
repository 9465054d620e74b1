/**
 * The whole harness on one machine, as docs/load-testing.md has a user run it: `LOCAL_ARMS=proxy,direct
 * npm run local`, then the `npm run load` line it prints, exactly as printed, against real MariaDB and
 * memcached (its rate and seconds are local mode's: tens of requests per second for seconds per arm, loopback
 * only). Then a short mixed run (20 requests/s for 3 s) on a hits path whose every request the database must
 * hold, so the report is checked against what the arms actually served.
 */
import { execFile, spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { binary } from '../../scripts/services';
import { DEFAULTS, parseOptions, runSeconds } from '../../tools/load/options';
import type { LoadReport } from '../../tools/load/types';
import { expectNothingLeft } from '../local/leftovers';
import { LocalRun, PROJECT_ROOT, processTree } from '../support/local-run';

jest.setTimeout(240000);

const RATE = 20;
const DURATION = 3;
const LOCAL_TENANTS = 3;

interface LoadRun {
  code: number | null;
  output: string;
  report: LoadReport;
  html: string;
}

/** `npm run load -- <args>` as a user types it; the report read back from `out` (where `--out`, or its default, puts it). */
async function npmRunLoad(args: readonly string[], out: string): Promise<LoadRun> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('npm', ['run', 'load', '--', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (exit) => resolve({ code: exit, output }));
  });
  const read = (file: string) => readFileSync(path.join(out, file), 'utf8');
  return { code, output, report: JSON.parse(read('report.json')) as LoadReport, html: read('report.html') };
}

/** Rows the hits table holds for one path, read as root over the run's socket. */
async function hitsRecorded(runDir: string, urlPath: string): Promise<number> {
  const { stdout } = await promisify(execFile)(binary('mariadb'), [
    '-S', path.join(runDir, 'mariadb', 'mysqld.sock'), '-u', 'root', '--batch', '--skip-column-names',
    '-e', `SELECT COUNT(*) FROM hits.hits WHERE path = '${urlPath}'`,
  ]);
  return Number(stdout.trim());
}

let dir: string;
let local: LocalRun;
let runDir: string;
let dbPort: number;
let cachePort: number;
let armPorts: number[];
/** The command's arguments exactly as local mode printed them. */
let printed: string[];
/** Just its arms (`--arm <name>=<url>` pairs). */
let armArgs: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'load-local-'));
  local = new LocalRun('npm', { PORT: '0', LOCAL_ARMS: 'proxy,direct', LOCAL_TENANTS: String(LOCAL_TENANTS) }, { ownGroup: true });
  const serving = await local.waitFor(/^serving 2 arms +\(MariaDB 127\.0\.0\.1:(\d+), memcached 127\.0\.0\.1:(\d+); .* removes (\S+)\)$/m);
  [dbPort, cachePort, runDir] = [Number(serving[1]), Number(serving[2]), serving[3]];
  armPorts = [...local.stdout.matchAll(/^arm [a-z0-9-]+=http:\/\/127\.0\.0\.1:(\d+) /gm)].map((m) => Number(m[1]));
  // The line local mode prints for the user to paste, taken as it is.
  const line = (await local.waitFor(/^load test: npm run load -- (.*)$/m))[1];
  printed = line.split(' ');
  armArgs = printed.flatMap((arg, i) => (arg === '--arm' ? [arg, printed[i + 1]] : []));
});

afterAll(async () => {
  if (local) {
    const processes = processTree(local.child.pid!);
    process.kill(-local.child.pid!, 'SIGINT');
    try {
      // Ctrl-C ends local mode and everything it started, load runs or not.
      await expectNothingLeft(local, { port: armPorts[0], runDir, dbPort, cachePort, processes }, armPorts.slice(1));
    } finally {
      await local.dispose();
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run load against LOCAL_ARMS=proxy,direct npm run local', () => {
  test('the printed command names both arms on loopback, the tenants provisioned, the arms in turn (they share one database), seconds rather than minutes', () => {
    expect(armArgs).toEqual(['--arm', `proxy=http://127.0.0.1:${armPorts[0]}`, '--arm', `direct=http://127.0.0.1:${armPorts[1]}`]);
    const options = parseOptions(printed);
    expect(options).toMatchObject({ tenants: LOCAL_TENANTS, path: DEFAULTS.path, order: 'sequential' });
    expect(runSeconds(options)).toBeLessThanOrEqual(60);
  });

  test('run exactly as printed: exit 0, under 1 % failures on each arm, each arm alone in its own window', async () => {
    // The printed command writes to the default --out in the project: keep whatever a user had there.
    const out = path.join(PROJECT_ROOT, DEFAULTS.out);
    const kept = `${out}.kept-by-test-${process.pid}`;
    if (existsSync(out)) renameSync(out, kept);
    try {
      const run = await npmRunLoad(printed, out);
      expect({ code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({ code: 0, output: '' });
      expect(run.report.options.order).toBe('sequential');
      expect(run.report.arms.map((a) => a.name)).toEqual(['proxy', 'direct']);
      for (const arm of run.report.arms) {
        expect(arm.requests).toBeGreaterThan(0);
        expect(arm.failures.percent).toBeLessThan(1);
        expect(arm.hint).toBeUndefined();
        expect(run.html).toContain(`data-window="${arm.name}"`);
      }
      expect(Date.parse(run.report.arms[1].window.start)).toBeGreaterThan(Date.parse(run.report.arms[0].window.end));
    } finally {
      rmSync(out, { recursive: true, force: true });
      if (existsSync(kept)) renameSync(kept, out);
    }
  });

  test('the issue’s mistake, more tenants than local mode provisioned: the summary and the page say what the 404s mean', async () => {
    const out = path.join(dir, 'too-many-tenants');
    const tenants = 200;
    const run = await npmRunLoad([...armArgs, '--order', 'mixed', '--tenants', String(tenants), '--rate', String(RATE), '--duration', String(DURATION), '--out', out], out);
    expect(run.code).toBe(0);
    for (const arm of run.report.arms) {
      // Ids from LOCAL_TENANTS to tenants-1 are unknown: most answers are 404.
      expect(arm.failures.byStatus['404']).toBeGreaterThan(arm.requests / 2);
      expect(arm.hint).toMatch(new RegExp(`^${arm.name}: \\d+ % of requests answered 404; are --tenants and --path right for this deployment\\?$`));
      expect(run.output).toContain(`\n${arm.hint}\n`);
      expect(run.html).toContain(`<li class="hint" data-arm="${arm.name}">`);
    }
  });

  test('a hits path, mixed: every request the report counts as answered is a row in the one database both arms share', async () => {
    const urlPath = `/load-local-${process.pid}`;
    const out = path.join(dir, 'hits');
    const run = await npmRunLoad([...armArgs, '--order', 'mixed', '--path', urlPath, '--rate', String(RATE), '--duration', String(DURATION), '--ensure', 'failures<1%,p99<5000', '--out', out], out);
    expect({ code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({ code: 0, output: '' });
    const answered = run.report.arms.map((a) => a.codes[200] ?? 0);
    for (const n of answered) expect(n).toBeGreaterThan(0);
    expect(await hitsRecorded(runDir, urlPath)).toBe(answered[0] + answered[1]);
    const total = run.report.arms.reduce((n, a) => n + a.requests, 0);
    expect(total).toBeGreaterThanOrEqual(RATE * DURATION * 0.9);
    expect(total).toBeLessThanOrEqual(RATE * DURATION * 1.05 + 1);
  });
});
