/**
 * Lambda entry point of the `tenants` function (API Gateway HTTP API, payload 2.0, route
 * `GET /tenants/{tenantId}/items`). Configuration is read once per execution environment; credentials,
 * tokens and pools live in module scope and are reused across invocations.
 */
import { createTenantsApp } from './app';
import { ConfigError } from '../lib/env';
import { loadTenantsConfig } from './config';

const app = (() => {
  try {
    return createTenantsApp(loadTenantsConfig(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'invalid configuration', variable: err.variable, error: err.message }) + '\n');
    }
    throw err; // fail the cold start: a misconfigured function must not answer
  }
})();

export const handler = app.handler;
