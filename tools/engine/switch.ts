/**
 * Switches a checkout's files from one engine to the other: every import in the files git lists, package.json,
 * and the lock files (package-lock.json and the parked tools/engine/<engine>.package-lock.json trade places).
 * Installing is install.ts's part. Nothing is written unless every file can be switched back byte for byte.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { activeEngine, Engine, EngineName, ENGINES, parkedLockPath } from './engines';
import { lockedRootRanges, rewriteImports, rewritePackageJson, SOURCE_FILE } from './rewrite';

/** The files of the checkout: tracked, and new ones not ignored (what `git status` would show), that exist. */
export function checkoutFiles(root: string): string[] {
  let listed: string;
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`${root} is not a git checkout: the switch rewrites the files git lists (${(err as Error).message.split('\n')[0]})`);
  }
  return [...new Set(listed.split('\0').filter(Boolean))].filter((file) => fs.statSync(path.join(root, file), { throwIfNoEntry: false })?.isFile());
}

export interface SwitchPlan {
  readonly from: Engine;
  readonly to: Engine;
  /** New contents by path relative to the root (package.json and every source file whose imports change). */
  readonly writes: ReadonlyMap<string, string>;
}

/** What switching `root` to `target` would write; throws, naming every file, when it could not be undone exactly. */
export function planSwitch(root: string, target: EngineName): SwitchPlan {
  const from = activeEngine(root);
  const to = ENGINES[target];
  const writes = new Map<string, string>();
  if (from.name === to.name) return { from, to, writes };
  const targetLock = parkedLockPath(root, to.name);
  if (!fs.existsSync(targetLock)) throw new Error(`${path.relative(root, targetLock)} is missing: it holds the ${to.title} dependency tree the switch installs`);
  const parked = parkedLockPath(root, from.name);
  if (fs.existsSync(parked)) throw new Error(`${path.relative(root, parked)} exists, and the switch would overwrite it with package-lock.json: remove whichever of the two is stale`);
  const currentLock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(currentLock)) throw new Error('package-lock.json is missing: run npm install first, so that switching back can restore it');

  const problems: string[] = [];
  for (const file of checkoutFiles(root).filter((f) => SOURCE_FILE.test(f))) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const switched = rewriteImports(text, from, to);
    if (switched === text) continue;
    if (rewriteImports(switched, to, from) !== text) problems.push(`${file}: imports ${to.library} or ${to.provider} already, so switching back would change it`);
    else writes.set(file, switched);
  }
  const pkgText = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
  const switchedPkg = rewritePackageJson(pkgText, from, to, lockedRootRanges(fs.readFileSync(targetLock, 'utf8'), path.relative(root, targetLock)));
  const back = rewritePackageJson(switchedPkg, to, from, lockedRootRanges(fs.readFileSync(currentLock, 'utf8')));
  if (back !== pkgText) problems.push(`package.json: its ${from.title} entries differ from package-lock.json's (run npm install), or it already names ${to.title}'s packages or script`);
  else writes.set('package.json', switchedPkg);
  if (problems.length) throw new Error(`cannot switch to ${to.title}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { from, to, writes };
}

/** Switches the files of `root` to `target` (no install); `npm run engine` then installs. */
export function switchFiles(root: string, target: EngineName): SwitchPlan {
  return applySwitch(root, planSwitch(root, target));
}

/** Writes what `plan` (planSwitch's, for `root` as it still is) says, and swaps the lock files. */
export function applySwitch(root: string, plan: SwitchPlan): SwitchPlan {
  if (plan.from.name === plan.to.name) return plan;
  for (const [file, text] of plan.writes) if (file !== 'package.json') fs.writeFileSync(path.join(root, file), text);
  fs.writeFileSync(path.join(root, 'package.json'), plan.writes.get('package.json')!);
  fs.renameSync(path.join(root, 'package-lock.json'), parkedLockPath(root, plan.from.name));
  fs.renameSync(parkedLockPath(root, plan.to.name), path.join(root, 'package-lock.json'));
  return plan;
}
