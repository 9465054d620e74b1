import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { directArmDatabase, directArmEnabled, Profile, PROFILES } from '../../config';
import { APP_METRICS_NAMESPACE } from '../../contracts';
import { AWS_PROVIDER_SOURCE } from '../../stacks/base-stack';
import { environmentsUnderTest, refName, resources, single, StackJson, synthEnvironments, titleOf } from '../support/synth';

// Every expectation comes from the profile under test: shipped profiles and generated variants alike.
const environments = environmentsUnderTest();
const withCache = (p: Profile, enabled: boolean): Profile => ({ ...p, cache: { ...p.cache, enabled } });
// The same profiles with the cache on and off, each in an app of its own so names (and so JSON) match.
const cacheOn = synthEnvironments(PROFILES.map((p) => withCache(p, true)), 'cache-on');
const cacheOff = synthEnvironments(PROFILES.map((p) => withCache(p, false)), 'cache-off');

/** `${data.terraform_remote_state.<name>.outputs.<output>}` → `<output>`, the producer's output it reads. */
function remoteOutput(value: string, producer: string): string {
  const m = new RegExp(`^\\$\\{data\\.terraform_remote_state\\.cross-stack-reference-input-${producer}\\.outputs\\.([^}]+)\\}$`).exec(value);
  if (!m) throw new Error(`${value} is not a remote-state reference to ${producer}`);
  return m[1];
}

/** Resources of the direct arm: everything under its `direct-arm` construct. */
const isDirectArm = ([name]: [string, any]) => name.startsWith('direct-arm_');
/** The resources of `type` of one arm: the proxy arm's (everything outside the direct arm), or the direct arm's. */
const armResources = (stack: StackJson, type: string, arm: 'proxy' | 'direct' = 'proxy') => resources(stack, type).filter((r) => isDirectArm(r) === (arm === 'direct'));
const isTenants = ([, f]: [string, any]) => f.environment?.variables?.TENANT_ACCESS_ROLE_ARN !== undefined;

/** An arm's hits function: every function of the arm but the tenants function (the one told a tenant-access role). */
const hitsFunction = (api: StackJson, arm: 'proxy' | 'direct' = 'proxy') => {
  const fns = armResources(api, 'aws_lambda_function', arm).filter((f) => !isTenants(f));
  expect(fns).toHaveLength(1);
  return fns[0][1];
};
const tenantsFunction = (api: StackJson, arm: 'proxy' | 'direct' = 'proxy') => armResources(api, 'aws_lambda_function', arm).find(isTenants);

/**
 * The data stack's instances by arm: the proxy's is the one its target names; the direct arm's is the other one
 * with `directArm.database: 'own'`, the same one otherwise (absent without the arm).
 */
function instances(data: StackJson, profile: Profile): { proxy: [string, any]; direct?: [string, any] } {
  const all = resources(data, 'aws_db_instance');
  const proxy = all.find(([n]) => single(data, 'aws_db_proxy_target').db_instance_identifier === `\${aws_db_instance.${n}.identifier}`)!;
  expect(proxy).toBeDefined();
  const database = directArmDatabase(profile);
  return { proxy, direct: database === 'own' ? all.find(([n]) => n !== proxy[0]) : database === 'shared' ? proxy : undefined };
}

/** Each invoked migration function of the data stack by the instance its DB_HOST names. */
function migrationsByInstance(data: StackJson): Map<string, any> {
  const invoked = resources(data, 'aws_lambda_invocation').map(([, inv]) => resources(data, 'aws_lambda_function').find(([n]) => inv.function_name === `\${aws_lambda_function.${n}.function_name}`)!);
  return new Map(invoked.map(([, fn]) => [/^\$\{aws_db_instance\.([^.]+)\.address\}$/.exec(fn.environment.variables.DB_HOST)![1], fn]));
}

/** The value a producer stack exports under `output`, e.g. `${aws_security_group.x.id}`. */
function exported(stack: StackJson, output: string): string {
  const out = stack.output?.[output];
  if (!out) throw new Error(`no output ${output}`);
  return out.value;
}

