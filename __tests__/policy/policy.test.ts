/**
 * The policy suite: every rule in rules.ts over every stack of every environment under test (the shipped
 * profiles and generated variants). An environment may fail only the rules its profile waives (each
 * `waivers` entry, beside the setting it excuses), and must fail each of them: a waiver that hides
 * nothing is stale and must go. So a profile copied to a new environment carries its intent, and no
 * waiver can hide a real gap.
 */
import { EnvironmentUnderTest, environmentsUnderTest, StackJson, SynthesizedEnvironment, titleOf } from '../support/synth';
import { directArmDatabase, directArmEnabled } from '../../config';
import { DIRECT_DATABASE_RULE, DIRECT_REACH_RULE, LAMBDA_CONNECT_RULE, LAMBDA_ENVIRONMENT_RULE, PolicyContext, resolveRemote, Rule, RULES, STACK_KINDS, StackKind, TENANTS_SG_RULE, TENANT_RESOURCE_ID_RULE, Waiver, WAIVABLE, waiversOf } from './rules';

interface Case {
  readonly title: string;
  readonly rule: Rule;
  readonly ctx: PolicyContext;
  readonly waiver?: Waiver;
}

const environments = environmentsUnderTest();

function contextOf(env: SynthesizedEnvironment, kind: StackKind): PolicyContext {
  return { env, kind, json: env[kind], id: env.stacks[kind].node.id };
}

const cases: Case[] = environments.flatMap((env) =>
  STACK_KINDS.flatMap((kind) =>
    RULES.filter((rule) => rule.kinds.includes(kind) && (rule.when?.(env) ?? true)).map((rule) => {
      const ctx = contextOf(env, kind);
      const waiver = waiversOf(env.profile).find((w) => w.rule === rule.name);
      const title = `[${ctx.id}${env.variant ? ` (${env.variant})` : ''}] ${rule.name}${waiver ? ` (waived by ${waiver.where}, expected to fail: ${waiver.reason})` : ''}`;
      return { title, rule, ctx, waiver };
    }),
  ),
);

describe('policy', () => {
  test.each(cases.map((c) => [c.title, c] as const))('%s', (_title, { rule, ctx, waiver }) => {
    const violations = rule.check(ctx);
    if (waiver) {
      // A waived rule must still be violated; if it passes, delete the waiver.
      expect({ rule: rule.name, violations }).toEqual({ rule: rule.name, violations: expect.arrayContaining([expect.any(String)]) });
    } else {
      const hint = WAIVABLE[rule.name] ? `fix ${WAIVABLE[rule.name]}, or waive it with a reason in the profile's ${WAIVABLE[rule.name].replace('.', '.waivers.')}` : 'not waivable';
      expect({ rule: rule.name, violations, hint }).toEqual({ rule: rule.name, violations: [], hint });
    }
  });
});

describe('policy suite integrity', () => {
  test('rule names are unique and every rule is checked on at least one stack', () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const checked = new Set(cases.map((c) => c.rule.name));
    expect(names.filter((n) => !checked.has(n))).toEqual([]);
  });

  test('every waivable rule exists and names a distinct setting', () => {
    expect(Object.keys(WAIVABLE).filter((r) => !RULES.some((rule) => rule.name === r))).toEqual([]);
    expect(new Set(Object.values(WAIVABLE)).size).toBe(Object.keys(WAIVABLE).length);
  });

  test.each(environments.map((e) => [titleOf(e), e] as const))('%s: every waiver names a waivable rule and gives a reason', (_t, env) => {
    for (const w of waiversOf(env.profile)) {
      expect({ waiver: w.where, rule: w.rule, known: w.rule in WAIVABLE }).toEqual({ waiver: w.where, rule: w.rule, known: true });
      expect(w.reason.trim().length).toBeGreaterThanOrEqual(10);
    }
  });

  test.each(environments.map((e) => [titleOf(e), e] as const))('%s fails exactly its waived rules, no more and no fewer', (_label, env: EnvironmentUnderTest) => {
    const failing = new Set<string>();
    for (const kind of STACK_KINDS) {
      for (const rule of RULES.filter((r) => r.kinds.includes(kind) && (r.when?.(env) ?? true))) {
        if (rule.check(contextOf(env, kind)).length > 0) failing.add(rule.name);
      }
    }
    expect([...failing].sort()).toEqual(waiversOf(env.profile).map((w) => w.rule).sort());
  });

  test('the generated variants include one that waives nothing and one that waives every waivable rule', () => {
    const counts = environments.map((e) => waiversOf(e.profile).length);
    expect(counts).toContain(0);
    expect(counts).toContain(Object.keys(WAIVABLE).length);
  });
});

/**
 * The rules can fail: each mutation breaks one property of the passing prod JSON and the named rule must
 * then report it. Guards against rules that pass whatever they are given.
 */
