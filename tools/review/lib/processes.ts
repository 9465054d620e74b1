import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The repository that holds these scripts: its node_modules/.bin serves projects without their own (the test fixture). */
const TOOLS_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; never throws on a non-zero exit (callers read the code, as Terraform's exit codes carry meaning). */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Result {
  const r = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** `git …` that must succeed. */
export function git(cwd: string, ...args: string[]): string {
  const r = run('git', args, { cwd });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The `app` command of a cdktf project (cdktf.json), as `cdktf synth` would run it. */
export function appCommand(projectDir: string): string {
  const config = JSON.parse(fs.readFileSync(path.join(projectDir, 'cdktf.json'), 'utf8')) as { app?: string };
  if (!config.app) throw new Error(`${projectDir}/cdktf.json has no "app"`);
  return config.app;
}

/**
 * Synthesizes a cdktf project into `outDir` by running its app command with CDKTF_OUTDIR, without the cdktf CLI
 * (faster, and the same JSON). Asynchronous so that two revisions can synthesize side by side.
 */
export function synthesize(projectDir: string, outDir: string, baseEnv: NodeJS.ProcessEnv = process.env): Promise<void> {
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  const env = {
    ...baseEnv,
    CDKTF_OUTDIR: outDir,
    PATH: [path.join(projectDir, 'node_modules', '.bin'), path.join(TOOLS_ROOT, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', appCommand(projectDir)], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`synth of ${projectDir} failed (exit ${code}):\n${output.trim().slice(-4000)}`))));
  });
}

/** Environment for Terraform in automation: no update check, no prompts, and no CLI config file that is not there. */
export function terraformEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  // A TF_CLI_CONFIG_FILE naming a missing file makes every command print a warning block into its output.
  if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  return env;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