describe.each(environments.map((e) => [titleOf(e), e] as const))('%s wiring', (_name, env) => {
  const { profile, network, data, api } = env;
  const networkId = env.stacks.network.node.id;
  const dataId = env.stacks.data.node.id;

  const perAz = profile.network.natGateways === 'per-az';
  test(`each private subnet routes 0.0.0.0/0 to ${perAz ? 'the NAT gateway in its own AZ' : 'the one NAT gateway'}`, () => {
    const subnets = Object.fromEntries(resources(network, 'aws_subnet'));
    const nats = Object.fromEntries(resources(network, 'aws_nat_gateway'));
    const routes = resources(network, 'aws_route').filter(([, r]) => r.nat_gateway_id);
    const associations = resources(network, 'aws_route_table_association');
    const privateSubnets = Object.entries(subnets).filter(([, s]) => s.tags.Tier === 'private');
    expect(privateSubnets).toHaveLength(profile.network.azCount);
    expect(new Set(privateSubnets.map(([, s]) => s.availability_zone)).size).toBe(profile.network.azCount);
    expect(Object.keys(nats)).toHaveLength(perAz ? profile.network.azCount : 1);
    for (const [name, subnet] of privateSubnets) {
      const assoc = associations.find(([, a]) => refName(a.subnet_id) === name);
      expect(assoc).toBeDefined();
      const route = routes.find(([, r]) => r.route_table_id === assoc![1].route_table_id);
      expect(route).toBeDefined();
      expect(route![1].destination_cidr_block).toBe('0.0.0.0/0');
      const nat = nats[refName(route![1].nat_gateway_id)!];
      const natSubnet = subnets[refName(nat.subnet_id)!];
      expect(natSubnet.tags.Tier).toBe('public');
      if (perAz) expect(natSubnet.availability_zone).toBe(subnet.availability_zone);
    }
  });

  test('data subnets have no route out of the VPC', () => {
    const dataSubnets = resources(network, 'aws_subnet').filter(([, s]) => s.tags.Tier === 'data');
    const tables = new Set(resources(network, 'aws_route_table_association').filter(([, a]) => dataSubnets.some(([n]) => refName(a.subnet_id) === n)).map(([, a]) => a.route_table_id));
    expect(tables.size).toBe(1);
    expect(resources(network, 'aws_route').filter(([, r]) => tables.has(r.route_table_id))).toEqual([]);
  });

  test(`security groups chain by reference: app → proxy → database, migration → database (and HTTPS out)${profile.cache.enabled ? ', app → cache' : ', no cache rule'}`, () => {
    const groups = Object.fromEntries(resources(data, 'aws_security_group'));
    const byName = (suffix: string) => Object.keys(groups).find((n) => groups[n].name_prefix === `${profile.project}-${profile.name}${suffix}-`)!;
    const proxy = `\${aws_security_group.${byName('-rds-proxy')}.id}`;
    const db = `\${aws_security_group.${byName('-mysql')}.id}`;
    const cache = `\${aws_security_group.${byName('-memcached')}.id}`;
    const ingress = resources(data, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r);
    const egress = resources(data, 'aws_vpc_security_group_egress_rule').map(([, r]) => r);
    const appRef = (r: any) => exported(network, remoteOutput(r.referenced_security_group_id ?? r.security_group_id, networkId)).includes('app-security-group');
    const isRemote = (v: string) => v.startsWith('${data.terraform_remote_state.');

    // The direct arm's instance: a second one with `directArm.database: 'own'`, otherwise the proxy arm's.
    const own = directArmDatabase(profile) === 'own';
    expect(byName('-direct-mysql') !== undefined).toBe(own);
    const directDb = own ? `\${aws_security_group.${byName('-direct-mysql')}.id}` : db;
    // One migration per instance, each in a group of its own.
    const byInstance = migrationsByInstance(data);
    const { proxy: proxyInstance, direct: directInstance } = instances(data, profile);
    expect([...byInstance.keys()].sort()).toEqual(resources(data, 'aws_db_instance').map(([n]) => n).sort());
    const migrationGroupOf = (instance: [string, any]) => byInstance.get(instance[0]).vpc_config.security_group_ids[0];
    const migration = migrationGroupOf(proxyInstance);
    const directMigration = own ? migrationGroupOf(directInstance!) : undefined;

    // Into the proxy, from the data stack: the app group (from the network stack), nothing else.
    const intoProxy = ingress.filter((r) => r.security_group_id === proxy);
    expect(intoProxy).toHaveLength(1);
    expect(intoProxy[0]).toMatchObject({ from_port: 3306, to_port: 3306, ip_protocol: 'tcp' });
    expect(isRemote(intoProxy[0].referenced_security_group_id) && appRef(intoProxy[0])).toBe(true);
    // Each migration function's own group: straight to its database (not through the proxy), and HTTPS
    // out through the NAT for its secret (Secrets Manager is outside the VPC).
    expect(migration).not.toBe(proxy);
    expect(directMigration).not.toBe(migration);
    const migrationHttps = expect.objectContaining({ cidr_ipv4: '0.0.0.0/0', ip_protocol: 'tcp', from_port: 443, to_port: 443 });
    for (const [group, itsDb] of [[migration, db], ...(directMigration ? [[directMigration, directDb]] : [])]) {
      const migrationEgress = egress.filter((r) => r.security_group_id === group);
      expect(migrationEgress).toHaveLength(2);
      expect(migrationEgress).toEqual(expect.arrayContaining([expect.objectContaining({ referenced_security_group_id: itsDb, from_port: 3306, to_port: 3306 }), migrationHttps]));
      expect(ingress.filter((r) => r.security_group_id === group)).toEqual([]);
    }

    // Into the database, from the data stack: the proxy and the migration function; nothing else. Into the
    // direct arm's own instance, from the data stack: its migration only (the proxy never).
    expect(ingress.filter((r) => r.security_group_id === db).map((r) => [r.referenced_security_group_id, r.from_port, r.to_port]).sort()).toEqual([[proxy, 3306, 3306], [migration, 3306, 3306]].sort());
    if (own) expect(ingress.filter((r) => r.security_group_id === directDb).map((r) => [r.referenced_security_group_id, r.from_port, r.to_port])).toEqual([[directMigration, 3306, 3306]]);
    expect(egress.filter((r) => r.security_group_id === proxy)).toEqual([expect.objectContaining({ referenced_security_group_id: db, from_port: 3306, to_port: 3306 })]);
    // The tenants function's group and the direct arm's groups live in the api stack, with their functions, and
    // are opened from there: the proxy to the tenants group on 3306, the database to each direct group on 3306,
    // the cache to the direct hits group on 11211. The data stack has none of them.
    expect(byName('-tenants') ?? byName('-direct-hits') ?? byName('-direct-tenants')).toBeUndefined();
    const apiGroups = Object.fromEntries(resources(api, 'aws_security_group'));
    const apiGroup = (suffix: string) => Object.keys(apiGroups).filter((n) => apiGroups[n].name_prefix === `${profile.project}-${profile.name}${suffix}-`).map((n) => `\${aws_security_group.${n}.id}`);
    const tenants = apiGroup('-tenants');
    expect(tenants).toHaveLength(profile.tenants.count > 0 ? 1 : 0);
    const directHits = apiGroup('-direct-hits');
    const direct = [...directHits, ...apiGroup('-direct-tenants')];
    expect(direct).toHaveLength(directArmEnabled(profile) ? (profile.tenants.count > 0 ? 2 : 1) : 0);
    const apiIngress = resources(api, 'aws_vpc_security_group_ingress_rule').map(([, r]) => ({ ...r, security_group_id: exported(data, remoteOutput(r.security_group_id, dataId)) }));
    const apiEgress = resources(api, 'aws_vpc_security_group_egress_rule').map(([, r]) => r);
    const intoFromApi = (group: string) => apiIngress.filter((r) => r.security_group_id === group).map((r) => [r.referenced_security_group_id, r.from_port, r.to_port]).sort();
    expect(intoFromApi(proxy)).toEqual(tenants.map((g) => [g, 3306, 3306]));
    // The direct arm's groups into its own instance: the second one, or the proxy arm's when shared.
    expect(intoFromApi(directDb)).toEqual(direct.map((g) => [g, 3306, 3306]).sort());
    if (own) expect(intoFromApi(db)).toEqual([]);
    expect(intoFromApi(cache)).toEqual(profile.cache.enabled ? directHits.map((g) => [g, 11211, 11211]) : []);
    expect(apiIngress.every((r) => [proxy, db, directDb, ...(profile.cache.enabled ? [cache] : [])].includes(r.security_group_id))).toBe(true);
    for (const group of tenants) {
      // The tenants function's own group: the proxy by reference, HTTPS out for STS, nothing in; the function in it, in the same stack.
      const out = apiEgress.filter((r) => r.security_group_id === group).map((r) => [r.referenced_security_group_id ? exported(data, remoteOutput(r.referenced_security_group_id, dataId)) : r.cidr_ipv4, r.from_port, r.to_port]);
      expect(out.sort()).toEqual([[proxy, 3306, 3306], ['0.0.0.0/0', 443, 443]].sort());
      expect(apiIngress.filter((r) => r.security_group_id === group)).toEqual([]);
      expect(tenantsFunction(api)![1].vpc_config.security_group_ids).toEqual([group]);
    }

    const appEgress = egress.filter((r) => isRemote(r.security_group_id));
    if (profile.cache.enabled) {
      const intoCache = ingress.filter((r) => r.security_group_id === cache);
      expect(intoCache).toHaveLength(1);
      expect(intoCache[0]).toMatchObject({ from_port: 11211, to_port: 11211 });
      expect(appRef(intoCache[0])).toBe(true);
      expect(appEgress.map((r) => [r.referenced_security_group_id, r.from_port]).sort()).toEqual([[proxy, 3306], [cache, 11211]].sort());
    } else {
      expect(byName('-memcached')).toBeUndefined();
      expect(appEgress.map((r) => [r.referenced_security_group_id, r.from_port])).toEqual([[proxy, 3306]]);
    }
    for (const rule of [...ingress, ...egress]) if (!([migration, directMigration].includes(rule.security_group_id) && rule.from_port === 443)) expect(rule.cidr_ipv4).toBeUndefined();
  });

  test(`proxy: MySQL, TLS, end-to-end IAM (no secret), bounded pool; ${directArmDatabase(profile) === 'own' ? 'each of the two instances' : 'the instance'} migrated straight, with its master secret`, () => {
    const proxy = single(data, 'aws_db_proxy');
    const [dbName] = instances(data, profile).proxy;
    expect(proxy).toMatchObject({ engine_family: 'MYSQL', require_tls: true, debug_logging: false, idle_client_timeout: profile.proxy.idleClientTimeoutSeconds, default_auth_scheme: 'IAM_AUTH' });
    expect(proxy.auth).toBeUndefined();
    // Two instances with the direct arm on its own database, one otherwise; each its own migration, as its master user.
    const all = resources(data, 'aws_db_instance');
    expect(all).toHaveLength(directArmDatabase(profile) === 'own' ? 2 : 1);
    const byInstance = migrationsByInstance(data);
    for (const [name, db] of all) {
      expect(db.manage_master_user_password).toBe(true);
      const migration = byInstance.get(name);
      expect(migration.timeout).toBe(900);
      expect(migration.environment.variables).toMatchObject({
        DB_HOST: `\${aws_db_instance.${name}.address}`,
        DB_USER: `\${aws_db_instance.${name}.username}`,
        DB_AUTH: 'secret',
        DB_SECRET_ARN: `\${aws_db_instance.${name}.master_user_secret[0].secret_arn}`,
        DB_TLS: 'verify',
        DB_CA_BUNDLE: 'rds',
      });
    }
    const pool = single(data, 'aws_db_proxy_default_target_group').connection_pool_config;
    expect(pool).toEqual({
      connection_borrow_timeout: profile.proxy.connectionBorrowTimeoutSeconds,
      max_connections_percent: profile.proxy.maxConnectionsPercent,
      max_idle_connections_percent: profile.proxy.maxIdleConnectionsPercent,
    });
    expect(pool.connection_borrow_timeout).toBeLessThan(profile.function.timeoutSeconds);
    // The proxy targets the proxy arm's instance and nothing else: never the direct arm's own.
    expect(resources(data, 'aws_db_proxy_target').map(([, t]) => t.db_instance_identifier)).toEqual([`\${aws_db_instance.${dbName}.identifier}`]);
  });

  test('rds-db:connect is granted on exactly dbuser:<prx id>/<application user>', () => {
    const [proxyName] = resources(data, 'aws_db_proxy')[0];
    const locals = data.locals ?? {};
    const idLocal = Object.keys(locals).find((k) => k.startsWith('proxy_resource-id'))!;
    expect(locals[idLocal]).toBe(`\${element(split(":", aws_db_proxy.${proxyName}.arn), 6)}`);
    const prefixLocal = Object.keys(locals).find((k) => k.startsWith('proxy_connect-arn-prefix'))!;
    expect(locals[prefixLocal]).toContain(`local.${idLocal}`);
    expect(locals[prefixLocal]).toMatch(/^\$\{format\("arn:%s:rds-db:%s:%s:dbuser:%s"/);

    const hitsRole = `\${aws_iam_role.${/^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(hitsFunction(api).role)![1]}.id}`;
    const policies = resources(api, 'aws_iam_role_policy').filter(([, p]) => p.role === hitsRole).map(([, p]) => JSON.parse(p.policy));
    const connect = policies.flatMap((p) => p.Statement).filter((s: any) => s.Action === 'rds-db:connect');
    expect(connect).toHaveLength(1);
    const [prefix, user] = connect[0].Resource.split('}/');
    expect(exported(data, remoteOutput(`${prefix}}`, dataId))).toBe(`\${local.${prefixLocal}}`);
    const userLocal = /^\$\{local\.([^}]+)\}$/.exec(exported(data, remoteOutput(user, dataId)))?.[1];
    expect(locals[userLocal!]).toBe(profile.database.appUsername);
  });

  test('data and api stacks read the producers through terraform_remote_state', () => {
    expect(Object.keys(data.data?.terraform_remote_state ?? {})).toEqual([`cross-stack-reference-input-${networkId}`]);
    expect(Object.keys(api.data?.terraform_remote_state ?? {}).sort()).toEqual([`cross-stack-reference-input-${dataId}`, `cross-stack-reference-input-${networkId}`].sort());
    const fn = hitsFunction(api);
    for (const subnet of fn.vpc_config.subnet_ids) expect(exported(network, remoteOutput(subnet, networkId))).toMatch(/private-subnet/);
    const [subnetGroup] = resources(data, 'aws_db_subnet_group').filter(([n]) => instances(data, profile).proxy[1].db_subnet_group_name === `\${aws_db_subnet_group.${n}.name}`);
    expect(subnetGroup[1].subnet_ids.map((s: string) => exported(network, remoteOutput(s, networkId)))).toEqual(
      expect.arrayContaining([expect.stringMatching(/data-subnet/)]),
    );
  });

  test('function environment follows the contract: proxy endpoint, IAM auth over verified TLS, cache nodes', () => {
    const env = hitsFunction(api).environment.variables;
    const cacheKeys = profile.cache.enabled ? ['CACHE_NODES', 'CACHE_TLS', 'CACHE_TTL_SECONDS'] : [];
    expect(Object.keys(env).sort()).toEqual([...cacheKeys, 'DB_AUTH', 'DB_HOST', 'DB_IDLE_REBUILD_SECONDS', 'DB_NAME', 'DB_PORT', 'DB_TLS', 'DB_USER', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort());
    expect(env).toMatchObject({ DB_AUTH: 'iam', DB_TLS: 'verify', DB_PORT: '3306', DB_IDLE_REBUILD_SECONDS: String(profile.proxy.idleClientTimeoutSeconds) });
    expect(exported(data, remoteOutput(env.DB_HOST, dataId))).toMatch(/^\$\{aws_db_proxy\.[^.]+\.endpoint\}$/);
    expect(exported(data, remoteOutput(env.DB_NAME, dataId))).toMatch(/^\$\{aws_db_instance\.[^.]+\.db_name\}$/);
    if (!profile.cache.enabled) return;
    expect(env).toMatchObject({ CACHE_TLS: 'true', CACHE_TTL_SECONDS: String(profile.cache.ttlSeconds) });
    const nodesLocal = exported(data, remoteOutput(env.CACHE_NODES, dataId));
    const localName = /^\$\{local\.([^}]+)\}$/.exec(nodesLocal)![1];
    expect(data.locals![localName]).toMatch(/cache_nodes.*\$\{val\.address\}:\$\{val\.port\}/);
  });

  test('the API invokes the function with payload 2.0, and only this API may invoke it', () => {
    const [apiName] = armResources(api, 'aws_apigatewayv2_api')[0];
    const routes = armResources(api, 'aws_apigatewayv2_route');
    expect(routes.map(([, r]) => r.route_key).sort()).toEqual(profile.tenants.count > 0 ? ['$default', 'GET /tenants/{tenantId}/items'].sort() : ['$default']);
    const defaultRoute = routes.find(([, r]) => r.route_key === '$default')![1];
    const integration = resources(api, 'aws_apigatewayv2_integration').find(([n]) => defaultRoute.target === `integrations/\${aws_apigatewayv2_integration.${n}.id}`)![1];
    expect(integration).toMatchObject({ integration_type: 'AWS_PROXY', payload_format_version: '2.0' });
    expect(integration.timeout_milliseconds).toBeLessThanOrEqual(30000);
    expect(integration.integration_uri).toMatch(/^\$\{aws_lambda_function\.hits_[^.]+\.invoke_arn\}$/);
    const [stage] = armResources(api, 'aws_apigatewayv2_stage').map(([, st]) => st);
    expect(stage).toMatchObject({ name: '$default', auto_deploy: true });
    expect(stage.default_route_settings).toEqual({ throttling_burst_limit: profile.api.throttlingBurstLimit, throttling_rate_limit: profile.api.throttlingRateLimit });
    const permission = armResources(api, 'aws_lambda_permission').find(([, p]) => p.source_arn.endsWith('/*/*'))![1];
    expect(permission).toMatchObject({ principal: 'apigateway.amazonaws.com', action: 'lambda:InvokeFunction', source_arn: `\${aws_apigatewayv2_api.${apiName}.execution_arn}/*/*` });
    expect(armResources(api, 'aws_lambda_permission')).toHaveLength(profile.tenants.count > 0 ? 2 : 1);
  });

  test(`tenants: ${profile.tenants.count > 0 ? `${profile.tenants.count} served by their own function, role and route` : 'none, so no tenant resource'}; ${directArmDatabase(profile) === 'own' ? "each instance's migration" : 'the migration'} provisions ${profile.tenants.count}`, () => {
    const t = profile.tenants;
    // The same tenants on every instance: the direct arm's own one serves the same route.
    const invocations = resources(data, 'aws_lambda_invocation');
    expect(invocations).toHaveLength(directArmDatabase(profile) === 'own' ? 2 : 1);
    for (const [invocationName, invocation] of invocations) {
      const [, migration] = resources(data, 'aws_lambda_function').find(([n]) => invocation.function_name === `\${aws_lambda_function.${n}.function_name}`)!;
      const tenantVars = Object.fromEntries(Object.entries(migration.environment.variables).filter(([k]) => k.startsWith('TENANT_')));
      // Without tenants nothing is set (the migration reads an absent count as 0), so such an environment sees no change.
      expect(tenantVars).toEqual(t.count > 0 ? { TENANT_COUNT: String(t.count), TENANT_PREFIX: t.prefix, TENANT_ROWS: String(t.rowsPerTenant) } : {});
      // The run's trigger hashes the function's environment, tenant settings included: changing them re-runs it.
      for (const [name, value] of Object.entries(tenantVars)) expect(invocation.triggers.environment).toContain(`"${name}" = "${value}"`);
      // Each run's tenants left in place is an output of its own.
      const leftInPlace = Object.values(data.output ?? {}).filter((o: any) => new RegExp(`^\\$\\{try\\(jsondecode\\(aws_lambda_invocation\\.${invocationName}\\.result\\)\\.tenants\\.leftInPlace, \\[\\]\\)\\}$`).test(o.value));
      expect(leftInPlace).toHaveLength(1);
    }
    expect(data.output?.tenants_left_in_place.value).toMatch(/^\$\{try\(jsondecode\(aws_lambda_invocation\.migration_[^.]+\.result\)\.tenants\.leftInPlace, \[\]\)\}$/);
    const proxyConnect = resources(data, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_connect-to-database'))![1];
    const users = JSON.parse(proxyConnect.policy).Statement[0].Resource.map((r: string) => r.replace(/^.*\//, ''));
    expect(users).toEqual(t.count > 0 ? [profile.database.appUsername, `${t.prefix}*`] : [profile.database.appUsername]);
    const fn = tenantsFunction(api);
    if (t.count === 0) {
      expect(fn).toBeUndefined();
      expect(JSON.stringify(api)).not.toMatch(/tenant/i);
      return;
    }
    const [fnName, body] = fn!;
    const vars = body.environment.variables;
    expect(Object.keys(vars).sort()).toEqual(['DB_HOST', 'DB_PORT', 'DB_RESOURCE_ID', 'DB_TLS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME', 'TENANT_ACCESS_ROLE_ARN', 'TENANT_COUNT', 'TENANT_PREFIX']);
    // Its own metrics in the application's namespace, under its own service name, as the hits function's.
    expect(vars).toMatchObject({ TENANT_COUNT: String(t.count), TENANT_PREFIX: t.prefix, DB_PORT: '3306', DB_TLS: 'verify', POWERTOOLS_METRICS_NAMESPACE: APP_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME: `${profile.project}-${profile.name}-tenants` });
    expect(exported(data, remoteOutput(vars.DB_HOST, dataId))).toMatch(/^\$\{aws_db_proxy\.[^.]+\.endpoint\}$/);
    expect(exported(data, remoteOutput(vars.DB_RESOURCE_ID, dataId))).toMatch(/^\$\{local\.proxy_resource-id_[^}]+\}$/);
    const accessRole = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(vars.TENANT_ACCESS_ROLE_ARN)![1];
    const fnRole = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(body.role)![1];
    expect(JSON.parse(api.resource!.aws_iam_role[accessRole].assume_role_policy).Statement).toEqual([{ Effect: 'Allow', Principal: { AWS: `\${aws_iam_role.${fnRole}.arn}` }, Action: 'sts:AssumeRole' }]);
    const policiesOf = (role: string) => resources(api, 'aws_iam_role_policy').filter(([, p]) => p.role === `\${aws_iam_role.${role}.id}`).map(([n, p]) => [n, JSON.parse(p.policy).Statement] as const);
    const [[assumeName, assume]] = policiesOf(fnRole);
    expect(assume).toEqual([expect.objectContaining({ Action: 'sts:AssumeRole', Resource: vars.TENANT_ACCESS_ROLE_ARN })]);
    const [[connectName, connect]] = policiesOf(accessRole);
    expect(connect).toHaveLength(1);
    expect(connect[0].Action).toBe('rds-db:connect');
    const [prefix, user] = connect[0].Resource.split('}/');
    expect(user).toBe(`${t.prefix}*`);
    expect(exported(data, remoteOutput(`${prefix}}`, dataId))).toMatch(/^\$\{local\.proxy_connect-arn-prefix_[^}]+\}$/);
    expect(body.depends_on).toEqual(expect.arrayContaining([`aws_iam_role_policy.${assumeName}`, `aws_iam_role_policy.${connectName}`]));
    // Its own route, integration and a permission scoped to that route.
    const route = armResources(api, 'aws_apigatewayv2_route').find(([, r]) => r.route_key === 'GET /tenants/{tenantId}/items')![1];
    const integration = resources(api, 'aws_apigatewayv2_integration').find(([n]) => route.target === `integrations/\${aws_apigatewayv2_integration.${n}.id}`)![1];
    expect(integration).toMatchObject({ integration_type: 'AWS_PROXY', payload_format_version: '2.0', integration_uri: `\${aws_lambda_function.${fnName}.invoke_arn}` });
    const [apiName] = armResources(api, 'aws_apigatewayv2_api')[0];
    const permission = resources(api, 'aws_lambda_permission').find(([, p]) => p.function_name === `\${aws_lambda_function.${fnName}.function_name}`)![1];
    expect(permission.source_arn).toBe(`\${aws_apigatewayv2_api.${apiName}.execution_arn}/*/GET/tenants/*/items`);
  });

  test(`direct arm: ${directArmEnabled(profile) ? `a second API whose functions are the proxy arm's, straight to ${directArmDatabase(profile) === 'own' ? 'an instance of its own' : "the proxy arm's instance"}` : 'off, so nothing of it exists'}`, () => {
    const directNames = (st: StackJson) => Object.entries(st.resource ?? {}).flatMap(([t, r]) => Object.keys(r).filter((n) => n.startsWith('direct-arm_')).map((n) => `${t}.${n}`));
    expect(data.output?.proxy_name.value).toMatch(/^\$\{aws_db_proxy\.[^.]+\.name\}$/);
    if (!directArmEnabled(profile)) {
      expect([...directNames(data), ...directNames(api), ...directNames(env.ops)]).toEqual([]);
      expect(Object.keys(api.output ?? {}).filter((o) => o.startsWith('direct_'))).toEqual([]);
      expect(JSON.stringify(api)).not.toMatch(/DB_CA_BUNDLE|rds-instance-connect/);
      expect(Object.keys(data.locals ?? {}).filter((l) => /^(direct-)?mysql_connect-arn-prefix/.test(l))).toEqual([]);
      expect(Object.keys(data.output ?? {}).filter((o) => o.startsWith('direct_'))).toEqual([]);
      return;
    }
    const [dbName] = instances(data, profile).direct!;
    const fromData = (value: string) => exported(data, remoteOutput(value, dataId));
    const proxyHits = hitsFunction(api);
    const directHits = hitsFunction(api, 'direct');
    // The same function but for its way in: settings, user, database, cache; the host is the instance, verified against the RDS CA bundle.
    for (const key of ['runtime', 'handler', 'architectures', 'memory_size', 'timeout', 'reserved_concurrent_executions', 'tracing_config']) expect([key, directHits[key]]).toEqual([key, proxyHits[key]]);
    expect(directHits.memory_size).toBe(profile.function.memoryMb);
    const proxyVars = proxyHits.environment.variables;
    const directVars = directHits.environment.variables;
    expect(Object.keys(directVars).sort()).toEqual([...Object.keys(proxyVars), 'DB_CA_BUNDLE'].sort());
    for (const key of Object.keys(proxyVars).filter((k) => !['DB_HOST', 'DB_NAME', 'POWERTOOLS_SERVICE_NAME'].includes(k))) expect([key, directVars[key]]).toEqual([key, proxyVars[key]]);
    expect(fromData(directVars.DB_HOST)).toBe(`\${aws_db_instance.${dbName}.address}`);
    expect(fromData(directVars.DB_NAME)).toBe(`\${aws_db_instance.${dbName}.db_name}`);
    expect(directVars.DB_CA_BUNDLE).toBe('rds');
    // Its own group, in the api stack with it and named for the arm: one deploy creates or deletes both, the function first.
    const [directGroup] = directHits.vpc_config.security_group_ids;
    expect(api.resource!.aws_security_group[/^\$\{aws_security_group\.(direct-arm_[^.]+)\.id\}$/.exec(directGroup)![1]].name_prefix).toBe(`${profile.project}-${profile.name}-direct-hits-`);
    // Nothing of the arm in the data stack: no group, no rule naming one of its groups.
    expect(directNames(data)).toEqual([]);
    // rds-db:connect on dbuser:<db-resource-id>/<application user>, from the instance's ARN and resource_id.
    const role = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(directHits.role)![1];
    const statements = resources(api, 'aws_iam_role_policy').filter(([, p]) => p.role === `\${aws_iam_role.${role}.id}`).flatMap(([, p]) => JSON.parse(p.policy).Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'rds-db:connect' });
    const [prefix, user] = statements[0].Resource.split('}/');
    const prefixLocal = /^\$\{local\.([^}]+)\}$/.exec(fromData(`${prefix}}`))![1];
    expect(data.locals![prefixLocal]).toBe(`\${format("arn:%s:rds-db:%s:%s:dbuser:%s", element(split(":", aws_db_instance.${dbName}.arn), 1), element(split(":", aws_db_instance.${dbName}.arn), 3), element(split(":", aws_db_instance.${dbName}.arn), 4), aws_db_instance.${dbName}.resource_id)}`);
    expect(user).toBe(proxyVars.DB_USER);
    // Its own API: $default to the direct hits function, the tenant route to the direct tenants function; the outputs name them.
    const [[directApi]] = armResources(api, 'aws_apigatewayv2_api', 'direct');
    expect(armResources(api, 'aws_apigatewayv2_api', 'direct')).toHaveLength(1);
    const targets = Object.fromEntries(
      armResources(api, 'aws_apigatewayv2_route', 'direct').map(([, r]) => {
        expect(r.api_id).toBe(`\${aws_apigatewayv2_api.${directApi}.id}`);
        return [r.route_key, resources(api, 'aws_apigatewayv2_integration').find(([n]) => r.target === `integrations/\${aws_apigatewayv2_integration.${n}.id}`)![1].integration_uri];
      }),
    );
    const [directHitsName] = armResources(api, 'aws_lambda_function', 'direct').find((f) => !isTenants(f))!;
    const directTenants = tenantsFunction(api, 'direct');
    expect(targets).toEqual({ $default: `\${aws_lambda_function.${directHitsName}.invoke_arn}`, ...(directTenants ? { 'GET /tenants/{tenantId}/items': `\${aws_lambda_function.${directTenants[0]}.invoke_arn}` } : {}) });
    expect(api.output?.direct_api_url.value).toBe(`\${aws_apigatewayv2_api.${directApi}.api_endpoint}`);
    expect(api.output?.direct_function_name.value).toBe(`\${aws_lambda_function.${directHitsName}.function_name}`);
    expect(api.output?.direct_tenants_function_name?.value).toBe(directTenants ? `\${aws_lambda_function.${directTenants[0]}.function_name}` : undefined);
    expect(directTenants !== undefined).toBe(profile.tenants.count > 0);
    if (!directTenants) return;
    // The direct tenants function: the instance's db- resource id in its session policies, its own access role to the instance only.
    const tv = directTenants[1].environment.variables;
    expect(fromData(tv.DB_RESOURCE_ID)).toBe(`\${aws_db_instance.${dbName}.resource_id}`);
    expect(fromData(tv.DB_HOST)).toBe(`\${aws_db_instance.${dbName}.address}`);
    expect(tv.DB_CA_BUNDLE).toBe('rds');
    const proxyTenantsVars = tenantsFunction(api)![1].environment.variables;
    expect(tv.TENANT_ACCESS_ROLE_ARN).not.toBe(proxyTenantsVars.TENANT_ACCESS_ROLE_ARN);
    const access = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(tv.TENANT_ACCESS_ROLE_ARN)![1];
    const [accessConnect] = resources(api, 'aws_iam_role_policy').filter(([, p]) => p.role === `\${aws_iam_role.${access}.id}`).flatMap(([, p]) => JSON.parse(p.policy).Statement);
    expect(accessConnect.Resource).toBe(`${prefix}}/${profile.tenants.prefix}*`);
  });

  test(`direct arm: ${directArmDatabase(profile) === 'own' ? 'every database reference of its functions and roles names its own instance; its outputs say own' : directArmEnabled(profile) ? "the proxy arm's instance, and the output says shared" : 'no output of it'}`, () => {
    const database = directArmDatabase(profile);
    expect(api.output?.direct_arm_database?.value).toBe(database);
    expect(data.output?.direct_database_identifier?.value).toBe(database === 'own' ? `\${aws_db_instance.${instances(data, profile).direct![0]}.identifier}` : undefined);
    if (!database) return;
    // Everything of the arm (its functions, roles and policies) read through the data stack's outputs and locals:
    // the instances it mentions.
    const arm = Object.fromEntries(Object.entries(api.resource ?? {}).map(([type, all]) => [type, Object.fromEntries(Object.entries(all).filter(([n]) => n.startsWith('direct-arm_')))]));
    let text = JSON.stringify(arm).replace(/\$\{data\.terraform_remote_state\.cross-stack-reference-input-[^.}]+\.outputs\.([^}]+)\}/g, (_m, out: string) => String(data.output?.[out]?.value ?? ''));
    for (let i = 0; i < 2; i++) text = text.replace(/\$\{local\.([^}]+)\}/g, (m, local: string) => String(data.locals?.[local] ?? m));
    const mentioned = new Set([...text.matchAll(/aws_db_instance\.([A-Za-z0-9_-]+)\./g)].map((m) => m[1]));
    expect([...mentioned]).toEqual([instances(data, profile).direct![0]]);
  });

  test('outputs for people: API URL and proxy endpoint', () => {
    expect(api.output?.api_url.value).toMatch(/^\$\{aws_apigatewayv2_api\.[^.]+\.api_endpoint\}$/);
    expect(data.output?.proxy_endpoint.value).toMatch(/^\$\{aws_db_proxy\.[^.]+\.endpoint\}$/);
  });

  test('the AWS provider: source hashicorp/aws under either engine, the version the engine\'s binding was generated from', () => {
    // The binding's own record of its provider version (a CDK Terrain binding pins a later one than cdktf's).
    const pinned = new AwsProvider(new TerraformStack(Testing.app(), 'probe'), 'aws').terraformGeneratorMetadata?.providerVersion;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    for (const stack of Object.keys(env.stacks).map((kind) => (env as any)[kind] as StackJson)) {
      expect(stack.terraform.required_providers).toEqual({ aws: { source: AWS_PROVIDER_SOURCE, version: pinned } });
    }
  });

  test('provider default tags name project, environment and tool', () => {
    for (const stack of Object.keys(env.stacks).map((kind) => (env as any)[kind] as StackJson)) {
      expect(stack.provider?.aws[0].default_tags[0].tags).toMatchObject({ Project: profile.project, Environment: profile.name, ManagedBy: 'cdktf' });
      expect(stack.provider?.aws[0].region).toBe(profile.region);
    }
  });
});

