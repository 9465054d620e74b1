/**
 * `npm run load` for real: the CLI (as npm runs it) drives Artillery against three loopback arms, a slow
 * one, one failing every third request and one with nothing listening, mixed, and the report must show what
 * each did; the page is then opened in Chromium. Every process of the run carries a network guard that
 * records any attempt to reach beyond 127.0.0.1; a run with telemetry left on shows the guard would
 * see Artillery's telemetry. Then two arms in turn (--order sequential), their requests timed as they
 * arrive; and the command lines a user can get wrong, typed as a user types them.
 * Bounded: 30 requests/s for 4 s; 1 request/s for 1 s; 10 requests/s for 2 s per arm, 2 s apart.
 */
import { spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { runArtillery } from '../../tools/load/artillery';
import { usage } from '../../tools/command-line';
import { LOAD_COMMAND, parseOptions } from '../../tools/load/options';
import { artilleryArgs, buildScript } from '../../tools/load/scenario';
import type { LoadReport } from '../../tools/load/types';
import { artifactsDir, launchChromium } from '../support/browser';

jest.setTimeout(120000);

const ROOT = path.resolve(__dirname, '../..');
const GUARD = path.join(__dirname, 'net-guard.cjs');
/** Far above what the other arms take on a busy machine, so their latencies cannot be mistaken for each other. */
const DELAY_MS = 250;
const RATE = 30;
const DURATION = 4;

interface Arm {
  readonly server: http.Server;
  readonly tally: { requests: number; failed: number; paths: string[] };
  url: string;
}

async function arm(handle: (tally: Arm['tally'], res: http.ServerResponse) => void): Promise<Arm> {
  const tally = { requests: 0, failed: 0, paths: [] as string[] };
  const server = http.createServer((req, res) => {
    tally.requests++;
    tally.paths.push(req.url ?? '');
    handle(tally, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, tally, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let dir: string;
let slow: Arm;
let flaky: Arm;
let downUrl: string;
let run: { code: number | null; stdout: string; stderr: string };
let report: LoadReport;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'load-run-'));
  slow = await arm((_t, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}'), DELAY_MS));
  flaky = await arm((t, res) => {
    if (t.requests % 3 === 0) {
      t.failed++;
      res.writeHead(503, { 'retry-after': '1' }).end('busy');
    } else res.writeHead(200).end('{}');
  });
  // A port that was free a moment ago and is closed again: nothing listens there.
  const closed = await arm(() => undefined);
  downUrl = closed.url;
  await new Promise((resolve) => closed.server.close(resolve));

  run = await new Promise((resolve) => {
    const child = spawn(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      ['tools/load/load.ts', '--arm', `slow=${slow.url}`, '--arm', `flaky=${flaky.url}/prefix/`, '--arm', `down=${downUrl}`, '--order', 'mixed', '--path', '/tenants/{tenant}/items', '--tenants', '3', '--rate', String(RATE), '--duration', String(DURATION), '--out', path.join(dir, 'out'), '--ensure', 'p99<5000,failures<1%'],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: `--require ${GUARD}`, NET_GUARD_LOG: path.join(dir, 'net.log') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  if (existsSync(path.join(dir, 'out/report.json'))) report = JSON.parse(readFileSync(path.join(dir, 'out/report.json'), 'utf8'));
});

afterAll(async () => {
  for (const a of [slow, flaky]) if (a) await new Promise((resolve) => a.server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('a short real run against three loopback arms', () => {
  test('exits 2 and names each breached threshold: failures on the failing arm, everything on the dead one', () => {
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('BREACHED flaky: failures<1%');
    expect(run.stdout).toContain('BREACHED down: failures<1%');
    expect(run.stdout).toContain('BREACHED down: p99<5000 (actual no data)');
    expect(run.stdout).not.toContain('BREACHED slow');
  });

  test('writes report.json, report.html, Artillery’s raw.json, the scenario and the log', () => {
    for (const file of ['report.json', 'report.html', 'raw.json', 'scenario.json', 'artillery.log']) expect(statSync(path.join(dir, 'out', file)).size).toBeGreaterThan(100);
  });

  test('the report reflects what each arm did', () => {
    const [s, f, d] = report.arms;
    expect(report.arms.map((a) => a.name)).toEqual(['slow', 'flaky', 'down']);
    // Every request the servers saw, and nothing else, is in the report.
    expect(s.requests).toBe(slow.tally.requests);
    expect(f.requests).toBe(flaky.tally.requests);
    expect(s.failures.total).toBe(0);
    expect(s.latency!.p50).toBeGreaterThanOrEqual(DELAY_MS);
    expect(f.codes).toEqual({ 200: flaky.tally.requests - flaky.tally.failed, 503: flaky.tally.failed });
    expect(f.failures).toMatchObject({ total: flaky.tally.failed, byStatus: { 503: flaky.tally.failed }, byError: {} });
    expect(f.latency!.p50).toBeLessThan(DELAY_MS);
    expect(d.failures.byError).toEqual({ ECONNREFUSED: d.requests });
    expect([d.latency, d.throughput, d.failures.percent]).toEqual([null, 0, 100]);
    // The schedule held: about rate × duration requests in all, each arm a share of them.
    const total = s.requests + f.requests + d.requests;
    expect(total).toBeGreaterThanOrEqual(RATE * DURATION * 0.9);
    expect(total).toBeLessThanOrEqual(RATE * DURATION * 1.05 + 1);
    for (const a of report.arms) expect(a.requests).toBeGreaterThan(0);
    // Tenants drawn from 0 … tenants-1, under the arm's path prefix.
    expect(new Set(flaky.tally.paths)).toEqual(new Set(['/prefix/tenants/0/items', '/prefix/tenants/1/items', '/prefix/tenants/2/items']));
    // Per-period series add up to the totals.
    for (const a of report.arms) expect(a.series.reduce((n, p) => n + p.requests, 0)).toBe(a.requests);
  });

  test('nothing in the run (CLI or Artillery) tried to resolve or reach a host beyond 127.0.0.1', () => {
    const attempts = existsSync(path.join(dir, 'net.log')) ? readFileSync(path.join(dir, 'net.log'), 'utf8') : '';
    expect(attempts).toBe('');
  });

  test('the page renders in Chromium without a single network request: table and charts for every arm', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      const url = pathToFileURL(path.join(dir, 'out/report.html')).href;
      await page.goto(url);
      expect(requested).toEqual([url]);
      for (const a of report.arms) {
        await expect(page.locator(`tr[data-arm="${a.name}"] th`).innerText()).resolves.toContain(a.name);
        for (const chart of ['throughput', 'failures', 'requests']) expect(await page.locator(`[data-chart="${chart}"] g[data-series="${a.name}"] circle`).count()).toBe(a.series.length);
        const latencyPoints = await page.locator(`[data-chart="latency"] g[data-series="${a.name}"] circle`).count();
        expect(latencyPoints).toBe(a.latency ? 3 * a.series.filter((p) => p.latency).length : 0);
      }
      for (const chart of ['throughput', 'failures', 'latency', 'requests']) {
        const box = await page.locator(`[data-chart="${chart}"] svg`).first().boundingBox();
        expect(box!.width).toBeGreaterThan(300);
        expect(box!.height).toBeGreaterThan(100);
      }
      // The headline bars as drawn: each arm's throughput bar as long, relative to the longest, as its figure.
      const widths = await Promise.all(report.arms.map(async (a) => (await page.locator(`[data-metric="throughput"] [data-arm="${a.name}"] .bar`).boundingBox())!.width));
      const top = Math.max(...report.arms.map((a) => a.throughput));
      report.arms.forEach((a, i) => expect(widths[i] / Math.max(...widths)).toBeCloseTo(a.throughput / top, 1));
      await expect(page.locator('[data-metric="p99"] [data-arm="down"] .value').innerText()).resolves.toBe('no data');
      await expect(page.locator('.verdict').innerText()).resolves.toBe(`${report.thresholds.filter((t) => !t.ok).length} threshold checks breached`);
      const screenshot = path.join(artifactsDir(), 'load-report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      const png = readFileSync(screenshot);
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.length).toBeGreaterThan(30_000);
    } finally {
      await browser.close();
    }
  });
});

test('with telemetry left on, the guard sees Artillery reach for its telemetry host (so the check above can fail)', async () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'load-telemetry-'));
  try {
    const options = parseOptions(['--arm', `slow=${slow.url}`, '--path', '/x', '--rate', '1', '--duration', '1']);
    writeFileSync(path.join(scratch, 'scenario.json'), JSON.stringify(buildScript(options)));
    const log = path.join(scratch, 'net.log');
    // The guard ends Artillery with 97 at its first attempt, rather than waiting out the telemetry client's retries.
    Object.assign(process.env, { NET_GUARD_LOG: log, NET_GUARD_EXIT: '97' });
    try {
      const code = await runArtillery({ args: artilleryArgs(options, path.join(scratch, 'scenario.json'), path.join(scratch, 'raw.json')), logFile: path.join(scratch, 'artillery.log'), preload: [GUARD], silenceTelemetry: false, timeoutMs: 60000 });
      expect(code).toBe(97);
    } finally {
      delete process.env.NET_GUARD_LOG;
      delete process.env.NET_GUARD_EXIT;
    }
    expect(readFileSync(log, 'utf8')).toMatch(/posthog/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

describe('--order sequential against two loopback arms: each alone, one after the other', () => {
  const SEQ_RATE = 10;
  const SEQ_DURATION = 2;
  const COOLDOWN = 2;
  let first: Arm & { arrivals: number[] };
  let second: Arm & { arrivals: number[] };
  let seq: { code: number | null; stdout: string; stderr: string };
  let seqReport: LoadReport;
  /** When each of the tool's progress lines reached this process (ms). */
  const said = new Map<string, number>();
  const out = () => path.join(dir, 'sequential');

  const timedArm = async () => {
    const arrivals: number[] = [];
    const a = await arm((_t, res) => void res.writeHead(200).end('{}'));
    a.server.on('request', () => arrivals.push(Date.now()));
    return Object.assign(a, { arrivals });
  };

  beforeAll(async () => {
    first = await timedArm();
    second = await timedArm();
    seq = await new Promise((resolve) => {
      const child = spawn(
        path.join(ROOT, 'node_modules/.bin/tsx'),
        ['tools/load/load.ts', '--arm', `first=${first.url}`, '--arm', `second=${second.url}`, '--order', 'sequential', '--cooldown', String(COOLDOWN), '--path', '/x', '--rate', String(SEQ_RATE), '--duration', String(SEQ_DURATION), '--out', out()],
        { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: `--require ${GUARD}`, NET_GUARD_LOG: path.join(dir, 'net-sequential.log') }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        for (const line of String(d).split('\n')) if (line.startsWith('npm run load: ')) said.set(line, Date.now());
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    if (existsSync(path.join(out(), 'report.json'))) seqReport = JSON.parse(readFileSync(path.join(out(), 'report.json'), 'utf8'));
  });

  afterAll(async () => {
    for (const a of [first, second]) if (a) await new Promise((resolve) => a.server.close(resolve));
  });

  test('exits 0; each arm got its full schedule', () => {
    expect({ code: seq.code, stderr: seq.code === 0 ? '' : seq.stderr }).toEqual({ code: 0, stderr: '' });
    for (const a of [first, second]) {
      expect(a.tally.requests).toBeGreaterThanOrEqual(SEQ_RATE * SEQ_DURATION * 0.9);
      expect(a.tally.requests).toBeLessThanOrEqual(SEQ_RATE * SEQ_DURATION * 1.05 + 1);
    }
  });

  test('every request of the first arm arrived before any of the second, the cool-down between them', () => {
    const lastOfFirst = Math.max(...first.arrivals);
    const firstOfSecond = Math.min(...second.arrivals);
    expect(first.arrivals.length).toBeGreaterThan(0);
    expect(second.arrivals.length).toBeGreaterThan(0);
    expect(firstOfSecond - lastOfFirst).toBeGreaterThanOrEqual(COOLDOWN * 1000);
    // The cool-down itself, not only Artillery's start-up: it began after the first arm's last request, and
    // the second arm began after it (lines timed as they arrived here; 100 ms for the pipe).
    const cooling = said.get(`npm run load: cooling down ${COOLDOWN} s before arm second`)!;
    const secondStarts = [...said.entries()].find(([line]) => line.startsWith('npm run load: arm second '))![1];
    expect(cooling).toBeGreaterThanOrEqual(lastOfFirst);
    expect(secondStarts - cooling).toBeGreaterThanOrEqual(COOLDOWN * 1000 - 100);
    expect(firstOfSecond).toBeGreaterThanOrEqual(secondStarts - 100);
  });

  test('the report says the order and gives each arm its own window, around its own requests', () => {
    expect(seqReport.options).toMatchObject({ order: 'sequential', cooldown: COOLDOWN });
    const [a, b] = seqReport.arms;
    expect([a.name, b.name]).toEqual(['first', 'second']);
    expect([a.requests, b.requests]).toEqual([first.tally.requests, second.tally.requests]);
    for (const [r, server] of [[a, first], [b, second]] as const) {
      expect(Date.parse(r.window.start)).toBeLessThanOrEqual(Math.min(...server.arrivals));
      expect(Date.parse(r.window.end)).toBeGreaterThanOrEqual(Math.max(...server.arrivals));
    }
    expect(Date.parse(b.window.start) - Date.parse(a.window.end)).toBeGreaterThanOrEqual(COOLDOWN * 1000);
    // Each arm's rate is over its own window: about the full --rate, not half of it.
    for (const r of [a, b]) expect(r.rps).toBeGreaterThan(SEQ_RATE * 0.75);
    const html = readFileSync(path.join(out(), 'report.html'), 'utf8');
    expect(html).toContain('data-order="sequential"');
    for (const r of [a, b]) expect(html).toContain(`<dd data-window="${r.name}"><time datetime="${r.window.start}">`);
  });

  test('one Artillery run per arm: its own script and results; one log', () => {
    for (const name of ['first', 'second']) {
      const script = JSON.parse(readFileSync(path.join(out(), `scenario-${name}.json`), 'utf8'));
      expect(script.scenarios.map((sc: { name: string }) => sc.name)).toEqual([name]);
      expect(statSync(path.join(out(), `raw-${name}.json`)).size).toBeGreaterThan(100);
    }
    expect(readFileSync(path.join(out(), 'artillery.log'), 'utf8').match(/All VUs finished/g)).toHaveLength(2);
    expect(seq.stderr).toMatch(/npm run load: arm first \(1 of 2\) alone at 10 requests\/s\n[\s\S]*npm run load: cooling down 2 s before arm second\n[\s\S]*npm run load: arm second \(2 of 2\)/);
  });

  test('nothing in the run tried to leave 127.0.0.1', () => {
    const log = path.join(dir, 'net-sequential.log');
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
  });
});

describe('command lines as a user types them: npm run load -- …', () => {
  /**
   * `npm run load -- <args>`: exit code and the tool's own lines (npm's banner on stdout aside). The arms are
   * execute-api URLs (the region check needs them): should a command be accepted after all, the guard ends
   * it at its first lookup beyond loopback, and --duration 1 bounds it anyway.
   */
  const npmRunLoad = (args: readonly string[]) =>
    new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const env = { ...process.env, NODE_OPTIONS: `--require ${GUARD}`, NET_GUARD_LOG: path.join(dir, 'net-cli.log'), NET_GUARD_EXIT: '97', npm_config_update_notifier: 'false' };
      const child = spawn('npm', ['run', 'load', '--', '--duration', '1', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const arms = ['--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=https://zyx987wvut.execute-api.eu-west-1.amazonaws.com'];

  test.each([
    ['a hexadecimal rate', [...arms, '--rate', '0x10'], 'npm run load: --rate: expected a decimal number such as 30 or 12.5, got "0x10"'],
    ['an unknown option', [...arms, '--rates', '10'], 'npm run load: unknown option --rates (npm run load -- --help lists the options)'],
    ['a region that contradicts the arm URLs', [...arms, '--cloudwatch', '--region', 'us-east-1'], "npm run load: --region us-east-1 contradicts --arm: arm proxy's URL is in eu-west-1, where --cloudwatch reads the metrics; drop --region"],
  ])('%s: exit 1, one line naming the option', async (_what, args, line) => {
    const r = await npmRunLoad(args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: `${line}\n` });
  });

  test('--help: exit 0, the synopsis and the options', async () => {
    const r = await npmRunLoad(['--help']);
    expect(r.code).toBe(0);
    // Whole lines, whether npm printed its banner above them or not (npm run -s, or a silent loglevel inherited).
    expect(`\n${r.stdout}`).toContain(`\n${usage(LOAD_COMMAND)}\n`);
    expect(r.stderr).toBe('');
  });
});
