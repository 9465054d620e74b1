/**
 * Drives the real `npm run local` (or the script directly) as a user would, and observes what it
 * leaves behind: its output, the processes it started (read from /proc, by pid and start time),
 * the ports it used and the temporary directory it names. Each run gets its own TMPDIR, so
 * "nothing left" is checked on exactly that run's files, whatever else runs on the machine.
 */
import { spawn, type ChildProcess } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';

export const PROJECT_ROOT = path.resolve(__dirname, '../..');

export interface ProcessEntry {
  pid: number;
  ppid: number;
  startTime: string;
  cmdline: string;
}

/** Every live (non-zombie) process. */
export function processTable(): ProcessEntry[] {
  const table: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      table.push({ pid: Number(entry), ppid: Number(fields[1]), startTime: fields[19], cmdline });
    } catch {
      // ended while we looked
    }
  }
  return table;
}

/** `root` and every process below it. */
export function processTree(rootPid: number): ProcessEntry[] {
  const table = processTable();
  const tree = table.filter((p) => p.pid === rootPid);
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

/** Those of `processes` that still run (same pid and start time: a reused pid does not count). */
export function stillRunning(processes: readonly ProcessEntry[]): ProcessEntry[] {
  const now = new Map(processTable().map((p) => [p.pid, p.startTime]));
  return processes.filter((p) => now.get(p.pid) === p.startTime);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `ms` pass; returns its last answer. No timing is asserted, only an outcome. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 30000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Whether this process can bind 127.0.0.1:port (nobody holds it). */
export function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Wraps test bodies so that at most `max` of them run at once: each local-mode run bundles the function and
 * bootstraps MariaDB, and a burst of them on a small shared machine would starve the other suites'
 * timeouts (the cache's 150 ms bound).
 */
export function limitConcurrency(max: number): <T>(fn: () => Promise<T>) => () => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return (fn) => async () => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

export interface Serving {
  port: number;
  runDir: string;
  dbPort: number;
  cachePort: number;
  /** The processes of the run while it served, launcher included. */
  processes: ProcessEntry[];
}

export class LocalRun {
  readonly child: ChildProcess;
  /** This run's TMPDIR (removed by `dispose`). */
  readonly tmp: string;
  stdout = '';
  stderr = '';
  /** Resolves when the launched process and everything holding its output (script, watchdog) are gone. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /**
   * `via`: `npm` runs `npm run local`, `script` runs the script as npm would (node --import tsx).
   * `ownGroup`: start it as a process group leader, like a terminal's foreground job, so a test
   * can send Ctrl-C's SIGINT to the whole group.
   */
  constructor(via: 'npm' | 'script', env: Record<string, string>, options: { ownGroup?: boolean; tmpParent?: string } = {}) {
    this.tmp = mkdtempSync(path.join(options.tmpParent ?? tmpdir(), 'local-run-'));
    const [command, args] = via === 'npm' ? ['npm', ['run', 'local']] : [process.execPath, ['--import', 'tsx', 'scripts/local.ts']];
    this.child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin`, TMPDIR: this.tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.ownGroup ?? false,
    });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.closed = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
    // Everything the run starts is a descendant of the launcher until the launcher ends (later
    // orphans are reparented away): sample the tree so no short-lived process goes unseen.
    const sample = () => {
      for (const p of processTree(this.child.pid!)) this.seen.set(`${p.pid}/${p.startTime}`, p);
    };
    const sampler = setInterval(sample, 100);
    this.child.once('exit', () => clearInterval(sampler));
    sample();
  }

  private readonly seen = new Map<string, ProcessEntry>();

  /** Every process seen in the run's process tree so far (launcher, script, watchdog, install-db, servers). */
  get processesSeen(): ProcessEntry[] {
    return [...this.seen.values()];
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Output lines written by local mode itself: npm's own ("> script" banner, "npm error …" in some npm versions) left out. */
  ownLines(): string[] {
    return this.output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('> ') && !l.startsWith('npm '));
  }

  async waitFor(pattern: RegExp, ms = 60000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    const ok = await eventually(() => (match = pattern.exec(this.output)) !== null || this.child.exitCode !== null, ms);
    if (!match) throw new Error(`no ${pattern} in the output (${ok ? 'the process ended' : 'timed out'}):\n${this.output}`);
    return match;
  }

  /** Waits until it serves, and records what runs for it. */
  async serving(): Promise<Serving> {
    const m = await this.waitFor(/hits function: http:\/\/127\.0\.0\.1:(\d+)\/ +\(MariaDB 127\.0\.0\.1:(\d+), memcached 127\.0\.0\.1:(\d+); .* removes (\S+)\)/);
    return { port: Number(m[1]), dbPort: Number(m[2]), cachePort: Number(m[3]), runDir: m[4], processes: processTree(this.child.pid!) };
  }

  /** The pid of the script itself (`node … scripts/local.ts`), the launcher's descendant or the launcher. */
  scriptPid(): number {
    const script = processTree(this.child.pid!).find((p) => p.cmdline.includes('scripts/local.ts'));
    if (!script) throw new Error(`no local.ts process under ${this.child.pid}`);
    return script.pid;
  }

  /**
   * Entries of this run's TMPDIR other than tsx's transform cache (tsx-<uid>) and npm's own compile cache
   * (npm's cli.js calls Node's module.enableCompileCache(), which writes `node-compile-cache` there on Node ≥ 22).
   */
  tmpEntries(): string[] {
    return readdirSync(this.tmp).filter((e) => !/^tsx-\d+$/.test(e) && e !== 'node-compile-cache');
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
