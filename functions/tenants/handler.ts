/**
 * Lambda entry point of the `tenants` function (API Gateway HTTP API, payload 2.0, route
 * `GET /tenants/{tenantId}/items`). Configuration is read once per execution environment; credentials,
 * tokens and pools live in module scope and are reused across invocations.
 */
import { ConfigError } from '../lib/env';
import { createLogger } from '../lib/log';
import { metricsConfigFrom } from '../lib/metrics';
import { createTenantsApp } from './app';
import { loadTenantsConfig } from './config';

const metrics = metricsConfigFrom(process.env, 'tenants-local');

const app = (() => {
  try {
    return createTenantsApp(loadTenantsConfig(process.env), { metrics });
  } catch (err) {
    if (err instanceof ConfigError) createLogger({ service: metrics.service }).error('invalid configuration', { variable: err.variable, error: err.message });
    throw err; // fail the cold start: a misconfigured function must not answer
  }
})();

export const handler = app.handler;