describe('cache disabled', () => {
  test.each(cacheOff.map((e, i) => [e.profile.name, e, cacheOn[i]] as const))('%s: every cache resource, rule, output and variable disappears, nothing else changes', (_n, off, on) => {
    const cacheTypes = ['aws_elasticache_cluster', 'aws_elasticache_subnet_group'];
    for (const t of cacheTypes) expect(off.data.resource?.[t]).toBeUndefined();
    const offText = JSON.stringify([off.data, off.api]);
    expect(offText).not.toMatch(/11211|memcached|CACHE_/);
    expect(off.text[off.stacks.network.node.id]).toBe(on.text[on.stacks.network.node.id]);

    // Removing the cache must remove exactly the cache's own resources from the data stack …
    const names = (s: StackJson) => Object.entries(s.resource ?? {}).flatMap(([t, r]) => Object.keys(r).map((n) => `${t}.${n}`));
    const removed = names(on.data).filter((n) => !names(off.data).includes(n));
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.every((n) => n.includes('memcached'))).toBe(true);
    expect(names(off.data).every((n) => names(on.data).includes(n))).toBe(true);
    // … and from the function only the CACHE_* variables.
    const envOn = hitsFunction(on.api).environment.variables;
    const envOff = hitsFunction(off.api).environment.variables;
    expect(Object.keys(envOn).filter((k) => !(k in envOff)).sort()).toEqual(['CACHE_NODES', 'CACHE_TLS', 'CACHE_TTL_SECONDS']);
    // … and from the api stack only the direct arm's pair of rules to the cache (when the arm is on): nothing else.
    const removedFromApi = names(on.api).filter((n) => !names(off.api).includes(n));
    const onApi = (n: string) => on.api.resource![n.slice(0, n.indexOf('.'))][n.slice(n.indexOf('.') + 1)];
    expect(removedFromApi.map((n) => [n.slice(0, n.indexOf('.')), onApi(n).from_port]).sort()).toEqual(
      directArmEnabled(on.profile) ? [['aws_vpc_security_group_egress_rule', 11211], ['aws_vpc_security_group_ingress_rule', 11211]] : [],
    );
    expect(names(off.api).every((n) => names(on.api).includes(n))).toBe(true);
  });
});

