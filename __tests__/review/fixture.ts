import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { plan } from '../../tools/review/plan';
import { review } from '../../tools/review/review';

export const ROOT = path.resolve(__dirname, '..', '..');
/** A three-stack cdktf app that uses only Terraform's builtin provider (see its main.js). */
export const FIXTURE_APP = path.join(ROOT, '__tests__', 'fixtures', 'review-app');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the review scripts (`tools/review/review.ts`, `tools/review/plan.ts`) as `npm run` would. */
export function runScript(script: 'review' | 'plan', args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ScriptResult {
  const r = spawnSync(TSX, [path.join(ROOT, 'tools', 'review', `${script}.ts`), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * Runs `npm run review` / `npm run plan` in this process: the same function the command line calls, minus a
 * tsx start per call (about a second of CPU each). `env` is applied to process.env for the call, as the
 * command line would inherit it (the fixture's synth and Terraform read it).
 */
export async function runTool(tool: 'review' | 'plan', args: string[], options: { env?: Record<string, string> } = {}): Promise<ScriptResult> {
  const saved = { ...process.env };
  Object.assign(process.env, options.env ?? {});
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  try {
    const code = await (tool === 'review' ? review(args, io) : plan(args, io));
    return { code, stdout, stderr };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
