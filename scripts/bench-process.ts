/** Wall time and peak memory of a command's whole process tree, for the benchmarks (scripts/bench*.ts). */
import { spawn } from 'child_process';
import * as fs from 'fs';

/** Peak RSS (kB) of a process tree, polled from /proc: VmHWM is each process's high-water mark, so polling misses no peak of a live process. */
function treePeakKb(rootPid: number, seen: Map<number, number>): void {
  const children = (pid: number): number[] => {
    try {
      return fs
        .readdirSync(`/proc/${pid}/task`)
        .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) seen.set(pid, Math.max(seen.get(pid) ?? 0, Number(m[1])));
    } catch {
      /* exited */
    }
    stack.push(...children(pid));
  }
}

/** Runs a command; returns wall seconds and the largest single-process peak RSS in MB seen in its tree. */
export function measure(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ seconds: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const peaks = new Map<number, number>();
    const timer = setInterval(() => treePeakKb(child.pid!, peaks), 10);
    child.on('exit', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ seconds, peakMb: Math.max(0, ...peaks.values()) / 1024 });
    });
  });
}