describe('direct arm on and off', () => {
  const withArm = (p: Profile, directArm: Profile['directArm']): Profile => ({ ...p, directArm });
  const armOff = synthEnvironments(PROFILES.map((p) => withArm(p, { enabled: false })), 'arm-off');
  const names = (s: StackJson) => Object.entries(s.resource ?? {}).flatMap(([t, r]) => Object.keys(r).map((n) => `${t}.${n}`));
  const body = (s: StackJson, address: string) => s.resource![address.slice(0, address.indexOf('.'))][address.slice(address.indexOf('.') + 1)];
  /** The outputs a deploy of the stack writes: all but cdktf's cross-stack ones (values, not things). */
  const outputs = (s: StackJson) => Object.fromEntries(Object.entries(s.output ?? {}).filter(([n]) => !n.startsWith('cross-stack-output-')));

  describe.each(['own', 'shared'] as const)('database %s', (database) => {
    const armOn = synthEnvironments(PROFILES.map((p) => withArm(p, { enabled: true, database })), `arm-on-${database}`);

    test.each(armOff.map((e, i) => [e.profile.name, e, armOn[i]] as const))(
      `%s: one ordinary deploy turns it on or off: network unchanged, data ${database === 'own' ? 'adds or loses only the second instance and its migrations' : 'unchanged'}, api adds or loses only the direct-arm construct, ops its dashboard`,
      (_n, off, on) => {
        expect(off.text[off.stacks.network.node.id]).toBe(on.text[on.stacks.network.node.id]);
        // The data stack: what the proxy arm has keeps its address and its arguments either way.
        const addedToData = names(on.data).filter((n) => !names(off.data).includes(n));
        expect(names(off.data).every((n) => names(on.data).includes(n))).toBe(true);
        for (const n of names(off.data)) expect([n, body(on.data, n)]).toEqual([n, body(off.data, n)]);
        if (database === 'own') {
          // A second instance with all it needs (group, subnet and parameter groups, log groups) and its own migration.
          expect(addedToData.filter((n) => !/^[a-z0-9_]+\.direct-(mysql|migration)_/.test(n))).toEqual([]);
          for (const type of ['aws_db_instance', 'aws_lambda_invocation', 'aws_lambda_function']) expect(addedToData.filter((n) => n.startsWith(`${type}.`))).toHaveLength(1);
        } else {
          expect(addedToData).toEqual([]);
        }
        const dataOutputs = Object.keys(outputs(on.data)).filter((o) => !(o in outputs(off.data)));
        expect(dataOutputs.sort()).toEqual(database === 'own' ? ['direct_applied_migrations', 'direct_database_identifier', 'direct_master_user_secret_arn', 'direct_tenants_left_in_place'] : []);
        const added = names(on.api).filter((n) => !names(off.api).includes(n));
        expect(names(off.api).every((n) => names(on.api).includes(n))).toBe(true);
        expect(added.length).toBeGreaterThan(0);
        expect(added.filter((n) => !n.split('.')[1].startsWith('direct-arm_'))).toEqual([]);
        // Its groups and the rules naming them among what the api stack adds, so they go with its functions.
        for (const type of ['aws_security_group', 'aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']) expect(added.some((n) => n.startsWith(`${type}.`))).toBe(true);
        expect(names(off.ops)).toEqual(names(on.ops));
      },
    );
  });
});

