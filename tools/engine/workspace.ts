/**
 * A throw-away copy of a checkout, as git sees it: tracked files and new ones not ignored, as they are on
 * disk (uncommitted edits included), committed once in a fresh repository so that the copy can be switched
 * and `git status` says whether switching back restored it. No node_modules: install.ts provides one.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkoutFiles } from './switch';

/**
 * Copies `root`'s files into a new directory under the system temp dir, committed on branch main, and returns
 * it; the caller removes it. copyFileSync keeps each file's mode (an executable stays one).
 */
export function copyCheckout(root: string, prefix = 'engine-copy-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const file of checkoutFiles(root)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(dir, file));
  }
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=checkout copy', '-c', 'user.email=checkout-copy@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--no-verify', '-m', 'copy');
  return dir;
}

/** `git status --porcelain` of a copy: empty when its files are the committed bytes. */
export function uncommittedChanges(dir: string): string {
  return execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' }).trim();
}
