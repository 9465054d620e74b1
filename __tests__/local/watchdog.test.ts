/**
 * The watchdog on its own, with real processes: what it ends and removes when its input closes,
 * what it leaves alone (a reused pid), and SIGKILL for a process that ignores SIGTERM.
 */
import { spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { eventually, PROJECT_ROOT } from '../support/local-run';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const watchdog = require('../../scripts/watchdog.cjs') as {
  processInfo(pid: number): { pgid: number; startTime: string } | undefined;
  endProcessGroups(groups: Array<{ pgid: number; startTime: string }>, graceMs: number): Promise<unknown[]>;
};

const started: ChildProcess[] = [];
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'watchdog-test-'));
});

afterEach(() => {
  for (const p of started.splice(0)) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // already gone, as the test expected
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A process group leader, as the services are started under a guard. */
function leader(command: string, args: string[]): ChildProcess {
  const p = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(p);
  return p;
}

const alive = (pid: number) => watchdog.processInfo(pid) !== undefined;

/** Runs the watchdog for `dirs`, registers `lines`, closes its input, and returns its stderr once it exits. */
async function runWatchdog(dirs: string[], lines: string[]): Promise<{ code: number | null; stderr: string }> {
  const w = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts/watchdog.cjs'), ...dirs], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  w.stderr!.on('data', (d) => (stderr += d));
  w.stdin!.end(lines.map((l) => `${l}\n`).join(''));
  const code = await new Promise<number | null>((resolve) => w.once('close', resolve));
  return { code, stderr };
}

test('on end of input: ends registered groups, also members whose leader already exited, and removes the dirs', async () => {
  const server = leader('sleep', ['600']);
  // Like mariadb-install-db's bootstrap server: the leader starts a member, then exits.
  const installer = leader('sh', ['-c', 'sleep 600 & echo $! > "$0"; sleep 0.3', path.join(dir, 'member.pid')]);
  const groups = [server, installer].map((p) => `${p.pid} ${watchdog.processInfo(p.pid!)!.startTime}`);
  expect(await eventually(() => installer.exitCode !== null && existsSync(path.join(dir, 'member.pid')), 10000)).toBe(true);
  const member = Number(readFileSync(path.join(dir, 'member.pid'), 'utf8'));
  expect(alive(member)).toBe(true);
  const runDir = path.join(dir, 'hits-local-x');
  mkdirSync(path.join(runDir, 'mariadb'), { recursive: true });
  writeFileSync(path.join(runDir, 'mariadb', 'ibdata1'), 'x');

  const { code, stderr } = await runWatchdog([runDir], groups);
  expect(code).toBe(0);
  expect(await eventually(() => !alive(server.pid!) && !alive(member), 10000)).toBe(true);
  expect(existsSync(runDir)).toBe(false);
  expect(stderr).toBe(`local mode: the script ended without stopping its services; the watchdog ended 2 process group(s) and removed ${runDir}\n`);
});

test('leaves a process alone whose pid matches but whose start time does not (a reused pid), and says nothing when nothing was left', async () => {
  const bystander = leader('sleep', ['600']);
  const { code, stderr } = await runWatchdog([path.join(dir, 'never-created')], [`${bystander.pid} 1`]);
  expect(code).toBe(0);
  expect(alive(bystander.pid!)).toBe(true);
  expect(stderr).toBe('');
});

test('a process that ignores SIGTERM gets SIGKILL after the grace period', async () => {
  const stubborn = leader(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)']);
  const exited = new Promise((resolve) => stubborn.once('exit', (_code, signal) => resolve(signal)));
  await new Promise((resolve) => stubborn.stdout!.once('data', resolve)); // its SIGTERM handler is in place
  const group = { pgid: stubborn.pid!, startTime: watchdog.processInfo(stubborn.pid!)!.startTime };
  const ended = await watchdog.endProcessGroups([group], 500);
  expect(ended).toHaveLength(1);
  expect(await exited).toBe('SIGKILL');
});
