/**
 * Jest's node environment, with one change to how jest's worker processes end.
 *
 * At the end of a run jest asks each worker to finish and waits 500 ms for it to exit by itself
 * (jest-worker's workerGracefulExitTimeout) before killing it and warning that "a worker process has
 * failed to exit gracefully". A worker that loaded cdktf and the AWS provider bindings exits by itself
 * slowly, with no handle left open (jest --detectOpenHandles and process.getActiveResourcesInfo() show
 * none): Node tears down the worker's V8 isolate and heap first. Measured on this project's busy 2-core
 * machine, from the worker's 'exit' event to jest seeing it gone: 600-670 ms (killed, warning) exiting by
 * itself, 150-330 ms with process.exit(). So once a worker's event loop is
 * empty, it exits at once. 'beforeExit' only fires when nothing is left to run: a test that does leak a
 * timer, socket or child process still keeps its worker alive, and jest still warns about it.
 * https://nodejs.org/api/process.html#event-beforeexit
 */
import NodeEnvironment from 'jest-environment-node';

const inJestWorker = /jest-worker[\\/]build[\\/]processChild\.js$/.test(process.argv[1] ?? '');
const installed = Symbol.for('hits-tests.exit-when-idle');
if (inJestWorker && !(globalThis as Record<symbol, unknown>)[installed]) {
  (globalThis as Record<symbol, unknown>)[installed] = true;
  process.once('beforeExit', () => process.exit());
}

export default NodeEnvironment;
