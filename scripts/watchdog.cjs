'use strict';
/**
 * Local mode's watchdog: ends local mode's services and removes its temporary directory when the
 * script that started them dies without doing it itself (SIGKILL, a crash, an OOM kill). Node has
 * no prctl(PR_SET_PDEATHSIG), and mariadbd has no parent-death option, so this small process
 * stands in: it reads its stdin, a pipe from the script, and the kernel closes that pipe however
 * the script ends. On end of input it ends every registered process group and removes the
 * directories named on its command line.
 *
 *   node scripts/watchdog.cjs <dir>...      stdin: one line per process group, "<pgid> <starttime>"
 *
 * It runs detached (its own session), so a terminal's Ctrl-C or hang-up reaches the script, not
 * the watchdog. Plain JavaScript with no dependencies: it starts in a few milliseconds without a
 * TypeScript loader. scripts/lifetime-guard.ts starts it and uses the same functions (exported
 * below) for the script's own clean stop, so both paths end processes the same way.
 */
const fs = require('fs');

/**
 * `starttime` (field 22 of /proc/<pid>/stat, clock ticks after boot) and state of a process, or
 * undefined when it does not exist or is a zombie. A pid plus its start time names one process
 * even if the pid is later reused.
 */
function processInfo(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  return { pgid: Number(fields[2]), startTime: fields[19] };
}

/** Live processes whose process group is `pgid` (the leader may already be gone, e.g. install-db's bootstrap server). */
function groupMembers(pgid) {
  const members = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = processInfo(Number(entry));
    if (info && info.pgid === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * Whether group `pgid`, whose leader started at `startTime`, still has members that are ours. If
 * the leader's pid now belongs to a process with another start time, the pid was reused and the
 * group is someone else's. (A group id cannot be reused while any member of the old group lives.)
 */
function groupAlive({ pgid, startTime }) {
  const leader = processInfo(pgid);
  if (leader) return leader.startTime === startTime && leader.pgid === pgid;
  return groupMembers(pgid).length > 0;
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group ended meanwhile.
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(groups, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = groups.filter(groupAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(50);
  }
}

/**
 * Ends process groups: SIGTERM (mariadbd shuts down cleanly on it), then SIGKILL for whatever is
 * left after `graceMs`. Resolves with the groups that had anything to end.
 */
async function endProcessGroups(groups, graceMs) {
  const alive = groups.filter(groupAlive);
  for (const g of alive) signalGroup(g.pgid, 'SIGTERM');
  const stubborn = await waitGone(alive, graceMs);
  for (const g of stubborn) signalGroup(g.pgid, 'SIGKILL');
  await waitGone(stubborn, 5000);
  return alive;
}

/** Removes directories; a server that just died may still be closing files, so retry briefly. Resolves with those it removed. */
function removeDirs(dirs) {
  const removed = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    removed.push(dir);
  }
  return removed;
}

/** Grace before SIGKILL: long enough for MariaDB's clean shutdown of a tiny throw-away database. */
const GRACE_MS = 10000;

function main() {
  const dirs = process.argv.slice(2);
  const groups = [];
  let pending = '';
  let done = false;
  const finish = async () => {
    if (done) return;
    done = true;
    const ended = await endProcessGroups(groups, GRACE_MS);
    const removed = removeDirs(dirs);
    if (ended.length || removed.length) {
      // Only when the script could not clean up itself: say what was done on its behalf.
      process.stderr.write(`local mode: the script ended without stopping its services; the watchdog ended ${ended.length} process group(s) and removed ${removed.join(', ') || 'nothing'}\n`);
    }
    process.exit(0);
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const [pgid, startTime] = pending.slice(0, newline).trim().split(' ');
      pending = pending.slice(newline + 1);
      if (/^\d+$/.test(pgid) && /^\d+$/.test(startTime)) groups.push({ pgid: Number(pgid), startTime });
    }
  });
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  process.stdin.on('close', finish);
}

if (require.main === module) main();

module.exports = { processInfo, groupAlive, endProcessGroups, removeDirs };