/**
 * `json` with the names that must differ between two builds of one construct made alike: the construct ids
 * (`<id>_<child>_<hash>` → `<construct>_<child>`) and the resource names derived from `name`. What is left must
 * be equal for the two to be twins.
 */
function normalized(json: unknown, constructId: string, name: string): unknown {
  const text = JSON.stringify(json)
    .replace(new RegExp(`\\b${constructId}_([a-z0-9-]+(?:_[a-z0-9-]+)*?)_[0-9A-F]{8}\\b`, 'g'), '<construct>_$1')
    .replace(new RegExp(`data-[a-z0-9]+/${constructId}/`, 'g'), '<stack>/<construct>/')
    .replace(new RegExp(`assets/${constructId}_`, 'g'), 'assets/<construct>_')
    .replaceAll(name, '<name>');
  return JSON.parse(text);
}

/** The resources of `stack` under the construct `constructId`, by type. */
function constructResources(stack: StackJson, constructId: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(stack.resource ?? {})
      .map(([type, all]) => [type, Object.fromEntries(Object.entries(all).filter(([n]) => n.startsWith(`${constructId}_`)))] as const)
      .filter(([, all]) => Object.keys(all).length > 0),
  );
}

describe.each(environments.filter((e) => directArmDatabase(e.profile) === 'own').map((e) => [titleOf(e), e] as const))('%s: the direct arm\'s own instance', (_t, env) => {
  const { data, profile } = env;
  const prefix = `${profile.project}-${profile.name}`;

  /** Two builds made alike: the instance's and the migration's construct ids, and the names. */
  const alike = (json: unknown, qualifier: string, name: string) => normalized(normalized(json, `${qualifier}migration`, name), `${qualifier}mysql`, name);

  test('is the proxy arm\'s twin: the same resources and arguments but for their names and what they reference of their own', () => {
    const proxyArm = constructResources(data, 'mysql');
    const directArm = constructResources(data, 'direct-mysql');
    expect(Object.keys(proxyArm).length).toBeGreaterThan(3);
    // The rules that open each instance to its migration live under the instance, and name that migration's group.
    expect(alike(directArm, 'direct-', `${prefix}-direct`)).toEqual(alike(proxyArm, '', prefix));
    // The names do differ, so the two can exist side by side.
    const [, proxyDb] = resources(data, 'aws_db_instance').find(([n]) => n.startsWith('mysql_'))!;
    const [, directDb] = resources(data, 'aws_db_instance').find(([n]) => n.startsWith('direct-mysql_'))!;
    expect(directDb.identifier).not.toBe(proxyDb.identifier);
  });

  test('is migrated as the proxy arm\'s is: the same bundle, environment and re-run triggers, on its own host with its own secret', () => {
    const proxyArm = constructResources(data, 'migration');
    const directArm = constructResources(data, 'direct-migration');
    // Each refers to its own instance: made alike, the two compare equal.
    expect(alike(directArm, 'direct-', `${prefix}-direct`)).toEqual(alike(proxyArm, '', prefix));
    const invocation = (id: string) => Object.values(constructResources(data, id).aws_lambda_invocation)[0] as any;
    // The same bundle; each environment (so its trigger) names its own instance.
    expect(invocation('direct-migration').triggers.migrations).toBe(invocation('migration').triggers.migrations);
    const [proxyDb] = resources(data, 'aws_db_instance').find(([n]) => n.startsWith('mysql_'))!;
    const [directDb] = resources(data, 'aws_db_instance').find(([n]) => n.startsWith('direct-mysql_'))!;
    expect(invocation('migration').triggers.environment).toContain(`aws_db_instance.${proxyDb}.address`);
    expect(invocation('direct-migration').triggers.environment).toContain(`aws_db_instance.${directDb}.address`);
    expect(invocation('direct-migration').triggers.environment).not.toContain(`aws_db_instance.${proxyDb}.`);
  });
});

