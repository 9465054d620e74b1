/**
 * Runs the Artillery CLI as a child process: `node <artillery>/bin/run <args>`, with telemetry off twice
 * (the documented variable, and no-telemetry.cjs preloaded, since the variable alone still sends an event).
 */
import { spawn } from 'child_process';
import { createWriteStream } from 'fs';
import * as path from 'path';

/** The preload that silences Artillery's telemetry client. */
export const NO_TELEMETRY_SHIM = path.join(__dirname, 'no-telemetry.cjs');

export function artilleryBin(): string {
  return path.join(path.dirname(require.resolve('artillery/package.json')), 'bin', 'run');
}

export interface ArtilleryRun {
  /** Artillery's arguments (scenario.ts: artilleryArgs). */
  readonly args: readonly string[];
  /** Everything Artillery prints goes here too. */
  readonly logFile: string;
  /** Each chunk Artillery prints, as it comes. @default nothing */
  readonly onOutput?: (chunk: string) => void;
  /** Killed (SIGTERM, then SIGKILL) after this long. @default no limit */
  readonly timeoutMs?: number;
  /** More modules to preload (tests: a network guard). @default [] */
  readonly preload?: readonly string[];
  /** Tests only: leave out the telemetry preload, to show what it prevents. @default true */
  readonly silenceTelemetry?: boolean;
  /** Working directory. @default process.cwd() */
  readonly cwd?: string;
}

const quote = (file: string) => `"${file.replace(/(["\\])/g, '\\$1')}"`;

/** Resolves with Artillery's exit code (a signal counts as 1); rejects only when it cannot be started. */
export function runArtillery(run: ArtilleryRun): Promise<number> {
  const preload = [...(run.silenceTelemetry === false ? [] : [NO_TELEMETRY_SHIM]), ...(run.preload ?? [])];
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', ...preload.map((file) => `--require ${quote(file)}`)].join(' ').trim();
  // https://www.artillery.io/docs/resources/core/telemetry: the documented switch (any value turns it off).
  const env = { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', NODE_OPTIONS: nodeOptions };
  return new Promise((resolve, reject) => {
    const log = createWriteStream(run.logFile);
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