describe('each rule catches what it is about', () => {
  // The bases: environments that waive nothing (a generated strict variant at least), with and without the cache.
  const strictEnvs = environments.filter((e) => waiversOf(e.profile).length === 0);
  const prodEnv = strictEnvs.find((e) => e.profile.cache.enabled)!;
  const prodNoCache = strictEnvs.find((e) => !e.profile.cache.enabled)!;
  const withTenants = strictEnvs.find((e) => e.profile.tenants.count > 0)!;
  const first = (json: StackJson, type: string) => Object.values(json.resource![type])[0] as any;
  const directOff = environments.find((e) => !directArmEnabled(e.profile))!;
  const directOn = strictEnvs.find((e) => directArmEnabled(e.profile) && e.profile.cache.enabled)!;
  const directWithTenants = strictEnvs.find((e) => directArmEnabled(e.profile) && e.profile.tenants.count > 0)!;
  // The direct arm on an instance of its own (the rules it is about hold whatever the profile waives), and on the proxy arm's.
  // (support/variants.ts generates both, with tenants, whatever the profiles ship: a missing one is an error, not a fallback.)
  const withDatabase = (database: 'own' | 'shared') => {
    const found = environments.find((e) => directArmDatabase(e.profile) === database && e.profile.tenants.count > 0);
    if (!found) throw new Error(`no environment under test has the direct arm on database ${database} with tenants`);
    return found;
  };
  const ownDatabase = withDatabase('own');
  const sharedDatabase = withDatabase('shared');
  /** The connect-prefix local of the instance the direct arm connects to (`mysql_…`, or `direct-mysql_…` when it has its own). */
  const isInstanceConnectPrefix = (local: string) => /^(direct-)?mysql_connect-arn-prefix/.test(local);
  /** The one resource of `type` whose name starts with `prefix` (the direct arm's instance is under `direct-mysql`, its migrations under `direct-migration`). */
  const named = (json: StackJson, type: string, prefix: string) => {
    const found = Object.entries(json.resource![type]).filter(([n]) => n.startsWith(prefix)) as Array<[string, any]>;
    expect(found.map(([n]) => n)).toHaveLength(1);
    return found[0];
  };
  const ref = (json: StackJson, type: string, prefix: string, attr: string) => `\${${type}.${named(json, type, prefix)[0]}.${attr}}`;
  /** One arm's function (the direct arm's live under its `direct-arm` construct). */
  const armFunction = (api: StackJson, arm: 'proxy' | 'direct', pick: 'hits' | 'tenants') =>
    (Object.entries(api.resource!.aws_lambda_function) as Array<[string, any]>).find(([n, f]) => n.startsWith('direct-arm_') === (arm === 'direct') && (f.environment.variables.TENANT_ACCESS_ROLE_ARN !== undefined) === (pick === 'tenants'))![1];
  const roleOf = (fn: any) => `\${aws_iam_role.${/^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(fn.role)![1]}.id}`;
  const connectPolicy = (api: StackJson, fn: any) => (Object.values(api.resource!.aws_iam_role_policy) as any[]).find((p) => p.role === roleOf(fn));
  const setConnectResource = (api: StackJson, fn: any, resource: string) => {
    const body = connectPolicy(api, fn);
    const doc = JSON.parse(body.policy);
    doc.Statement[0].Resource = resource;
    body.policy = JSON.stringify(doc);
  };
  const connectResource = (api: StackJson, fn: any) => JSON.parse(connectPolicy(api, fn).policy).Statement[0].Resource;
  const groupOf = (j: StackJson, namePrefixEnd: string) => `\${aws_security_group.${Object.entries(j.resource!.aws_security_group).find(([, g]: [string, any]) => g.name_prefix.endsWith(namePrefixEnd))![0]}.id}`;
  const DIRECT = 'direct arm: present exactly when the profile enables it (its own API, a hits function and, with tenants, a tenants function straight to the instance); every other function goes through the proxy';
  const DIRECT_HITS_SG = 'sg chain: direct arm hits function → database on 3306 (and the cache on 11211 when on), nothing else, in a group of its own; group and rules in the api stack';
  /** The end of the proxy arm's tenants group's name prefix (`<project>-<env>-tenants-`; the direct arm's is `…-direct-tenants-`). */
  const proxyTenantsGroup = `-${withTenants.profile.name}-tenants-`;
  const DIRECT_TENANTS_SG = 'sg chain: direct arm tenants function → database on 3306, HTTPS out for STS, nothing else, in a group of its own; group and rules in the api stack';
  /** `value` (an expression of the data stack) as the api stack reads it: through a data output and its remote state. */
  const readFromData = (env: SynthesizedEnvironment, value: string) => {
    const name = `mutation-${Object.keys(env.data.output ?? {}).length}`;
    env.data.output = { ...env.data.output, [name]: { value } };
    return `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.data.node.id}.outputs.${name}}`;
  };
  /**
   * The layout this arm must not have: one of its groups, with every rule naming it, in the data stack (the
   * references rewritten as cdktf would write them there), its function reading it across stacks.
   */
  const moveGroupToData = (env: SynthesizedEnvironment, namePrefixEnd: string) => {
    const { api, data } = env;
    const ref = groupOf(api, namePrefixEnd);
    const groupName = /^\$\{aws_security_group\.([^.]+)\.id\}$/.exec(ref)![1];
    data.resource!.aws_security_group[groupName] = api.resource!.aws_security_group[groupName];
    delete api.resource!.aws_security_group[groupName];
    for (const type of ['aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']) {
      for (const [n, r] of Object.entries(api.resource![type] ?? {}) as Array<[string, any]>) {
        if (r.security_group_id !== ref && r.referenced_security_group_id !== ref) continue;
        const local = (v: string | undefined) => (v === undefined ? v : resolveRemote(env, v));
        (data.resource![type] ??= {})[n] = { ...r, security_group_id: local(r.security_group_id), referenced_security_group_id: local(r.referenced_security_group_id) };
        delete api.resource![type][n];
      }
    }
    const fromData = readFromData(env, ref);
    for (const fn of Object.values(api.resource!.aws_lambda_function) as any[]) fn.vpc_config.security_group_ids = fn.vpc_config.security_group_ids.map((g: string) => (g === ref ? fromData : g));
  };
  const firstPolicy = (json: StackJson, type: string) => {
    const body = first(json, type);
    return { body, doc: JSON.parse(body.policy) };
  };

  /** [rule, stack it is checked on, mutation of that stack's JSON (or of any stack through env, all copies), base environment]. */
  const mutations: Array<[rule: string, kind: StackKind, mutate: (json: StackJson, env: SynthesizedEnvironment) => void, base?: SynthesizedEnvironment]> = [
    ['db: storage encrypted', 'data', (j) => (first(j, 'aws_db_instance').storage_encrypted = false)],
    ['db: not publicly accessible', 'data', (j) => (first(j, 'aws_db_instance').publicly_accessible = true)],
    ['db: RDS-managed master password (manage_master_user_password), no password', 'data', (j) => (first(j, 'aws_db_instance').password = 'hunter2')],
    ['secrets: no password attribute or password variable anywhere', 'data', (j) => (first(j, 'aws_db_instance').password = 'hunter2')],
    ['secrets: no password attribute or password variable anywhere', 'api', (j) => (first(j, 'aws_lambda_function').environment.variables.DB_PASSWORD = 'x')],
    ['db: parameter group has require_secure_transport = 1', 'data', (j) => (first(j, 'aws_db_parameter_group').parameter.find((p: any) => p.name === 'require_secure_transport').value = '0')],
    ['db: backups kept at least 7 days', 'data', (j) => (first(j, 'aws_db_instance').backup_retention_period = 6)],
    ['db: auto minor version upgrade', 'data', (j) => delete first(j, 'aws_db_instance').auto_minor_version_upgrade],
    ['db: logs exported to CloudWatch (error, slowquery, iam-db-auth-error)', 'data', (j) => (first(j, 'aws_db_instance').enabled_cloudwatch_logs_exports = ['error'])],
    ['db: logs exported to CloudWatch (error, slowquery, iam-db-auth-error)', 'data', (j) => (first(j, 'aws_db_instance').enabled_cloudwatch_logs_exports = ['error', 'slowquery'])],
    ['logs: whatever writes logs has its log group, with retention, created first', 'data', (j) => {
      // The iam-db-auth-error export without its group: RDS would create it with no expiry.
      for (const [n, g] of Object.entries(j.resource!.aws_cloudwatch_log_group) as Array<[string, any]>) if (g.name.endsWith('/iam-db-auth-error')) delete j.resource!.aws_cloudwatch_log_group[n];
    }],
    ['proxy: require_tls', 'data', (j) => (first(j, 'aws_db_proxy').require_tls = false)],
    ['proxy: clients must present an IAM token (IAM_AUTH, or every auth entry REQUIRED over the database secret)', 'data', (j) => delete first(j, 'aws_db_proxy').default_auth_scheme],
    ['proxy: clients must present an IAM token (IAM_AUTH, or every auth entry REQUIRED over the database secret)', 'data', (j) => {
      const db = Object.keys(j.resource!.aws_db_instance)[0];
      first(j, 'aws_db_proxy').auth = [{ auth_scheme: 'SECRETS', iam_auth: 'DISABLED', secret_arn: `\${aws_db_instance.${db}.master_user_secret[0].secret_arn}` }];
    }],
    ['proxy: debug logging off', 'data', (j) => (first(j, 'aws_db_proxy').debug_logging = true)],
    ['proxy: borrow timeout below the function timeout', 'data', (j) => (first(j, 'aws_db_proxy_default_target_group').connection_pool_config.connection_borrow_timeout = 10)],
    ['proxy: role assumable only by rds.amazonaws.com', 'data', (j) => {
      const role = (Object.entries(j.resource!.aws_iam_role).find(([n]) => n.startsWith('proxy_')) as [string, any])[1];
      const trust = JSON.parse(role.assume_role_policy);
      trust.Statement[0].Principal = { Service: ['rds.amazonaws.com', 'lambda.amazonaws.com'] };
      role.assume_role_policy = JSON.stringify(trust);
    }],
    ['proxy: role assumable only by rds.amazonaws.com', 'data', (j) => {
      // A condition key RDS Proxy does not document sending: the proxy could not assume its role.
      const role = (Object.entries(j.resource!.aws_iam_role).find(([n]) => n.startsWith('proxy_')) as [string, any])[1];
      const trust = JSON.parse(role.assume_role_policy);
      trust.Statement[0].Condition = { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.caller-identity.account_id}' } };
      role.assume_role_policy = JSON.stringify(trust);
    }],
    ['proxy: role holds only what its logins need (rds-db:connect to its database; a secret only if an auth entry names it)', 'data', (j) => {
      // The database's own secret, but no auth entry logs in with it any more.
      const body = Object.entries(j.resource!.aws_iam_role_policy).find(([n]) => n.startsWith('proxy_connect-to-database'))![1] as any;
      const db = Object.keys(j.resource!.aws_db_instance)[0];
      const doc = JSON.parse(body.policy);
      doc.Statement.push({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `\${aws_db_instance.${db}.master_user_secret[0].secret_arn}` });
      body.policy = JSON.stringify(doc);
    }],
    ['proxy: role holds only what its logins need (rds-db:connect to its database; a secret only if an auth entry names it)', 'data', (j) => {
      const body = Object.entries(j.resource!.aws_iam_role_policy).find(([n]) => n.startsWith('proxy_connect-to-database'))![1] as any;
      const doc = JSON.parse(body.policy);
      doc.Statement[0].Resource = ['${local.elsewhere}/hits_app'];
      body.policy = JSON.stringify(doc);
    }],
    ['iam: no "*" resource', 'data', (j) => {
      const { body, doc } = firstPolicy(j, 'aws_iam_role_policy');
      doc.Statement[0].Resource = '*';
      body.policy = JSON.stringify(doc);
    }],
    ['iam: no "*" action', 'api', (j) => {
      const { body, doc } = firstPolicy(j, 'aws_iam_role_policy');
      doc.Statement[0].Action = 'rds-db:*';
      body.policy = JSON.stringify(doc);
    }],
    ['iam: every policy is literal JSON', 'api', (j) => (first(j, 'aws_iam_role_policy').policy = '${data.aws_iam_policy_document.x.json}')],
    ['iam: partition-aware ARNs (no literal arn:aws: anywhere)', 'api', (j) => (first(j, 'aws_iam_role_policy_attachment').policy_arn = 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole')],
    ['iam: partition-aware ARNs (no literal arn:aws: anywhere)', 'data', (j) => {
      const { body, doc } = firstPolicy(j, 'aws_iam_role_policy');
      doc.Statement.push({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:eu-west-1:123456789012:key/x' });
      body.policy = JSON.stringify(doc);
    }],
    ['sg: no ingress from 0.0.0.0/0 or ::/0', 'data', (j) => (first(j, 'aws_vpc_security_group_ingress_rule').cidr_ipv6 = '::/0')],
    ['sg: no ingress from 0.0.0.0/0 or ::/0', 'network', (j) => (first(j, 'aws_security_group').ingress = [{ protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['0.0.0.0/0'], description: 'ssh' }])],
    ['sg: no all-traffic egress to 0.0.0.0/0 or ::/0', 'network', (j) => (first(j, 'aws_vpc_security_group_egress_rule').ip_protocol = '-1')],
    ['sg: every security group has a description', 'data', (j) => delete first(j, 'aws_security_group').description],
    ['sg: every security group rule has a description', 'data', (j) => (first(j, 'aws_vpc_security_group_egress_rule').description = ' ')],
    ['sg chain: app → proxy on 3306, by reference', 'data', (j) => {
      const rule = Object.values(j.resource!.aws_vpc_security_group_ingress_rule).find((r: any) => r.from_port === 3306 && r.referenced_security_group_id.startsWith('${data.')) as any;
      delete rule.referenced_security_group_id;
      rule.cidr_ipv4 = '10.20.0.0/16';
    }],
    // The tenants group: reaching the database itself, losing its way to STS, the hits function moved into it,
    // or the group back in the data stack.
    [TENANTS_SG_RULE, 'api', (j, env) => {
      const dbGroup = readFromData(env, first(env.data, 'aws_db_instance').vpc_security_group_ids[0]);
      j.resource!.aws_vpc_security_group_egress_rule['mutation-to-db'] = { security_group_id: groupOf(j, proxyTenantsGroup), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: dbGroup, description: 'mutation' };
    }, withTenants],
    [TENANTS_SG_RULE, 'api', (j) => delete j.resource!.aws_vpc_security_group_egress_rule['tenants-egress-https'], withTenants],
    [TENANTS_SG_RULE, 'api', (j) => (j.resource!.aws_vpc_security_group_egress_rule['tenants-egress-https'].from_port = 0), withTenants],
    [TENANTS_SG_RULE, 'api', (_j, env) => {
      const hits = armFunction(env.api, 'proxy', 'hits');
      const tenants = armFunction(env.api, 'proxy', 'tenants');
      tenants.vpc_config.security_group_ids = [...hits.vpc_config.security_group_ids];
    }, withTenants],
    // Back in the data stack with every rule (the layout before): turning tenants off would take two deploys again.
    [TENANTS_SG_RULE, 'api', (_j, env) => moveGroupToData(env, proxyTenantsGroup), withTenants],
    [TENANTS_SG_RULE, 'api', (j, env) => {
      // Only the proxy's side of its 3306 path in the data stack (read from the api stack's output).
      const [n, r] = (Object.entries(j.resource!.aws_vpc_security_group_ingress_rule) as Array<[string, any]>).find(([, r]) => r.referenced_security_group_id === groupOf(j, proxyTenantsGroup))!;
      j.output = { ...j.output, 'mutation-tenants': { value: r.referenced_security_group_id } };
      env.data.resource!.aws_vpc_security_group_ingress_rule[n] = { ...r, security_group_id: resolveRemote(env, r.security_group_id), referenced_security_group_id: `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.api.node.id}.outputs.mutation-tenants}` };
      delete j.resource!.aws_vpc_security_group_ingress_rule[n];
    }, withTenants],
    ['sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own', 'data', (j) => {
      const group = first(j, 'aws_lambda_function').vpc_config.security_group_ids[0];
      j.resource!.aws_vpc_security_group_egress_rule['mutation-https-out'] = { security_group_id: group, ip_protocol: 'tcp', from_port: 443, to_port: 443, referenced_security_group_id: '${aws_security_group.elsewhere.id}', description: 'mutation' };
    }],
    ['sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own', 'data', (j) => {
      // Back through the proxy: the migration group's egress pointed at the proxy's group.
      const group = first(j, 'aws_lambda_function').vpc_config.security_group_ids[0];
      const proxyGroup = first(j, 'aws_db_proxy').vpc_security_group_ids[0];
      for (const r of Object.values(j.resource!.aws_vpc_security_group_egress_rule) as any[]) if (r.security_group_id === group) r.referenced_security_group_id = proxyGroup;
    }],
    ['sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own', 'data', (j) => {
      // The migration function moved into the shared app group, which also reaches the cache.
      const appIngress = Object.values(j.resource!.aws_vpc_security_group_ingress_rule).find((r: any) => r.from_port === 3306 && String(r.referenced_security_group_id).startsWith('${data.')) as any;
      first(j, 'aws_lambda_function').vpc_config.security_group_ids = [appIngress.referenced_security_group_id];
    }],
    ['sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own', 'data', (j) => {
      // No way out to Secrets Manager: the secret read would time out and the deploy fail.
      const group = first(j, 'aws_lambda_function').vpc_config.security_group_ids[0];
      const rules = j.resource!.aws_vpc_security_group_egress_rule as Record<string, any>;
      for (const [name, r] of Object.entries(rules)) if (r.security_group_id === group && r.from_port === 443) delete rules[name];
    }],
    ['sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own', 'data', (j) => {
      // HTTPS widened to every port.
      const group = first(j, 'aws_lambda_function').vpc_config.security_group_ids[0];
      for (const r of Object.values(j.resource!.aws_vpc_security_group_egress_rule) as any[]) if (r.security_group_id === group && r.from_port === 443) r.to_port = 65535;
    }],
    ['sg chain: proxy → database on 3306, by reference', 'data', (j) => {
      for (const r of Object.values(j.resource!.aws_vpc_security_group_egress_rule) as any[]) if (r.from_port === 3306) r.to_port = 3307;
    }],
    ['sg chain: app → cache on 11211, by reference', 'data', (j) => {
      for (const [n, r] of Object.entries(j.resource!.aws_vpc_security_group_egress_rule) as Array<[string, any]>) if (r.from_port === 11211) delete j.resource!.aws_vpc_security_group_egress_rule[n];
    }],
    ['sg chain: no data-tier rule uses a CIDR', 'data', (j) => (first(j, 'aws_vpc_security_group_egress_rule').cidr_ipv4 = '10.0.0.0/8')],
    ['vpc: one NAT gateway per AZ', 'network', (j) => delete j.resource!.aws_nat_gateway[Object.keys(j.resource!.aws_nat_gateway)[0]]],
    ['vpc: flow logs on (all traffic, to CloudWatch Logs)', 'network', (j) => (first(j, 'aws_flow_log').traffic_type = 'REJECT')],
    ['vpc: default security group managed with no rules', 'network', (j) => (first(j, 'aws_default_security_group').egress = [{ protocol: '-1', from_port: 0, to_port: 0, cidr_blocks: ['0.0.0.0/0'] }])],
    ['vpc: default security group managed with no rules', 'network', (j) => delete j.resource!.aws_default_security_group],
    ['logs: every log group has retention_in_days', 'api', (j) => delete first(j, 'aws_cloudwatch_log_group').retention_in_days],
    ['lambda: in a VPC (private subnets, app security group)', 'api', (j) => delete first(j, 'aws_lambda_function').vpc_config],
    ['lambda: in a VPC (private subnets, app security group)', 'api', (j, env) => {
      const publicSubnet = Object.keys(env.network.output!).find((o) => o.includes('public-subnet'));
      // The network stack does not export public subnets, so point at one that is not private instead.
      first(j, 'aws_lambda_function').vpc_config.subnet_ids[0] = publicSubnet ? `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.network.node.id}.outputs.${publicSubnet}}` : '${aws_subnet.elsewhere.id}';
    }],
    ['lambda: tracing Active', 'api', (j) => (first(j, 'aws_lambda_function').tracing_config.mode = 'PassThrough')],
    ['lambda: reserved concurrency set', 'api', (j) => delete first(j, 'aws_lambda_function').reserved_concurrent_executions],
    ['lambda: its log group /aws/lambda/<name> exists with retention, before the function', 'api', (j) => (first(j, 'aws_lambda_function').depends_on = [])],
    [LAMBDA_ENVIRONMENT_RULE, 'api', (j) => (first(j, 'aws_lambda_function').environment.variables.DB_TLS = 'off')],
    [LAMBDA_ENVIRONMENT_RULE, 'api', (j, env) => {
      const db = Object.keys(env.data.output!).find((o) => o.endsWith('db_name'))!;
      first(j, 'aws_lambda_function').environment.variables.DB_HOST = `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.data.node.id}.outputs.${db}}`;
    }],
    ['lambda role: only the AWS-managed VPC-access and X-Ray write policies attached', 'api', (j) => (first(j, 'aws_iam_role_policy_attachment').policy_arn = 'arn:aws:iam::aws:policy/AdministratorAccess')],
    [LAMBDA_CONNECT_RULE, 'api', (j) => {
      const { body, doc } = firstPolicy(j, 'aws_iam_role_policy');
      doc.Statement[0].Resource = doc.Statement[0].Resource.replace(/\/.*$/, '/*');
      body.policy = JSON.stringify(doc);
    }],
    [LAMBDA_CONNECT_RULE, 'api', (_j, env) => {
      // The connect prefix (in the data stack) taking element 5 ("db-proxy") instead of 6 (the prx id).
      const locals = env.data.locals!;
      const id = Object.keys(locals).find((k) => k.startsWith('proxy_resource-id'))!;
      locals[id] = locals[id].replace(/, 6\)/, ', 5)');
    }],
    ['lambda role: no Secrets Manager access with DB_AUTH=iam', 'api', (j) => {
      const { body, doc } = firstPolicy(j, 'aws_iam_role_policy');
      doc.Statement.push({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' });
      body.policy = JSON.stringify(doc);
    }],
    ['cache: TLS in transit', 'data', (j) => (first(j, 'aws_elasticache_cluster').transit_encryption_enabled = false)],
    ['cache: nodes across AZs (az_mode cross-az, at least 2 nodes)', 'data', (j) => (first(j, 'aws_elasticache_cluster').az_mode = 'single-az')],
    ['cache: function told to use TLS (CACHE_TLS=true, CACHE_NODES from the cluster)', 'api', (j) => (first(j, 'aws_lambda_function').environment.variables.CACHE_TLS = 'false')],
    ['api: stage has access logs to a log group with retention', 'api', (j) => delete first(j, 'aws_apigatewayv2_stage').access_log_settings],
    ['api: stage throttled', 'api', (j) => delete first(j, 'aws_apigatewayv2_stage').default_route_settings],
    ['api: invoke permission scoped to <API execution_arn>/*/* for the $default function, to its own route for a routed function', 'api', (j) => (first(j, 'aws_lambda_permission').source_arn = first(j, 'aws_lambda_permission').source_arn.replace('/*/*', '/*'))],
    ['api: invoke permission scoped to <API execution_arn>/*/* for the $default function, to its own route for a routed function', 'api', (j) => delete first(j, 'aws_lambda_permission').source_arn],
    ['cache disabled: no cache resource, 11211 rule or CACHE_* variable', 'api', (j) => (first(j, 'aws_lambda_function').environment.variables.CACHE_NODES = 'x:11211'), prodNoCache],
    // The direct arm: there exactly when the profile says, its functions on its own API, each arm on its own way in.
    [DIRECT, 'api', (j) => delete j.resource!.aws_lambda_function[Object.keys(j.resource!.aws_lambda_function).find((n) => n.startsWith('direct-arm_hits'))!], directOn],
    [DIRECT, 'api', (j) => (armFunction(j, 'proxy', 'hits').environment.variables.DB_HOST = armFunction(j, 'direct', 'hits').environment.variables.DB_HOST), directOn],
    [DIRECT, 'api', (j) => (armFunction(j, 'direct', 'tenants').environment.variables.DB_HOST = armFunction(j, 'proxy', 'tenants').environment.variables.DB_HOST), directWithTenants],
    [DIRECT, 'api', (j) => {
      // The direct API's $default route sent to the proxy arm's integration: one API, both arms.
      const route = (Object.entries(j.resource!.aws_apigatewayv2_route) as Array<[string, any]>).find(([n, r]) => n.startsWith('direct-arm_') && r.route_key === '$default')![1];
      const proxyRoute = (Object.entries(j.resource!.aws_apigatewayv2_route) as Array<[string, any]>).find(([n, r]) => !n.startsWith('direct-arm_') && r.route_key === '$default')![1];
      route.target = proxyRoute.target;
    }, directOn],
    [DIRECT, 'api', (j) => {
      // Every route of the direct API sent to the proxy arm's function of the same route: each API reaches one
      // arm, but both reach the proxy one, so the direct arm is unreachable.
      const routes = Object.entries(j.resource!.aws_apigatewayv2_route) as Array<[string, any]>;
      for (const [n, r] of routes) if (n.startsWith('direct-arm_')) r.target = routes.find(([m, p]) => !m.startsWith('direct-arm_') && p.route_key === r.route_key)![1].target;
    }, directOn],
    // Off: a function sent straight to the instance anyway.
    [DIRECT, 'api', (_j, env) => {
      const db = Object.keys(env.data.resource!.aws_db_instance)[0];
      env.data.output!['mutation-address'] = { value: `\${aws_db_instance.${db}.address}` };
      first(env.api, 'aws_lambda_function').environment.variables.DB_HOST = `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.data.node.id}.outputs.mutation-address}`;
    }, directOff],
    [LAMBDA_ENVIRONMENT_RULE, 'api', (j) => delete armFunction(j, 'direct', 'hits').environment.variables.DB_CA_BUNDLE, directOn],
    [LAMBDA_ENVIRONMENT_RULE, 'api', (j) => (armFunction(j, 'proxy', 'hits').environment.variables.DB_CA_BUNDLE = 'rds'), directOn],
    // Each arm's role on the other arm's way in: the direct one on the proxy's prx- resource, the proxy one on the instance's db- resource.
    [LAMBDA_CONNECT_RULE, 'api', (j) => setConnectResource(j, armFunction(j, 'direct', 'hits'), connectResource(j, armFunction(j, 'proxy', 'hits'))), directOn],
    [LAMBDA_CONNECT_RULE, 'api', (j) => setConnectResource(j, armFunction(j, 'proxy', 'hits'), connectResource(j, armFunction(j, 'direct', 'hits'))), directOn],
    [LAMBDA_CONNECT_RULE, 'api', (_j, env) => {
      // The instance's prefix built on element 5 ("db") of its ARN instead of the account.
      const locals = env.data.locals!;
      const id = Object.keys(locals).find(isInstanceConnectPrefix)!;
      locals[id] = locals[id].replace(/arn\), 4\)/, 'arn), 5)');
    }, directOn],
    [LAMBDA_CONNECT_RULE, 'api', (_j, env) => {
      // The instance's identifier where its resource id belongs.
      const locals = env.data.locals!;
      const id = Object.keys(locals).find(isInstanceConnectPrefix)!;
      locals[id] = locals[id].replace(/\.resource_id\)\}$/, '.identifier)}');
    }, directOn],
    [DIRECT_HITS_SG, 'api', (j, env) => {
      // The direct arm's hits group given a way to the proxy.
      j.resource!.aws_vpc_security_group_egress_rule['mutation-to-proxy'] = { security_group_id: groupOf(j, '-direct-hits-'), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: readFromData(env, first(env.data, 'aws_db_proxy').vpc_security_group_ids[0]), description: 'mutation' };
    }, directOn],
    [DIRECT_HITS_SG, 'api', (j) => {
      // HTTPS out it does not need.
      j.resource!.aws_vpc_security_group_egress_rule['mutation-https'] = { security_group_id: groupOf(j, '-direct-hits-'), ip_protocol: 'tcp', from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0', description: 'mutation' };
    }, directOn],
    [DIRECT_HITS_SG, 'api', (j) => {
      for (const [n, r] of Object.entries(j.resource!.aws_vpc_security_group_ingress_rule) as Array<[string, any]>) if (r.referenced_security_group_id === groupOf(j, '-direct-hits-') && r.from_port === 3306) delete j.resource!.aws_vpc_security_group_ingress_rule[n];
    }, directOn],
    [DIRECT_HITS_SG, 'api', (j) => {
      // Its way to the cache lost: the direct arm would run without the cache the proxy arm has.
      for (const [n, r] of Object.entries(j.resource!.aws_vpc_security_group_egress_rule) as Array<[string, any]>) if (r.security_group_id === groupOf(j, '-direct-hits-') && r.from_port === 11211) delete j.resource!.aws_vpc_security_group_egress_rule[n];
    }, directOn],
    [DIRECT_HITS_SG, 'api', (_j, env) => {
      // The direct hits function moved into the app group, which reaches the proxy.
      armFunction(env.api, 'direct', 'hits').vpc_config.security_group_ids = [...armFunction(env.api, 'proxy', 'hits').vpc_config.security_group_ids];
    }, directOn],
    // Back in the data stack, every rule still in place: an ordinary deploy that turns the arm off would fail.
    [DIRECT_HITS_SG, 'api', (_j, env) => moveGroupToData(env, '-direct-hits-'), directOn],
    [DIRECT_HITS_SG, 'api', (j, env) => {
      // Only the database's side of its 3306 path in the data stack (read from the api stack's output).
      const [n, r] = (Object.entries(j.resource!.aws_vpc_security_group_ingress_rule) as Array<[string, any]>).find(([, r]) => r.referenced_security_group_id === groupOf(j, '-direct-hits-') && r.from_port === 3306)!;
      j.output = { ...j.output, 'mutation-direct-hits': { value: r.referenced_security_group_id } };
      env.data.resource!.aws_vpc_security_group_ingress_rule[n] = { ...r, security_group_id: resolveRemote(env, r.security_group_id), referenced_security_group_id: `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.api.node.id}.outputs.mutation-direct-hits}` };
      delete j.resource!.aws_vpc_security_group_ingress_rule[n];
    }, directOn],
    [DIRECT_TENANTS_SG, 'api', (j) => {
      for (const [n, r] of Object.entries(j.resource!.aws_vpc_security_group_egress_rule) as Array<[string, any]>) if (r.security_group_id === groupOf(j, '-direct-tenants-') && r.from_port === 443) delete j.resource!.aws_vpc_security_group_egress_rule[n];
    }, directWithTenants],
    [DIRECT_TENANTS_SG, 'api', (j, env) => {
      j.resource!.aws_vpc_security_group_egress_rule['mutation-to-proxy'] = { security_group_id: groupOf(j, '-direct-tenants-'), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: readFromData(env, first(env.data, 'aws_db_proxy').vpc_security_group_ids[0]), description: 'mutation' };
    }, directWithTenants],
    [DIRECT_TENANTS_SG, 'api', (_j, env) => {
      armFunction(env.api, 'direct', 'tenants').vpc_config.security_group_ids = [...armFunction(env.api, 'direct', 'hits').vpc_config.security_group_ids];
    }, directWithTenants],
    [DIRECT_TENANTS_SG, 'api', (_j, env) => moveGroupToData(env, '-direct-tenants-'), directWithTenants],
    // A direct-arm group admitted to the proxy breaks the proxy's client list.
    ['sg chain: app → proxy on 3306, by reference', 'data', (_j, env) => {
      // From the api stack, where the arm's rules live, on the proxy's group read from the data stack.
      env.api.resource!.aws_vpc_security_group_ingress_rule['mutation-direct-into-proxy'] = { security_group_id: readFromData(env, first(env.data, 'aws_db_proxy').vpc_security_group_ids[0]), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: groupOf(env.api, '-direct-hits-'), description: 'mutation' };
    }, directOn],
    ['api: invoke permission scoped to <API execution_arn>/*/* for the $default function, to its own route for a routed function', 'api', (j) => {
      // The direct function's permission scoped to the proxy arm's API.
      const [proxyApi] = Object.keys(j.resource!.aws_apigatewayv2_api).filter((n) => !n.startsWith('direct-arm_'));
      const permission = (Object.entries(j.resource!.aws_lambda_permission) as Array<[string, any]>).find(([n, p]) => n.startsWith('direct-arm_') && p.source_arn.endsWith('/*/*'))![1];
      permission.source_arn = `\${aws_apigatewayv2_api.${proxyApi}.execution_arn}/*/*`;
    }, directOn],
    ['cache disabled: no cache resource, 11211 rule or CACHE_* variable', 'data', (j) => (first(j, 'aws_vpc_security_group_ingress_rule').from_port = 11211), prodNoCache],
    // The arms' databases: with its own instance, no way from the proxy to it, and the direct arm's functions on it alone.
    [DIRECT_DATABASE_RULE, 'data', (j) => (first(j, 'aws_db_proxy_target').db_instance_identifier = ref(j, 'aws_db_instance', 'direct-mysql_', 'identifier')), ownDatabase],
    [DIRECT_DATABASE_RULE, 'data', (j) => {
      // A second target: the proxy pooling for the direct arm's instance too.
      j.resource!.aws_db_proxy_target['mutation-second-target'] = { ...first(j, 'aws_db_proxy_target'), db_instance_identifier: ref(j, 'aws_db_instance', 'direct-mysql_', 'identifier') };
    }, ownDatabase],
    [DIRECT_DATABASE_RULE, 'data', (j) => {
      // The proxy's end-to-end IAM logins granted on the direct arm's instance.
      const [name, local] = (Object.entries(j.locals!) as Array<[string, string]>).find(([n]) => n.startsWith('proxy_database-connect-arn-prefix'))!;
      j.locals![name] = local.replaceAll(named(j, 'aws_db_instance', 'mysql_')[0], named(j, 'aws_db_instance', 'direct-mysql_')[0]);
    }, ownDatabase],
    [DIRECT_DATABASE_RULE, 'data', (j) => {
      // The proxy's group given a way to the direct arm's instance.
      j.resource!.aws_vpc_security_group_egress_rule['mutation-proxy-to-direct'] = { security_group_id: first(j, 'aws_db_proxy').vpc_security_group_ids[0], ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: ref(j, 'aws_security_group', 'direct-mysql_', 'id'), description: 'mutation' };
    }, ownDatabase],
    // The direct arm's instance without its migrations: no schema, no application user, no tenants there.
    [DIRECT_DATABASE_RULE, 'data', (j) => delete j.resource!.aws_lambda_invocation[named(j, 'aws_lambda_invocation', 'direct-migration_')[0]], ownDatabase],
    // Its migrations sent to the proxy arm's instance: that one migrated twice, its own never.
    [DIRECT_DATABASE_RULE, 'data', (j) => (named(j, 'aws_lambda_function', 'direct-migration_')[1].environment.variables.DB_HOST = ref(j, 'aws_db_instance', 'mysql_', 'address')), ownDatabase],
    // A profile that shares the instance, with a second one anyway.
    [DIRECT_DATABASE_RULE, 'data', (j) => (j.resource!.aws_db_instance['mutation-second'] = { ...first(j, 'aws_db_instance'), identifier: 'mutation-second' }), sharedDatabase],
    [DIRECT_REACH_RULE, 'api', (j, env) => (armFunction(j, 'direct', 'hits').environment.variables.DB_HOST = readFromData(env, ref(env.data, 'aws_db_instance', 'mysql_', 'address'))), ownDatabase],
    [DIRECT_REACH_RULE, 'api', (j, env) => (armFunction(j, 'direct', 'hits').environment.variables.DB_NAME = readFromData(env, ref(env.data, 'aws_db_instance', 'mysql_', 'db_name'))), ownDatabase],
    [DIRECT_REACH_RULE, 'api', (j, env) => (armFunction(j, 'direct', 'tenants').environment.variables.DB_RESOURCE_ID = readFromData(env, ref(env.data, 'aws_db_instance', 'mysql_', 'resource_id'))), ownDatabase],
    [DIRECT_REACH_RULE, 'api', (_j, env) => {
      // The direct arm's connect prefix (its hits role's and its tenant-access role's grants) built on the proxy arm's instance.
      const [name, local] = (Object.entries(env.data.locals!) as Array<[string, string]>).find(([n]) => n.startsWith('direct-mysql_connect-arn-prefix'))!;
      env.data.locals![name] = local.replaceAll(named(env.data, 'aws_db_instance', 'direct-mysql_')[0], named(env.data, 'aws_db_instance', 'mysql_')[0]);
    }, ownDatabase],
    [DIRECT_REACH_RULE, 'api', (j, env) => {
      // The direct hits group admitted to the proxy arm's instance as well.
      j.resource!.aws_vpc_security_group_ingress_rule['mutation-into-proxy-db'] = { security_group_id: readFromData(env, ref(env.data, 'aws_security_group', 'mysql_', 'id')), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: groupOf(j, '-direct-hits-'), description: 'mutation' };
    }, ownDatabase],
    // The rules that name the direct arm's instance follow the profile's choice: on its own instance, the proxy arm's is another's.
    [DIRECT_TENANTS_SG, 'api', (j, env) => {
      j.resource!.aws_vpc_security_group_egress_rule['mutation-to-proxy-db'] = { security_group_id: groupOf(j, '-direct-tenants-'), ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: readFromData(env, ref(env.data, 'aws_security_group', 'mysql_', 'id')), description: 'mutation' };
    }, ownDatabase],
    [TENANT_RESOURCE_ID_RULE, 'api', (j, env) => (armFunction(j, 'direct', 'tenants').environment.variables.DB_RESOURCE_ID = readFromData(env, ref(env.data, 'aws_db_instance', 'mysql_', 'resource_id'))), ownDatabase],
    ['migration: function unreachable from any API; its role is VPC access, X-Ray and GetSecretValue on the master secret only; straight to the instance over verified TLS', 'data', (j) => {
      // The direct arm's migrations reading the proxy arm's instance's secret.
      named(j, 'aws_lambda_function', 'direct-migration_')[1].environment.variables.DB_SECRET_ARN = `\${${ref(j, 'aws_db_instance', 'mysql_', 'master_user_secret').slice(2, -1)}[0].secret_arn}`;
    }, ownDatabase],
    ['migration: invoked at deploy by aws_lambda_invocation after the instance, its grant and its security-group path (not the proxy), re-run when the migrations change, result as an output', 'data', (j) => {
      // Invoked before its own instance exists.
      const [, invocation] = named(j, 'aws_lambda_invocation', 'direct-migration_');
      invocation.depends_on = invocation.depends_on.filter((d: string) => !d.startsWith('aws_db_instance.'));
    }, ownDatabase],
  ];

  test.each(mutations.map(([rule, kind, mutate, base], i) => [`${rule} [${kind}] #${i + 1}`, rule, kind, mutate, base ?? prodEnv] as const))('%s', (_t, ruleName, kind, mutate, base) => {
    const rule = RULES.find((r) => r.name === ruleName)!;
    expect(rule).toBeDefined();
    const clean = contextOf(base, kind);
    expect(rule.check(clean)).toEqual([]);
    const mutated = structuredClone({ network: base.network, data: base.data, api: base.api, ops: base.ops });
    const env: SynthesizedEnvironment = { ...base, ...mutated, text: { ...base.text } };
    mutate(mutated[kind], env);
    env.text[clean.id] = JSON.stringify(mutated[kind]);
    expect(rule.check(contextOf(env, kind)).length).toBeGreaterThan(0);
  });
});
