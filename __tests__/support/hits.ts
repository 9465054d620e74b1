/** Helpers for the function tests: payload 2.0 events, app instances with captured logs. */
import { createHitsApp, type HitsApp, type HitsAppOptions } from '../../functions/hits/app';
import { loadConfig } from '../../functions/lib/config';
import type { HttpEvent, HttpResult, LambdaContext } from '../../functions/lib/http';
import { createLogger } from '../../functions/lib/log';

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
  const app = createHitsApp(loadConfig(env), { log: createLogger((line) => logs.push(JSON.parse(line))), ...options });
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
 * Runs `fn` as the Lambda entry point would run: `env` merged into process.env, and stdout (where the
 * function logs) captured as lines. Both are restored afterwards, whatever `fn` does.
 */
export async function asEntryPoint<T>(env: Record<string, string | undefined>, fn: (lines: string[]) => T | Promise<T>): Promise<{ result: T; lines: string[] }> {
  const saved = { ...process.env };
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    Object.assign(process.env, env);
    return { result: await fn(lines), lines };
  } finally {
    write.mockRestore();
    process.env = saved;
  }
}
