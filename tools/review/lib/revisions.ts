import * as fs from 'fs';
import * as path from 'path';
import { provideNodeModules } from '../../engine/install';
import { git, run, synthesize, tempDir } from './processes';
import { compareSynthOutputs } from './synth-diff';
import { Report } from '../types';

/**
 * Gives the base revision's worktree the working tree's node_modules when both lockfiles are identical
 * (the usual pull request), else the base's own tree: from the engine cache when that lock file was installed
 * before (a working tree switched to the other engine kept the base's there), else `npm ci`.
 */
function provideDependencies(projectDir: string, baseProjectDir: string): 'linked' | 'cached' | 'installed' {
  const lock = (dir: string) => {
    const file = path.join(dir, 'package-lock.json');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  };
  const ours = path.join(projectDir, 'node_modules');
  if (lock(projectDir) === lock(baseProjectDir) && fs.existsSync(ours)) {
    const theirs = path.join(baseProjectDir, 'node_modules');
    // A node_modules symlink committed by mistake would be checked out here; ours replaces it.
    if (fs.lstatSync(theirs, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(theirs);
    fs.symlinkSync(ours, theirs, 'dir');
    return 'linked';
  }
  try {
    return provideNodeModules(baseProjectDir);
  } catch (err) {
    throw new Error(`installing the base revision's packages failed: ${(err as Error).message}`);
  }
}

/**
 * Synthesizes `baseRef` (in a temporary git worktree) and the working tree side by side, then compares them.
 * Nothing is written to the project: both outputs go to a temporary directory, removed afterwards.
 */
export async function reviewAgainstBase(projectDir: string, baseRef: string, log: (line: string) => void = () => {}): Promise<Report> {
  const top = git(projectDir, 'rev-parse', '--show-toplevel');
  const relative = path.relative(fs.realpathSync(top), fs.realpathSync(projectDir));
  const sha = git(projectDir, 'rev-parse', '--verify', `${baseRef}^{commit}`);
  const work = tempDir('cdktf-review-');
  const worktree = path.join(work, 'base');
  try {
    git(top, 'worktree', 'add', '--detach', '--quiet', worktree, sha);
    const baseProjectDir = path.join(worktree, relative);
    log(`base ${baseRef} (${sha.slice(0, 12)}): dependencies ${provideDependencies(projectDir, baseProjectDir)}`);
    const started = Date.now();
    await Promise.all([synthesize(baseProjectDir, path.join(work, 'base.out')), synthesize(projectDir, path.join(work, 'head.out'))]);
    log(`synthesized both revisions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return compareSynthOutputs(path.join(work, 'base.out'), path.join(work, 'head.out'), `\`${baseRef}\` (${sha.slice(0, 12)}) → working tree`);
  } finally {
    run('git', ['worktree', 'remove', '--force', worktree], { cwd: top });
    fs.rmSync(work, { recursive: true, force: true });
    run('git', ['worktree', 'prune'], { cwd: top });
  }
}
