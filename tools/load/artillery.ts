/**
 * Runs the Artillery CLI as a child process: `node <artillery>/bin/run <args>`, with telemetry off.
 * Artillery 2.0.34 honours ARTILLERY_DISABLE_TELEMETRY: `capture()` returns before sending anything
 * (node_modules/artillery/dist/lib/telemetry.js). 2.0.21 still sent an event with it set, which took a
 * preloaded shim; the network guard in the e2e tests shows no lookup beyond loopback without one.
 */
import { spawn } from 'child_process';
import { createWriteStream } from 'fs';
import * as path from 'path';

export function artilleryBin(): string {
  return path.join(path.dirname(require.resolve('artillery/package.json')), 'bin', 'run');
}

export interface ArtilleryRun {
  /** Artillery's arguments (scenario.ts: artilleryArgs). */
  readonly args: readonly string[];
  /** Everything Artillery prints is appended here too (a sequential test's runs share one log). */
  readonly logFile: string;
  /** Each chunk Artillery prints, as it comes. @default nothing */
  readonly onOutput?: (chunk: string) => void;
  /** Killed (SIGTERM, then SIGKILL) after this long. @default no limit */
  readonly timeoutMs?: number;
  /** More modules to preload (tests: a network guard). @default [] */
  readonly preload?: readonly string[];
  /** Tests only: leave telemetry on, to show what turning it off prevents. @default true */
  readonly silenceTelemetry?: boolean;
  /** Working directory. @default process.cwd() */
  readonly cwd?: string;
}

const quote = (file: string) => `"${file.replace(/(["\\])/g, '\\$1')}"`;

/** Resolves with Artillery's exit code (a signal counts as 1); rejects only when it cannot be started. */
export function runArtillery(run: ArtilleryRun): Promise<number> {
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', ...(run.preload ?? []).map((file) => `--require ${quote(file)}`)].join(' ').trim();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptions };
  // https://www.artillery.io/docs/resources/core/telemetry: the documented switch (any value turns it off).
  if (run.silenceTelemetry === false) delete env.ARTILLERY_DISABLE_TELEMETRY;
  else env.ARTILLERY_DISABLE_TELEMETRY = 'true';
  return new Promise((resolve, reject) => {
    const log = createWriteStream(run.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [artilleryBin(), ...run.args], { cwd: run.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer) => {
      log.write(chunk);
      run.onOutput?.(chunk.toString());
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    let timer: NodeJS.Timeout | undefined;
    if (run.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        forward(Buffer.from(`\nnpm run load: Artillery still running after ${Math.round(run.timeoutMs! / 1000)} s; stopping it\n`));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }, run.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      log.end();
      reject(err);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      log.end(() => resolve(code ?? 1));
    });
  });
}
