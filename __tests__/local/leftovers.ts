/**
 * What every exit path of local mode must leave: nothing. Shared by the local-mode suites (plain and with arms).
 */
import { existsSync } from 'fs';
import { accepting, bindable, eventually, processTable, stillRunning, type LocalRun, type Serving } from '../support/local-run';

/**
 * The run has ended, no process it started runs (by pid and start time, and by its temp dir in any command
 * line), its TMPDIR is empty; for a run that served, its directory is gone, its MariaDB and memcached accept
 * nothing, and its port and `otherPorts` (the other arms' ports) can be bound again.
 */
export async function expectNothingLeft(run: LocalRun, serving?: Serving, otherPorts: readonly number[] = []): Promise<void> {
  await run.closed;
  const seen = run.processesSeen;
  await eventually(() => stillRunning(seen).length === 0);
  expect(stillRunning(seen).map((p) => p.cmdline)).toEqual([]);
  expect(processTable().filter((p) => p.cmdline.includes(run.tmp)).map((p) => p.cmdline)).toEqual([]);
  expect(run.tmpEntries()).toEqual([]);
  if (serving) {
    expect(existsSync(serving.runDir)).toBe(false);
    expect(await accepting(serving.dbPort)).toBe(false);
    expect(await accepting(serving.cachePort)).toBe(false);
    for (const port of [serving.port, ...otherPorts]) expect(await bindable(port)).toBe(true);
  }
}
