import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
/** A three-stack cdktf app that uses only Terraform's builtin provider (see its main.ts). */
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
