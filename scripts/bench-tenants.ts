/**
 * Tenants benchmark against a throw-away local MariaDB (127.0.0.1 only):
 * 1. provisioning time for N tenants × M rows (default 1,000 × 1,000), as the deploy-time step runs it
 *    (one connection, batches of 1,000 rows);
 * 2. tenant route latency (median, p99) with R tenants requested round-robin (default 200) by one
 *    execution environment, sequentially as Lambda serves them: once with the default connection bound
 *    (most requests open a pool) and once with every tenant's pool kept (bound ≥ tenants, when MariaDB
 *    allows that many connections);
 * 3. STS calls per 10,000 requests on the IAM path (credentials cache, real token signer; AssumeRole
 *    answered in-process, login with the local password since MariaDB has no AWSAuthenticationPlugin).
 *
 *   npx tsx scripts/bench-tenants.ts [--tenants N] [--rows M] [--route-tenants R] [--requests Q (default 10000)]
 */
import { createConnection } from 'mysql2/promise';
import { passwordAuth } from '../functions/migrate/runner';
import { provisionTenants } from '../functions/migrate/tenants';
import { createTenantsApp, type TenantsAppOptions } from '../functions/tenants/app';
import type { TenantsConfig } from '../functions/tenants/config';
import type { AssumeRole } from '../functions/tenants/credentials';
import { MariaDb } from './services';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive whole number, got "${process.argv[i + 1]}"`);
  return v;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const PASSWORD = 'bench-tenant-password';

async function main(): Promise<void> {
  const tenants = arg('tenants', 1000);
  const rows = arg('rows', 1000);
  const routeTenants = arg('route-tenants', 200);
  const requests = arg('requests', 10000);
  const db = await MariaDb.start();
  try {
    await db.sql("CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY 'master-pw'");
    await db.sql("GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION");
    const master = await createConnection({ host: db.host, port: db.port, user: 'master', password: 'master-pw' });
    const fresh = await provisionTenants(master, { count: tenants, prefix: 'tenant_', rowsPerTenant: rows, auth: passwordAuth(PASSWORD) });
    console.log(`provisioning ${tenants} tenants × ${rows} rows: ${(fresh.ms / 1000).toFixed(1)} s (${Math.round(fresh.rowsInserted / (fresh.ms / 1000))} rows/s)`);
    const again = await provisionTenants(master, { count: tenants, prefix: 'tenant_', rowsPerTenant: rows, auth: passwordAuth(PASSWORD) });
    console.log(`re-run (nothing to do): ${(again.ms / 1000).toFixed(1)} s`);
    if (routeTenants > tenants) await provisionTenants(master, { count: routeTenants, prefix: 'tenant_', rowsPerTenant: rows, auth: passwordAuth(PASSWORD) });
    await master.end();

    const base: TenantsConfig = {
      count: routeTenants,
      prefix: 'tenant_',
      auth: 'password',
      password: PASSWORD,
      db: { host: db.host, port: db.port, tls: 'off', connectTimeoutMs: 2000, queryTimeoutMs: 3000 },
      maxConnections: 8,
    };
    const route = async (label: string, config: TenantsConfig, options: TenantsAppOptions = {}) => {
      const app = createTenantsApp(config, { log: () => undefined, ...options });
      const ms: number[] = [];
      try {
        for (let i = 0; i < requests; i++) {
          const t = i % config.count;
          const started = performance.now();
          const res = await app.handler({ rawPath: `/tenants/${t}/items`, requestContext: { requestId: `b${i}`, http: { method: 'GET' } } });
          ms.push(performance.now() - started);
          if (res.statusCode !== 200) throw new Error(`${label}: request ${i} answered ${res.statusCode}: ${res.body}`);
        }
      } finally {
        await app.close();
      }
      const sorted = ms.slice(requests >= 2 * config.count ? config.count : 0).sort((a, b) => a - b);
      console.log(`${label}: median ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms (${sorted.length} requests after the first round, ${app.pools.opened} pools opened)`);
      return app;
    };

    await route(`route, ${routeTenants} tenants round-robin, bound ${base.maxConnections} connections`, base);
    // The local server allows 100 connections (scripts/services.ts): keep room for the admin session.
    const warm = Math.min(routeTenants, 90);
    await route(`route, ${warm} tenants round-robin, every pool kept (bound ${warm})`, { ...base, count: warm, maxConnections: warm });

    let assumeRoles = 0;
    const assumeRole: AssumeRole = async (req) => {
      assumeRoles++;
      return { accessKeyId: `ASIABENCH${assumeRoles}`, secretAccessKey: 'bench', sessionToken: `token-${req.RoleSessionName}`, expiration: new Date(Date.now() + req.DurationSeconds * 1000) };
    };
    const iamConfig: TenantsConfig = {
      ...base,
      auth: 'iam',
      password: undefined,
      iam: { roleArn: 'arn:aws:iam::123456789012:role/tenant-access', partition: 'aws', account: '123456789012', region: 'eu-west-1', proxyResourceId: 'prx-0123456789abcdef0', sessionSeconds: 3600 },
    };
    const iamApp = await route(`route (IAM path, signer + credentials cache), ${routeTenants} tenants, bound ${base.maxConnections}`, iamConfig, {
      assumeRole,
      adaptLogin: (configured) => async (t) => ({ user: (await configured(t)).user, password: PASSWORD }),
    });
    // Counted, not extrapolated: over a run shorter than the credentials' life, every call is a tenant's first.
    console.log(`STS AssumeRole calls: ${assumeRoles} in ${requests} requests over ${routeTenants} tenants; tokens signed: ${iamApp.tokens!.signed}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
