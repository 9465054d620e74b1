/**
 * Preloaded into Artillery (`node --require`, see artillery.ts) so that a load test talks to the arms only.
 *
 * Artillery 2.0.21 reports every run to PostHog even with ARTILLERY_DISABLE_TELEMETRY set: in
 * node_modules/artillery/lib/telemetry.js, `init()` always builds a `posthog-node` client and, when disabled,
 * still captures a bare event; `shutdown()` then waits for the client to flush (about 12 s where
 * app.posthog.com cannot be resolved). Putting a client that sends nothing into require's cache under the
 * exact file Artillery would load makes its `require('posthog-node')` return it.
 * https://nodejs.org/api/modules.html#requirecache
 */
'use strict';
const Module = require('module');
const path = require('path');

let resolved;
try {
  const artilleryLib = path.join(path.dirname(require.resolve('artillery/package.json')), 'lib');
  resolved = require.resolve('posthog-node', { paths: [artilleryLib] });
} catch {
  resolved = undefined; // no Artillery or no posthog-node: nothing to silence
}

if (resolved) {
  class PostHog {
    capture() {}
    identify() {}
    flush() { return Promise.resolve(); }
    shutdown() { return Promise.resolve(); }
    shutdownAsync() { return Promise.resolve(); }
  }
  const silenced = new Module(resolved, module);
  silenced.filename = resolved;
  silenced.loaded = true;
  silenced.exports = { PostHog };
  require.cache[resolved] = silenced;
}