/** The paths (`a.b.c`) at which two JSON values differ: a leaf that differs, or a key only one side has. */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences((a as any)[k], (b as any)[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

describe('tenants on and off', () => {
  const withTenants = (p: Profile, count: number): Profile => ({ ...p, tenants: { ...p.tenants, count } });
  // Each shipped profile, and each with the direct arm on its own instance (two migrations), with tenants on
  // (its own count, or 5 where it has none) and off.
  const ownDatabase = (p: Profile): Profile => ({ ...p, name: `${p.name}own`.slice(0, 16), directArm: { enabled: true, database: 'own' } });
  const profiles = [...PROFILES, ...PROFILES.filter((p) => !(directArmEnabled(p) && directArmDatabase(p) === 'own')).map(ownDatabase)];
  const tenantsOn = synthEnvironments(profiles.map((p) => withTenants(p, p.tenants.count || 5)), 'tenants-on');
  const tenantsOff = synthEnvironments(profiles.map((p) => withTenants(p, 0)), 'tenants-off');
  const names = (s: StackJson) => Object.entries(s.resource ?? {}).flatMap(([t, r]) => Object.keys(r).map((n) => `${t}.${n}`));
  const body = (s: StackJson, address: string) => s.resource![address.slice(0, address.indexOf('.'))][address.slice(address.indexOf('.') + 1)];
  /** What a deploy of the stack creates, updates or deletes: its resources and its outputs but cdktf's cross-stack ones (values, not things). */
  const deployed = (s: StackJson) => ({ resource: s.resource, output: Object.fromEntries(Object.entries(s.output ?? {}).filter(([n]) => !n.startsWith('cross-stack-output-'))) });

  describe.each(tenantsOff.map((e, i) => [e.profile.name, e, tenantsOn[i]] as const))('%s', (_n, off, on) => {
    const { prefix, count, rowsPerTenant } = on.profile.tenants;

    test('the network stack does not change', () => {
      expect(off.text[off.stacks.network.node.id]).toBe(on.text[on.stacks.network.node.id]);
    });

    test('the data stack changes only in the tenant grants: the proxy\'s end-to-end IAM users and the migration\'s tenant settings', () => {
      const [proxyPolicy] = resources(on.data, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_connect-to-database'))!;
      // Every migration of the stack (one per instance: two when the direct arm has its own) provisions the tenants.
      const migrations = resources(on.data, 'aws_lambda_function').map(([n]) => n);
      const invocations = resources(on.data, 'aws_lambda_invocation').map(([n]) => n);
      expect(migrations).toHaveLength(invocations.length);
      expect(differences(deployed(off.data), deployed(on.data)).sort()).toEqual(
        [
          `resource.aws_iam_role_policy.${proxyPolicy}.policy`,
          ...migrations.flatMap((m) => ['TENANT_COUNT', 'TENANT_PREFIX', 'TENANT_ROWS'].map((k) => `resource.aws_lambda_function.${m}.environment.variables.${k}`)),
          ...invocations.map((i) => `resource.aws_lambda_invocation.${i}.triggers.environment`),
        ].sort(),
      );
      // The proxy logs in as the tenant users too (one IAM grant for all of them), and the migration provisions them.
      const users = (s: StackJson) => JSON.parse(body(s, `aws_iam_role_policy.${proxyPolicy}`).policy).Statement[0].Resource.map((r: string) => r.replace(/^.*\//, ''));
      expect(users(on.data)).toEqual([...users(off.data), `${prefix}*`]);
      for (const m of migrations) expect(body(on.data, `aws_lambda_function.${m}`).environment.variables).toMatchObject({ TENANT_COUNT: String(count), TENANT_PREFIX: prefix, TENANT_ROWS: String(rowsPerTenant) });
    });

    test('the api stack adds or deletes the tenants functions together with their security groups and rules; nothing else of it changes', () => {
      const added = names(on.api).filter((n) => !names(off.api).includes(n));
      expect(names(off.api).every((n) => names(on.api).includes(n))).toBe(true);
      for (const n of names(off.api)) expect([n, body(on.api, n)]).toEqual([n, body(off.api, n)]);
      const ofType = (type: string) => added.filter((n) => n.startsWith(`${type}.`)).map((n) => n.slice(type.length + 1));
      const functions = ofType('aws_lambda_function');
      const groups = ofType('aws_security_group').map((g) => `\${aws_security_group.${g}.id}`);
      // One tenants function per arm, each in a group added with it, and each added group used by one of them:
      // Terraform sees the function use its group, so deletes the function first, then the group, in one deploy.
      expect(functions).toHaveLength(directArmEnabled(on.profile) ? 2 : 1);
      expect(functions.map((f) => body(on.api, `aws_lambda_function.${f}`).vpc_config.security_group_ids).sort()).toEqual(groups.map((g) => [g]).sort());
      // Every added rule names an added group (so goes with it), and no rule left behind names one.
      const rules = [...ofType('aws_vpc_security_group_ingress_rule').map((r) => `aws_vpc_security_group_ingress_rule.${r}`), ...ofType('aws_vpc_security_group_egress_rule').map((r) => `aws_vpc_security_group_egress_rule.${r}`)];
      expect(rules.length).toBeGreaterThanOrEqual(3 * groups.length);
      for (const r of rules) expect([r, groups.some((g) => [body(on.api, r).security_group_id, body(on.api, r).referenced_security_group_id].includes(g))]).toEqual([r, true]);
      expect(JSON.stringify(off.api)).not.toMatch(/tenant/i);
    });
  });
});

describe('tenants_left_in_place, evaluated by Terraform itself', () => {
  // The output's expression with the invocation's result replaced by each answer the migration may give.
  const expression = (environments[0].data.output!.tenants_left_in_place.value as string).replace(/^\$\{(.*)\}$/, '$1');
  test.each([
    ['an answer without a tenants part (tenants off)', { applied: [] }, []],
    ['a null tenants part', { tenants: null }, []],
    ['tenants left in place', { tenants: { provisioned: 0, present: 3, leftInPlace: ['tenant_3', 'tenant_4'], rowsInserted: 0 } }, ['tenant_3', 'tenant_4']],
  ])('%s', (_case, answer, expected) => {
    const input = expression.replace(/aws_lambda_invocation\.[^.]+\.result/, JSON.stringify(JSON.stringify(answer)));
    const dir = mkdtempSync(join(tmpdir(), 'tf-console-'));
    try {
      const out = execFileSync('terraform', ['console'], { cwd: dir, input: `jsonencode(${input})\n`, encoding: 'utf8', timeout: 30_000, env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } });
      expect(JSON.parse(JSON.parse(out.trim()))).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
