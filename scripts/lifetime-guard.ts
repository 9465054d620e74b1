/**
 * Ties processes and temporary directories to this process's lifetime, on every exit path: the
 * clean one (`end()`, which local mode calls on a signal, a failure or its parent's death) and the
 * ones where no code of ours runs any more (SIGKILL, a crash), which a detached watchdog covers
 * (scripts/watchdog.cjs: it ends what is left when the pipe from this process closes).
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import type { ProcessGuard } from './services';

/** A process group, named by its leader's pid and start time (so a reused pid is never mistaken for it). */
export interface ProcessGroup {
  readonly pgid: number;
  readonly startTime: string;
}

interface WatchdogModule {
  processInfo(pid: number): { pgid: number; startTime: string } | undefined;
  endProcessGroups(groups: readonly ProcessGroup[], graceMs: number): Promise<ProcessGroup[]>;
  removeDirs(dirs: readonly string[]): string[];
}

const WATCHDOG_PATH = path.join(__dirname, 'watchdog.cjs');
// The watchdog's own functions: the clean stop and the watchdog end processes in the same way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const watchdog = require(WATCHDOG_PATH) as WatchdogModule;

/** How long `end()` waits for SIGTERM before SIGKILL, by default: MariaDB's clean shutdown of a tiny database takes about a second. */
export const DEFAULT_GRACE_MS = 10000;

export class LifetimeGuard implements ProcessGuard {
  private readonly groups: ProcessGroup[] = [];
  private readonly watchdog: ChildProcess;
  private ending?: Promise<void>;

  /** Starts the watchdog. `dirs` are removed on every exit path. */
  constructor(private readonly dirs: readonly string[]) {
    // Detached: its own session, so a terminal's Ctrl-C or hang-up does not stop it before it is
    // needed. stderr inherited: if it ever has to clean up, it says so where the user looks.
    this.watchdog = spawn(process.execPath, [WATCHDOG_PATH, ...dirs], { detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
    this.watchdog.unref();
    // A watchdog that died (someone killed it) must not crash the script with EPIPE.
    this.watchdog.stdin?.on('error', () => undefined);
  }

  /** The watchdog's pid (tests look for it among leftovers). */
  get watchdogPid(): number | undefined {
    return this.watchdog.pid;
  }

  /** Takes charge of a process spawned with `detached: true` (the leader of its own group). */
  adopt(child: ChildProcess): void {
    if (child.pid === undefined) return; // the spawn failed: nothing runs
    const info = watchdog.processInfo(child.pid);
    if (!info) return; // already ended
    const group = { pgid: child.pid, startTime: info.startTime };
    this.groups.push(group);
    this.watchdog.stdin?.write(`${group.pgid} ${group.startTime}\n`);
  }

  /**
   * Ends every adopted process group (SIGTERM, then SIGKILL after `graceMs`), removes the
   * directories, then closes the watchdog's input so it finds nothing left and exits. Safe to call
   * more than once; later calls wait for the first.
   */
  end(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    this.ending ??= (async () => {
      await watchdog.endProcessGroups(this.groups, graceMs);
      watchdog.removeDirs(this.dirs);
      const exited = new Promise<void>((resolve) => {
        if (this.watchdog.exitCode !== null || this.watchdog.signalCode !== null) resolve();
        else this.watchdog.once('exit', () => resolve());
      });
      this.watchdog.stdin?.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
    })();
    return this.ending;
  }
}
