/**
 * Lambda entry point of the `hits` function (API Gateway HTTP API, payload 2.0).
 * Configuration is read once per execution environment; the database pool and the cache
 * connections live in module scope and are reused across invocations.
 */
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { metricsConfigFrom } from '../lib/metrics';
import { createHitsApp } from './app';

const app = (() => {
  try {
    return createHitsApp(loadConfig(process.env), { metrics: metricsConfigFrom(process.env) });
  } catch (err) {
    if (err instanceof ConfigError) createLogger({ service: metricsConfigFrom(process.env).service }).error('invalid configuration', { variable: err.variable, error: err.message });
    throw err; // fail the cold start: a misconfigured function must not answer
  }
})();

export const handler = app.handler;
