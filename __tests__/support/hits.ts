/** Helpers for the function tests: payload 2.0 events, app instances with captured logs. */
import { createHitsApp, type HitsApp, type HitsAppOptions } from '../../functions/hits/app';
import { loadConfig } from '../../functions/lib/config';
import type { HttpEvent, HttpResult, LambdaContext } from '../../functions/lib/http';

let seq = 0;

export function event(method: string, rawPath: string, headers: Record<string, string> = {}): HttpEvent {
  return {
    version: '2.0',
    rawPath,
    rawQueryString: '',
    headers,
    requestContext: { requestId: `test-${++seq}`, http: { method, path: rawPath } },
    isBase64Encoded: false,
  };
}

export interface TestApp extends HitsApp {
  logs: Array<Record<string, unknown>>;
  /** Invokes the handler; `remainingMs` gives it a Lambda context whose clock starts now. */
  call(method: string, path: string, headers?: Record<string, string>, remainingMs?: number): Promise<HttpResult & { json: any; ms: number }>;
}

const open = new Set<TestApp>();

/** An app instance (one "execution environment") built from env, logging into `logs`. */
export function makeApp(env: Record<string, string | undefined>, options: HitsAppOptions = {}): TestApp {
  const logs: Array<Record<string, unknown>> = [];
  const app = createHitsApp(loadConfig(env), { log: (line) => logs.push(JSON.parse(line)), ...options });
  const t: TestApp = {
    ...app,
    logs,
    async call(method, path, headers, remainingMs) {
      const started = performance.now();
      const context: LambdaContext | undefined =
        remainingMs === undefined ? undefined : { awsRequestId: `ctx-${seq}`, getRemainingTimeInMillis: () => Math.max(0, Math.round(remainingMs - (performance.now() - started))) };
      const res = await app.handler(event(method, path, headers), context);
      const ms = performance.now() - started;
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      return { ...res, json: body, ms };
    },
  };
  open.add(t);
  return t;
}

export async function closeApps(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((a) => a.close()));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` as the Lambda entry point would run: `env` merged into process.env, and what the function
 * logs captured as lines in the order written. Both streams: the logger writes info to stdout and
 * warnings and errors to stderr, and Lambda sends both to the log group. All is restored afterwards,
 * whatever `fn` does.
 */
export async function asEntryPoint<T>(env: Record<string, string | undefined>, fn: (lines: string[]) => T | Promise<T>): Promise<{ result: T; lines: string[] }> {
  const saved = { ...process.env };
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    // Node's own process warnings (`(node:PID) Warning: …`, e.g. the AWS SDK's Node version notice) are
    // the runtime's, not lines the function logged.
    if (!/^\(node:\d+\) /.test(String(chunk))) lines.push(String(chunk));
    return true;
  };
  const writes = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    Object.assign(process.env, env);
    return { result: await fn(lines), lines };
  } finally {
    for (const w of writes) w.mockRestore();
    process.env = saved;
  }
}
