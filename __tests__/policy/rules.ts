/**
 * The policy rules: the project's security model (docs/security.md) and the static checks users run on
 * `cdk.tf.json` (checkov, trivy), as named checks over one synthesized stack. A rule returns the list of
 * its violations, each naming the resource; an empty list passes. Rules read only literal JSON, as the
 * scanners do: a value they cannot read (a policy that is not JSON text) is a violation, not a pass.
 */
import { declaredWaivers, directArmDatabase, directArmEnabled, type Profile } from '../../config';
import { resources, SynthesizedEnvironment, StackJson } from '../support/synth';
import { divisions, parseMetricMath } from '../stacks/metric-math';

export type StackKind = 'network' | 'data' | 'api' | 'ops';
export const STACK_KINDS: readonly StackKind[] = ['network', 'data', 'api', 'ops'];

export interface PolicyContext {
  readonly env: SynthesizedEnvironment;
  readonly kind: StackKind;
  readonly json: StackJson;
  /** Stack id, e.g. `data-prod`. */
  readonly id: string;
}

export interface Rule {
  /** Test name after the stack id, e.g. `lambda: tracing Active`. Unique. */
  readonly name: string;
  /** Stacks the rule is checked on. */
  readonly kinds: readonly StackKind[];
  /** Only for environments where this holds (e.g. cache enabled); absent means always. */
  readonly when?: (env: SynthesizedEnvironment) => boolean;
  readonly check: (ctx: PolicyContext) => string[];
}

/**
 * The rules a profile may break on purpose, each with the profile setting that breaks it. A profile waives
 * one by giving a reason under `<section>.waivers.<setting>` (config/profile.ts, Waivers), beside the
 * setting itself, so a profile copied to a new environment carries its intent. The suite proves that each
 * waiver hides a real failure and that nothing unwaived fails.
 */
export const WAIVABLE: Readonly<Record<string, string>> = {
  'db: Multi-AZ': 'database.multiAz',
  'db: deletion protection': 'database.deletionProtection',
  'db: final snapshot kept on destroy': 'database.skipFinalSnapshot',
  'db: backups kept at least 7 days': 'database.backupRetentionDays',
  'db: Performance Insights on': 'database.performanceInsights',
  'db: enhanced monitoring on': 'database.monitoringIntervalSeconds',
  'vpc: flow logs on (all traffic, to CloudWatch Logs)': 'network.flowLogs',
  'vpc: one NAT gateway per AZ': 'network.natGateways',
  'lambda: reserved concurrency set': 'function.reservedConcurrency',
  'alarms: every alarm notifies the alarm topic (actions enabled)': 'alarms.enabled',
};

export interface Waiver {
  readonly rule: string;
  /** `<section>.waivers.<setting>` in the profile. */
  readonly where: string;
  readonly reason: string;
}

/** The rules `profile` waives, read from its sections' `waivers`. An unknown waivable setting is reported as such. */
export function waiversOf(profile: Profile): Waiver[] {
  return declaredWaivers(profile).map(({ setting, reason }) => {
    const rule = Object.keys(WAIVABLE).find((r) => WAIVABLE[r] === setting) ?? `<no rule for ${setting}>`;
    return { rule, where: setting.replace('.', '.waivers.'), reason };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reading the JSON



const addr = (type: string, name: string) => `${type}.${name}`;
const refTo = (type: string, name: string, attr: string) => `\${${type}.${name}.${attr}}`;

/** Violations unless the proxy targets one instance of the stack; otherwise runs `f` on it. */
function ofProxyInstance(json: StackJson, f: (name: string, body: any) => string[]): string[] {
  const db = proxyInstance(json);
  return db ? f(db[0], db[1]) : [`the proxy's target (aws_db_proxy_target) is not one aws_db_instance of this stack`];
}

/** Violations unless there is exactly one resource of `type`; otherwise runs `f` on it. */
function one(json: StackJson, type: string, f: (name: string, body: any) => string[]): string[] {
  const found = resources(json, type);
  if (found.length !== 1) return [`expected exactly one ${type}, found ${found.length}`];
  return f(found[0][0], found[0][1]);
}

function stackOf(env: SynthesizedEnvironment, id: string): [StackKind, StackJson] | undefined {
  const kind = STACK_KINDS.find((k) => env.stacks[k].node.id === id);
  return kind ? [kind, env[kind]] : undefined;
}

const REMOTE = /\$\{data\.terraform_remote_state\.cross-stack-reference-input-([^.}]+)\.outputs\.([^}]+)\}/g;

/** Replaces every remote-state reference in `value` by the producer's output expression (e.g. `${aws_x.y.id}`). */
export function resolveRemote(env: SynthesizedEnvironment, value: string): string {
  return value.replace(REMOTE, (whole, producer: string, output: string) => {
    const out = stackOf(env, producer)?.[1].output?.[output]?.value;
    return typeof out === 'string' ? out : `<unresolved ${whole}>`;
  });
}

/** A reference qualified by the stack it lives in: `network|${aws_security_group.app.id}`; remote references follow to their producer. */
export function canonical(env: SynthesizedEnvironment, kind: StackKind, value: unknown): string {
  if (typeof value !== 'string') return `${kind}|${JSON.stringify(value)}`;
  const m = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([^.}]+)\.outputs\.([^}]+)\}$/.exec(value);
  if (!m) return `${kind}|${value}`;
  const producer = stackOf(env, m[1]);
  return producer ? `${producer[0]}|${producer[1].output?.[m[2]]?.value}` : `?|${value}`;
}

export interface Statement {
  readonly Effect?: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly raw: any;
}

export interface PolicyDoc {
  /** Where it was found, e.g. `aws_iam_role_policy.x.policy`. */
  readonly where: string;
  /** For inline policies and trust policies: the role reference they belong to. */
  readonly role?: string;
  readonly trust: boolean;
  readonly statements?: Statement[];
  readonly error?: string;
}

/** Every IAM policy document in a stack, parsed; interpolations `${...}` sit inside JSON strings, so JSON.parse reads them. */
export function policyDocs(json: StackJson): PolicyDoc[] {
  const docs: PolicyDoc[] = [];
  const parse = (where: string, text: unknown, trust: boolean, role?: string) => {
    if (typeof text !== 'string') return docs.push({ where, trust, role, error: `${where} is not a JSON string` });
    let doc: any;
    try {
      doc = JSON.parse(text);
    } catch {
      return docs.push({ where, trust, role, error: `${where} is not literal JSON (scanners cannot read it): ${text.slice(0, 80)}` });
    }
    const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    const statements = list.map((s: any) => ({
      Effect: s.Effect,
      actions: [s.Action ?? []].flat().concat([s.NotAction ?? []].flat().map((a: string) => `NotAction:${a}`)),
      resources: [s.Resource ?? []].flat().concat([s.NotResource ?? []].flat().map((r: string) => `NotResource:${r}`)),
      raw: s,
    }));
    return docs.push({ where, trust, role, statements });
  };
  for (const [name, role] of resources(json, 'aws_iam_role')) {
    parse(`${addr('aws_iam_role', name)}.assume_role_policy`, role.assume_role_policy, true, name);
    for (const [i, inline] of (role.inline_policy ?? []).entries()) parse(`${addr('aws_iam_role', name)}.inline_policy[${i}]`, inline.policy, false, name);
  }
  for (const type of ['aws_iam_role_policy', 'aws_iam_policy']) {
    for (const [name, p] of resources(json, type)) parse(`${addr(type, name)}.policy`, p.policy, false, type === 'aws_iam_role_policy' ? /^\$\{aws_iam_role\.([^.]+)\.(id|name)\}$/.exec(p.role)?.[1] : undefined);
  }
  return docs;
}

interface SgRule {
  readonly where: string;
  readonly direction: 'ingress' | 'egress';
  readonly group?: string;
  readonly referenced?: string;
  readonly protocol: string;
  readonly from?: number;
  readonly to?: number;
  readonly cidrs: string[];
  readonly description?: string;
}

/** Every security-group rule in a stack, from all three ways Terraform can write one. */
export function sgRules(json: StackJson): SgRule[] {
  const rules: SgRule[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    for (const [name, r] of resources(json, `aws_vpc_security_group_${direction}_rule`)) {
      rules.push({
        where: addr(`aws_vpc_security_group_${direction}_rule`, name),
        direction,
        group: r.security_group_id,
        referenced: r.referenced_security_group_id,
        protocol: String(r.ip_protocol),
        from: r.from_port,
        to: r.to_port,
        cidrs: [r.cidr_ipv4, r.cidr_ipv6, r.prefix_list_id].filter((c) => c !== undefined),
        description: r.description,
      });
    }
  }
  for (const [name, r] of resources(json, 'aws_security_group_rule')) {
    rules.push({
      where: addr('aws_security_group_rule', name),
      direction: r.type,
      group: r.security_group_id,
      referenced: r.source_security_group_id,
      protocol: String(r.protocol),
      from: r.from_port,
      to: r.to_port,
      cidrs: [...(r.cidr_blocks ?? []), ...(r.ipv6_cidr_blocks ?? []), ...(r.prefix_list_ids ?? [])],
      description: r.description,
    });
  }
  for (const type of ['aws_security_group', 'aws_default_security_group']) {
    for (const [name, sg] of resources(json, type)) {
      for (const direction of ['ingress', 'egress'] as const) {
        for (const [i, r] of (sg[direction] ?? []).entries()) {
          rules.push({
            where: `${addr(type, name)}.${direction}[${i}]`,
            direction,
            group: refTo(type, name, 'id'),
            referenced: (r.security_groups ?? [])[0],
            protocol: String(r.protocol),
            from: r.from_port,
            to: r.to_port,
            cidrs: [...(r.cidr_blocks ?? []), ...(r.ipv6_cidr_blocks ?? []), ...(r.prefix_list_ids ?? [])],
            description: r.description,
          });
        }
      }
    }
  }
  return rules;
}

/** HTTPS (tcp 443 exactly) out to anywhere: how a function in the private subnets reaches AWS APIs through the NAT. */
const isHttpsOut = (r: SgRule) => r.direction === 'egress' && !r.referenced && r.protocol === 'tcp' && r.from === 443 && r.to === 443 && r.cidrs.length === 1 && r.cidrs[0] === '0.0.0.0/0';
const OPEN = ['0.0.0.0/0', '::/0'];
const ALL_TRAFFIC = ['-1', 'all'];

/** Every key/value pair at any depth (the `//` metadata excluded). */
function* walk(value: any, path: string): Generator<[string, string, any]> {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (k === '//') continue;
    yield [`${path}.${k}`, k, v];
    yield* walk(v, `${path}.${k}`);
  }
}

/** Every string in the stack's resources, data sources, locals and outputs that holds a literal `arn:aws:`, with where it sits. */
export function literalPartitionArns(json: StackJson): string[] {
  const found: string[] = [];
  const scan = (value: any, path: string): void => {
    if (typeof value === 'string') {
      if (/\barn:aws:/.test(value)) found.push(`${path}: ${value.slice(Math.max(0, value.indexOf('arn:aws:') - 20), value.indexOf('arn:aws:') + 60)}`);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) if (k !== '//') scan(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`);
  };
  for (const section of ['resource', 'data', 'locals', 'output'] as const) scan(json[section], section);
  return found;
}

function functionEnv(json: StackJson): Record<string, string> {
  const fns = resources(json, 'aws_lambda_function');
  return Object.assign({}, ...fns.map(([, f]) => f.environment?.variables ?? {}));
}

/** The tenants function: the one told which tenant-access role to assume. */
const isTenantsFunction = (fn: any): boolean => fn?.environment?.variables?.TENANT_ACCESS_ROLE_ARN !== undefined;

/** The functions that run as the application user (hits, prune): every function of a stack but the tenants function. */
function appFunctions(json: StackJson): Array<[string, any]> {
  return resources(json, 'aws_lambda_function').filter(([, f]) => !isTenantsFunction(f));
}

/** The api stack's tenants functions: the proxy arm's and, with the direct arm, its own. */
function tenantsFunctions(env: SynthesizedEnvironment): Array<[string, any]> {
  return resources(env.api, 'aws_lambda_function').filter(([, f]) => isTenantsFunction(f));
}

/**
 * The problems `visit` finds in each tenants function (its address and its tenant-access role, as a role of
 * `json`); one problem when there is none.
 */
function eachTenantsFunction(json: StackJson, env: SynthesizedEnvironment, visit: (f: { fn: any; at: string; access: string | undefined }) => string[]): string[] {
  const fns = tenantsFunctions(env);
  if (fns.length === 0) return ['no tenants function (TENANT_ACCESS_ROLE_ARN set)'];
  return fns.flatMap(([name, fn]) => visit({ fn, at: addr('aws_lambda_function', name), access: roleRef(json, fn.environment.variables.TENANT_ACCESS_ROLE_ARN) }));
}

/** How a function of an api or ops stack reaches the database: the direct arm goes straight to an instance. */
export type Arm = 'proxy' | 'direct';

/** The arm of `fn` (in stack `kind`), by its DB_HOST: the proxy's endpoint, or an instance's address; undefined for anything else. */
export function armOf(env: SynthesizedEnvironment, kind: StackKind, fn: any): Arm | undefined {
  const host = canonical(env, kind, fn?.environment?.variables?.DB_HOST);
  const proxy = resources(env.data, 'aws_db_proxy')[0];
  if (proxy && host === `data|${refTo('aws_db_proxy', proxy[0], 'endpoint')}`) return 'proxy';
  if (resources(env.data, 'aws_db_instance').some(([n]) => host === `data|${refTo('aws_db_instance', n, 'address')}`)) return 'direct';
  return undefined;
}

/** The instance the proxy targets (its one aws_db_proxy_target), found through the target, not by name; without a proxy target, the only instance. */
export function proxyInstance(data: StackJson): [string, any] | undefined {
  const instances = resources(data, 'aws_db_instance');
  const targets = resources(data, 'aws_db_proxy_target');
  if (targets.length === 0) return instances.length === 1 ? instances[0] : undefined;
  return instances.find(([n]) => targets[0][1].db_instance_identifier === refTo('aws_db_instance', n, 'identifier'));
}

/**
 * The instance the direct arm must connect to, as the profile says: with `directArm.database: 'own'` the one
 * instance no proxy targets, otherwise the proxy's. Undefined when there is no such single instance.
 */
export function directInstance(env: SynthesizedEnvironment): [string, any] | undefined {
  const proxyDb = proxyInstance(env.data);
  if (directArmDatabase(env.profile) !== 'own') return proxyDb;
  const others = resources(env.data, 'aws_db_instance').filter(([n]) => n !== proxyDb?.[0]);
  return others.length === 1 ? others[0] : undefined;
}

/** The data stack's migration functions (those an aws_lambda_invocation invokes), each with its invocation. */
function migrations(data: StackJson): Array<{ invocation: [string, any]; fn: [string, any] | undefined }> {
  return resources(data, 'aws_lambda_invocation').map((invocation) => ({
    invocation,
    fn: resources(data, 'aws_lambda_function').find(([n]) => invocation[1].function_name === refTo('aws_lambda_function', n, 'function_name')),
  }));
}

/** The instance a data-stack migration function runs on: the one its DB_HOST names. */
function instanceOfMigration(data: StackJson, fn: any): [string, any] | undefined {
  return resources(data, 'aws_db_instance').find(([n]) => fn?.environment?.variables?.DB_HOST === refTo('aws_db_instance', n, 'address'));
}

/** The migration function of `instance` (the invoked function whose DB_HOST is its address), when there is exactly one. */
function migrationOf(data: StackJson, instance: [string, any] | undefined): [string, any] | undefined {
  const fns = migrations(data).filter((m) => instance && instanceOfMigration(data, m.fn?.[1])?.[0] === instance[0]);
  return fns.length === 1 ? fns[0].fn : undefined;
}

/** The api stack's function of `arm` that `pick` selects (app: hits; tenants), when there is exactly one. */
function armFunction(env: SynthesizedEnvironment, arm: Arm, pick: 'app' | 'tenants'): [string, any] | undefined {
  const fns = (pick === 'app' ? appFunctions(env.api) : tenantsFunctions(env)).filter(([, f]) => armOf(env, 'api', f) === arm);
  return fns.length === 1 ? fns[0] : undefined;
}

/**
 * The data stack's pieces by role, found through the resources that use them (not by name): the proxy's
 * instance by the proxy's target, the direct arm's by the profile's `directArm.database` (the proxy's, or
 * the one no proxy targets), each migration by the instance its DB_HOST names.
 */
function dataTier(env: SynthesizedEnvironment) {
  const data = env.data;
  const db = proxyInstance(data);
  const directDb = directInstance(env);
  const proxy = resources(data, 'aws_db_proxy')[0];
  const cache = resources(data, 'aws_elasticache_cluster')[0];
  const q = (v: string | undefined) => (v === undefined ? undefined : canonical(env, 'data', v));
  const fn = armFunction(env, 'proxy', 'app');
  const tenantsFn = armFunction(env, 'proxy', 'tenants');
  const directFn = armFunction(env, 'direct', 'app');
  const directTenantsFn = armFunction(env, 'direct', 'tenants');
  const sgOf = (f: [string, any] | undefined) => (f ? canonical(env, 'api', f[1].vpc_config?.security_group_ids?.[0]) : undefined);
  const dbSgOf = (i: [string, any] | undefined) => q(i?.[1].vpc_security_group_ids?.[0]);
  const migrationSgOf = (i: [string, any] | undefined) => q(migrationOf(data, i)?.[1].vpc_config?.security_group_ids?.[0]);
  const t = {
    db,
    /** The instance the direct arm connects to: its own, or `db` when it shares it. */
    directDb,
    /** Whether the direct arm has an instance of its own (then `directDb` is not `db`). */
    ownDirectDb: directArmDatabase(env.profile) === 'own',
    proxy,
    cache,
    dbSg: dbSgOf(db),
    directDbSg: dbSgOf(directDb),
    proxySg: q(proxy?.[1].vpc_security_group_ids?.[0]),
    cacheSg: q(cache?.[1].security_group_ids?.[0]),
    /** The app group, as the proxy arm's hits function uses it. */
    appSg: sgOf(fn),
    /** The proxy arm's tenants function's own group, when there is one. */
    tenantsSg: sgOf(tenantsFn),
    /** The direct arm's hits function's group, when there is a direct arm. */
    directHitsSg: sgOf(directFn),
    /** The direct arm's tenants function's group, when there is a direct arm with tenants. */
    directTenantsSg: sgOf(directTenantsFn),
    /** The deploy-time migration function's own group (the data stack's function that runs on `db`). */
    migrationSg: migrationSgOf(db),
    /** The group of the migration that runs on `directDb` (`migrationSg` when the arm shares `db`). */
    directMigrationSg: migrationSgOf(directDb),
    /** Every migration function's group, whichever instance it runs on. */
    migrationSgs: migrations(data).map((m) => q(m.fn?.[1].vpc_config?.security_group_ids?.[0])),
  };
  return {
    ...t,
    /**
     * Every client group an instance's group may admit on 3306: the proxy arm's instance the proxy and its
     * migration; the direct arm's instance its migration and the arm's functions (on a shared instance, all of them).
     */
    clientsOf(instanceSg: string | undefined): Array<string | undefined> {
      const proxyArm = instanceSg === t.dbSg ? [t.proxySg, t.migrationSg] : [];
      const directArm = instanceSg === t.directDbSg ? [t.directMigrationSg, t.directHitsSg, t.directTenantsSg] : [];
      return [...new Set([...proxyArm, ...directArm])];
    },
  };
}

/** `chain(client → server)` where the server's group admits exactly the clients `dataTier` allows it. */
function chainTo(env: SynthesizedEnvironment, label: string, client: string | undefined, server: string | undefined, port = 3306): string[] {
  const others = dataTier(env).clientsOf(server).filter((c) => c !== client);
  return chain(env, label, client, server, port, others);
}

/**
 * Every security-group rule of the environment, whatever stack holds it, with its group (`g`) and referenced
 * group (`ref`) qualified by the stack that creates them: a rule in the api stack on the database's group reads
 * it across stacks, and still names `data|${aws_security_group.…}`. `where` names the stack.
 */
function environmentSgRules(env: SynthesizedEnvironment): Array<SgRule & { kind: StackKind; g: string; ref?: string }> {
  return STACK_KINDS.flatMap((kind) =>
    sgRules(env[kind]).map((r) => ({ ...r, where: `${env.stacks[kind].node.id}: ${r.where}`, kind, g: canonical(env, kind, r.group), ref: r.referenced && canonical(env, kind, r.referenced) })),
  );
}

/**
 * Violations unless the rules between `client` and `server` on `port` are one ingress (server from client)
 * and one egress (client to server), both by reference, and the server admits no one but `client` and
 * `otherClients` (each checked by a rule of its own). Rules count wherever they live: a client in a later
 * stack opens the server's group from its own stack.
 */
function chain(env: SynthesizedEnvironment, label: string, client: string | undefined, server: string | undefined, port: number, otherClients: readonly (string | undefined)[] = []): string[] {
  if (!client || !server) return [`${label}: cannot find both security groups (client ${client}, server ${server})`];
  const rules = environmentSgRules(env);
  const problems: string[] = [];
  const allowed = [client, ...otherClients.filter((c): c is string => c !== undefined)];
  const into = rules.filter((r) => r.direction === 'ingress' && r.g === server);
  const out = rules.filter((r) => r.direction === 'egress' && r.g === client && r.ref === server);
  const fromClient = into.filter((r) => r.ref === client);
  if (fromClient.length !== 1 || into.length !== allowed.length || !into.every((r) => allowed.includes(r.ref as string))) {
    problems.push(`${label}: ingress on ${server} must be exactly one rule from ${client}${otherClients.length ? ' and one from each other named client' : ''}, found ${JSON.stringify(into.map((r) => [r.where, r.ref, r.cidrs]))}`);
  }
  if (out.length !== 1) problems.push(`${label}: expected one egress rule on ${client} to ${server}, found ${out.length}`);
  for (const r of [...into, ...out]) {
    if (r.protocol !== 'tcp' || r.from !== port || r.to !== port) problems.push(`${r.where}: must be tcp ${port}-${port}, is ${r.protocol} ${r.from}-${r.to}`);
    if (r.cidrs.length) problems.push(`${r.where}: uses CIDR ${r.cidrs.join(', ')} instead of a group reference`);
  }
  return problems;
}

/**
 * A tenants function's group (`what`): HTTPS out, for AssumeRole at STS's regional endpoint through the NAT
 * gateway; `server` and nothing else besides; apart from its function.
 */
function tenantsGroupProblems(env: SynthesizedEnvironment, group: string, server: { sg: string | undefined; name: string }, what: string): string[] {
  const rules = environmentSgRules(env);
  const own = rules.filter((r) => r.g === group);
  const elsewhere = own.filter((r) => !isHttpsOut(r) && (r.direction === 'ingress' || r.ref !== server.sg));
  return [
    ...(own.some(isHttpsOut) ? [] : [`${what} has no HTTPS egress (tcp 443): AssumeRole cannot reach STS and every tenant request fails`]),
    ...apartFromItsFunction(group, rules, what),
    ...elsewhere.map((r) => `${r.where}: ${what} must only send to ${server.name}, and HTTPS to STS`),
  ];
}

/**
 * Violations unless `group` (a function's of the api stack: the tenants function's, the direct arm's) and
 * every rule naming it, on either side, are in the api stack, where its function is: deleted anywhere else,
 * the group goes before the function lets go of it.
 */
function apartFromItsFunction(group: string, rules: ReturnType<typeof environmentSgRules>, what: string): string[] {
  const problems = group.startsWith('api|') ? [] : [`${what} ${group} is not in the api stack with its function`];
  return [...problems, ...rules.filter((r) => (r.g === group || r.ref === group) && r.kind !== 'api').map((r) => `${r.where}: a rule naming ${what} outside the api stack`)];
}

/** AWS-managed policies, in the deploying account's partition (see partitionOf). */
const AWS_MANAGED_VPC_ACCESS = 'arn:<partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';
const AWS_MANAGED_XRAY_WRITE = 'arn:<partition>:iam::aws:policy/AWSXRayDaemonWriteAccess';

/** `arn:${data.aws_partition.<name>.partition}:…` → `arn:<partition>:…`; any other partition (a literal `aws`) stays as written. */
export function partitionOf(arn: string): string {
  return arn.replace(/^arn:\$\{data\.aws_partition\.[^.}]+\.partition\}:/, 'arn:<partition>:');
}

/**
 * Evaluates the connect-prefix local (`format("arn:%s:rds-db:%s:%s:dbuser:%s", element(split(":", <resource>.arn), i)…)`)
 * against a sample ARN of the resource `<type>.<name>` (an aws_db_proxy, or an aws_db_instance), with sample
 * values of its other attributes (e.g. the instance's `resource_id`); returns the ARN it would produce, or a
 * reason it cannot be read.
 */
export function evaluateConnectPrefix(locals: Record<string, any>, localName: string, resource: { type: string; name: string }, sampleArn: string, sampleAttributes: Record<string, string> = {}): string {
  const text = locals[localName];
  const m = typeof text === 'string' ? /^\$\{format\("([^"]+)", (.+)\)\}$/.exec(text) : null;
  if (!m) return `<${localName} is not a format(): ${text}>`;
  const arn = sampleArn.split(':');
  const at = `${resource.type}\\.${resource.name.replace(/[-]/g, '\\-')}`;
  const element = new RegExp(`^element\\(split\\(":", ${at}\\.arn\\), (\\d+)\\)$`);
  const attribute = new RegExp(`^${at}\\.([a-z_]+)$`);
  const evalArg = (arg: string, depth = 0): string => {
    const e = element.exec(arg);
    if (e) return arn[Number(e[1])];
    const a = attribute.exec(arg);
    if (a && sampleAttributes[a[1]] !== undefined) return sampleAttributes[a[1]];
    const l = /^local\.(.+)$/.exec(arg);
    if (l && depth < 3) {
      const inner = /^\$\{(.+)\}$/.exec(String(locals[l[1]]));
      if (inner) return evalArg(inner[1], depth + 1);
    }
    return `<${arg}>`;
  };
  const args = topLevelArguments(m[2]).map((a) => evalArg(a));
  let i = 0;
  return m[1].replace(/%s/g, () => args[i++] ?? '<missing>');
}

/** `a, f(b, c), d` → `['a', 'f(b, c)', 'd']`: the arguments of a call, split at commas outside parentheses and quotes. */
function topLevelArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(text.slice(start).trim());
  return args;
}

/** Sample ARNs and ids the connect prefixes are evaluated on: a proxy's, and an instance's with its resource id. */
const SAMPLE_PROXY_ARN = 'arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0123456789abcdef0';
const SAMPLE_INSTANCE_ARN = 'arn:aws:rds:eu-west-1:123456789012:db:hits-sample';
const SAMPLE_INSTANCE_RESOURCE_ID = 'db-ABCDEFGHIJKLMNOPQRSTUVWXY2';
/** What `dbuser:<id>` an arm's connect prefix must name: the proxy's prx- id, or the instance's db- resource id. */
const EXPECTED_CONNECT_PREFIX: Record<Arm, string> = {
  proxy: 'arn:aws:rds-db:eu-west-1:123456789012:dbuser:prx-0123456789abcdef0',
  direct: `arn:aws:rds-db:eu-west-1:123456789012:dbuser:${SAMPLE_INSTANCE_RESOURCE_ID}`,
};

/**
 * What `${local.<name>}` (a connect-prefix local of the data stack) evaluates to for `arm`'s way in: the
 * proxy's prefix on a sample proxy, the instance's on a sample instance. Anything else (a prefix built on
 * the other way in, on another resource, or on the wrong ARN elements) evaluates to something else.
 */
function connectPrefixFor(env: SynthesizedEnvironment, localName: string, arm: Arm): string {
  const locals = env.data.locals ?? {};
  const proxy = resources(env.data, 'aws_db_proxy')[0];
  // The direct arm's own instance (or the proxy arm's, when shared): a prefix built on the other instance evaluates to something else.
  const db = directInstance(env);
  if (!proxy || !db) return "<the data stack has no proxy, or no instance the profile's direct arm may use>";
  return arm === 'proxy'
    ? evaluateConnectPrefix(locals, localName, { type: 'aws_db_proxy', name: proxy[0] }, SAMPLE_PROXY_ARN)
    : evaluateConnectPrefix(locals, localName, { type: 'aws_db_instance', name: db[0] }, SAMPLE_INSTANCE_ARN, { resource_id: SAMPLE_INSTANCE_RESOURCE_ID });
}

// ---------------------------------------------------------------------------------------------------------
// The rules

const EVERY: readonly StackKind[] = STACK_KINDS;

/** The proxy arm's tenants group rule (named by the mutation tests). */
export const TENANTS_SG_RULE = 'sg chain: tenants function → proxy on 3306, HTTPS out for STS, nothing else, in a group of its own; group and rules in the api stack';

/** A rule for every instance of the data stack: the proxy arm's, and the direct arm's own when it has one. */
const dbRule = (name: string, f: (db: any, dbName: string, ctx: PolicyContext) => string[]): Rule => ({
  name,
  kinds: ['data'],
  check: (ctx) => {
    const instances = resources(ctx.json, 'aws_db_instance');
    if (instances.length === 0) return ['no aws_db_instance'];
    return instances.flatMap(([n, db]) => f(db, n, ctx).map((v) => `${addr('aws_db_instance', n)}: ${v}`));
  },
});

/**
 * A rule for the functions of each api and ops stack that run as the application user (the hits function,
 * and the direct arm's when the profile enables it; the prune). With `alsoTenants`, the tenants functions
 * (their own roles and groups, no application user) are held to it as well.
 */
const fnRule = (name: string, f: (fn: any, fnName: string, ctx: PolicyContext) => string[], alsoTenants = false): Rule => ({
  name,
  kinds: ['api', 'ops'],
  check: (ctx) => {
    const app = appFunctions(ctx.json);
    const expected = ctx.kind === 'api' && directArmEnabled(ctx.env.profile) ? 2 : 1;
    if (app.length !== expected) return [`expected ${expected} function(s) running as the application user, found ${app.length}`];
    const fns = alsoTenants ? [...app, ...resources(ctx.json, 'aws_lambda_function').filter(([, fn]) => isTenantsFunction(fn))] : app;
    return fns.flatMap(([n, fn]) => f(fn, n, ctx).map((v) => `${addr('aws_lambda_function', n)}: ${v}`));
  },
});

const expectThat = (ok: boolean, problem: string): string[] => (ok ? [] : [problem]);

export const LAMBDA_ENVIRONMENT_RULE = 'lambda: environment DB_AUTH=iam, DB_TLS=verify, DB_HOST the proxy endpoint (the direct arm: the instance, TLS against the RDS CA bundle), no password';
export const LAMBDA_CONNECT_RULE = 'lambda role: inline permissions are exactly rds-db:connect on dbuser:<proxy resource id>/<db user> (the direct arm: dbuser:<db resource id>/<db user>, never the proxy\'s)';

export const DIRECT_DATABASE_RULE = "direct arm's database: with directArm.database own a second instance that no proxy reaches (target, login grant, security group); otherwise one instance; each instance with a migration of its own";
export const DIRECT_REACH_RULE = "direct arm: its functions reach their own instance only (the second with own, the proxy arm's when shared): DB_HOST, DB_NAME, DB_RESOURCE_ID, their roles' rds-db:connect and their groups' rules";

/** The names of the data stack's instances that `value` mentions, followed through remote state and the data stack's locals. */
function instancesIn(env: SynthesizedEnvironment, kind: StackKind, value: unknown): string[] {
  let text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  if (kind !== 'data') text = resolveRemote(env, text);
  // References resolved from remote state are in the data stack's terms, its locals included (e.g. a connect prefix).
  for (let depth = 0; depth < 3; depth++) text = text.replace(/\$\{local\.([^}]+)\}/g, (whole, name: string) => String(env.data.locals?.[name] ?? whole));
  return [...new Set([...text.matchAll(/aws_db_instance\.([A-Za-z0-9_-]+)\./g)].map((m) => m[1]))];
}

/** Each instance's security group (as `canonical` writes it) → the instance's name. */
function instanceOfGroup(env: SynthesizedEnvironment): Map<string, string> {
  return new Map(resources(env.data, 'aws_db_instance').map(([n, db]) => [canonical(env, 'data', db.vpc_security_group_ids?.[0]), n]));
}

const SECURITY_MODEL_RULES: readonly Rule[] = [
  // --- everywhere -------------------------------------------------------------------------------------
  {
    name: 'sg: every security group has a description',
    kinds: EVERY,
    check: ({ json }) => resources(json, 'aws_security_group').filter(([, sg]) => !(typeof sg.description === 'string' && sg.description.trim())).map(([n]) => `${addr('aws_security_group', n)} has no description`),
  },
  {
    name: 'sg: every security group rule has a description',
    kinds: EVERY,
    check: ({ json }) => sgRules(json).filter((r) => !(typeof r.description === 'string' && r.description.trim())).map((r) => `${r.where} has no description`),
  },
  {
    name: 'sg: no ingress from 0.0.0.0/0 or ::/0',
    kinds: EVERY,
    check: ({ json }) => sgRules(json).filter((r) => r.direction === 'ingress' && r.cidrs.some((c) => OPEN.includes(c))).map((r) => `${r.where} accepts ${r.cidrs.join(', ')}`),
  },
  {
    name: 'sg: no all-traffic egress to 0.0.0.0/0 or ::/0',
    kinds: EVERY,
    check: ({ json }) =>
      sgRules(json)
        .filter((r) => r.direction === 'egress' && ALL_TRAFFIC.includes(r.protocol) && r.cidrs.some((c) => OPEN.includes(c)))
        .map((r) => `${r.where} allows all traffic to ${r.cidrs.join(', ')}`),
  },
  {
    name: 'logs: every log group has retention_in_days',
    kinds: EVERY,
    check: ({ json }) => resources(json, 'aws_cloudwatch_log_group').filter(([, g]) => !(Number.isInteger(g.retention_in_days) && g.retention_in_days > 0)).map(([n]) => `${addr('aws_cloudwatch_log_group', n)} keeps logs forever`),
  },
  {
    name: 'iam: every policy is literal JSON',
    kinds: EVERY,
    check: ({ json }) => policyDocs(json).flatMap((d) => (d.error ? [d.error] : [])),
  },
  {
    // arn:aws: names the commercial partition only: in aws-cn or aws-us-gov such an ARN matches nothing.
    // Write the partition of the deploying account (data.aws_partition) instead.
    name: 'iam: partition-aware ARNs (no literal arn:aws: anywhere)',
    kinds: EVERY,
    check: ({ json }) => literalPartitionArns(json),
  },
  {
    name: 'iam: no "*" action',
    kinds: EVERY,
    check: ({ json }) =>
      policyDocs(json).flatMap((d) =>
        (d.statements ?? []).flatMap((s) => s.actions.filter((a) => a === '*' || /^[a-z0-9-]+:\*$/i.test(a) || a.startsWith('NotAction:')).map((a) => `${d.where}: action ${a}`)),
      ),
  },
  {
    name: 'iam: no "*" resource',
    kinds: EVERY,
    check: ({ json }) =>
      policyDocs(json)
        .filter((d) => !d.trust)
        .flatMap((d) => (d.statements ?? []).flatMap((s) => [...s.resources.filter((r) => r === '*' || r.startsWith('NotResource:')), ...(s.resources.length ? [] : ['(none)'])].map((r) => `${d.where}: resource ${r}`))),
  },
  {
    name: 'secrets: no password attribute or password variable anywhere',
    kinds: EVERY,
    check: ({ json }) => {
      const problems: string[] = [];
      for (const [path, key] of walk(json.resource ?? {}, 'resource')) {
        if (/^(password|password_wo|master_password|auth_token)$/.test(key)) problems.push(`${path} is set`);
      }
      for (const name of Object.keys(functionEnv(json))) if (/PASSWORD/i.test(name)) problems.push(`function environment sets ${name}`);
      return problems;
    },
  },

  // --- network ----------------------------------------------------------------------------------------
  {
    name: 'vpc: flow logs on (all traffic, to CloudWatch Logs)',
    kinds: ['network'],
    check: ({ json }) =>
      one(json, 'aws_vpc', (vpcName) => {
        const logs = resources(json, 'aws_flow_log').filter(([, f]) => f.vpc_id === refTo('aws_vpc', vpcName, 'id'));
        if (logs.length === 0) return [`${addr('aws_vpc', vpcName)} has no flow log`];
        const groups = resources(json, 'aws_cloudwatch_log_group').map(([n]) => refTo('aws_cloudwatch_log_group', n, 'arn'));
        return logs.flatMap(([n, f]) => [
          ...expectThat(f.traffic_type === 'ALL', `${addr('aws_flow_log', n)}: traffic_type ${f.traffic_type}, not ALL`),
          ...expectThat(groups.includes(f.log_destination), `${addr('aws_flow_log', n)}: destination ${f.log_destination} is not a log group of this stack`),
        ]);
      }),
  },
  {
    name: 'vpc: one NAT gateway per AZ',
    kinds: ['network'],
    check: ({ json }) => {
      const subnets = Object.fromEntries(resources(json, 'aws_subnet'));
      const privateAzs = new Set(Object.values(subnets).filter((s: any) => s.tags?.Tier === 'private').map((s: any) => s.availability_zone));
      const natAzs = resources(json, 'aws_nat_gateway').map(([, n]) => subnets[/^\$\{aws_subnet\.([^.]+)\.id\}$/.exec(n.subnet_id)?.[1] ?? '']?.availability_zone);
      return [...privateAzs].filter((az) => natAzs.filter((n) => n === az).length !== 1).map((az) => `AZ ${az} has ${natAzs.filter((n) => n === az).length} NAT gateways, not 1`);
    },
  },
  {
    name: 'vpc: default security group managed with no rules',
    kinds: ['network'],
    check: ({ json }) =>
      one(json, 'aws_vpc', (vpcName) =>
        one(json, 'aws_default_security_group', (n, sg) => [
          ...expectThat(sg.vpc_id === refTo('aws_vpc', vpcName, 'id'), `${addr('aws_default_security_group', n)} is not on this VPC`),
          ...expectThat(!sg.ingress?.length && !sg.egress?.length, `${addr('aws_default_security_group', n)} has rules`),
        ]),
      ),
  },
  {
    name: 'vpc: no public IPs assigned on launch',
    kinds: ['network'],
    check: ({ json }) => resources(json, 'aws_subnet').filter(([, s]) => s.map_public_ip_on_launch === true).map(([n]) => `${addr('aws_subnet', n)} maps public IPs on launch`),
  },

  // --- data: database ---------------------------------------------------------------------------------
  dbRule('db: storage encrypted', (db) => expectThat(db.storage_encrypted === true, `storage_encrypted is ${db.storage_encrypted}`)),
  dbRule('db: not publicly accessible', (db) => expectThat(db.publicly_accessible === false, `publicly_accessible is ${db.publicly_accessible}`)),
  dbRule('db: RDS-managed master password (manage_master_user_password), no password', (db) => [
    ...expectThat(db.manage_master_user_password === true, `manage_master_user_password is ${db.manage_master_user_password}`),
    ...expectThat(db.password === undefined && db.password_wo === undefined, 'sets a password'),
  ]),
  dbRule('db: parameter group has require_secure_transport = 1', (db, _n, { json }) => {
    const pg = resources(json, 'aws_db_parameter_group').find(([n]) => db.parameter_group_name === refTo('aws_db_parameter_group', n, 'name'));
    if (!pg) return [`parameter_group_name ${db.parameter_group_name} is not a parameter group of this stack`];
    const tls = (pg[1].parameter ?? []).filter((p: any) => p.name === 'require_secure_transport');
    return expectThat(tls.length === 1 && String(tls[0].value) === '1', `${addr('aws_db_parameter_group', pg[0])}: require_secure_transport is ${JSON.stringify(tls.map((p: any) => p.value))}`);
  }),
  dbRule('db: backups kept at least 7 days', (db) => expectThat(db.backup_retention_period >= 7, `backup_retention_period is ${db.backup_retention_period}`)),
  dbRule('db: deletion protection', (db) => expectThat(db.deletion_protection === true, `deletion_protection is ${db.deletion_protection}`)),
  dbRule('db: final snapshot kept on destroy', (db) =>
    expectThat(db.skip_final_snapshot === false && typeof db.final_snapshot_identifier === 'string', `skip_final_snapshot is ${db.skip_final_snapshot}, final_snapshot_identifier ${db.final_snapshot_identifier}`),
  ),
  dbRule('db: Multi-AZ', (db) => expectThat(db.multi_az === true, `multi_az is ${db.multi_az}`)),
  dbRule('db: Performance Insights on', (db) => expectThat(db.performance_insights_enabled === true, `performance_insights_enabled is ${db.performance_insights_enabled}`)),
  dbRule('db: enhanced monitoring on', (db) => expectThat(db.monitoring_interval > 0 && typeof db.monitoring_role_arn === 'string', `monitoring_interval is ${db.monitoring_interval}`)),
  dbRule('db: auto minor version upgrade', (db) => expectThat(db.auto_minor_version_upgrade === true, `auto_minor_version_upgrade is ${db.auto_minor_version_upgrade}`)),
  // iam-db-auth-error too: with end-to-end IAM the proxy logs in to MySQL with IAM, so its refused logins land there.
  dbRule('db: logs exported to CloudWatch (error, slowquery, iam-db-auth-error)', (db) => {
    const exports: string[] = db.enabled_cloudwatch_logs_exports ?? [];
    return ['error', 'slowquery', 'iam-db-auth-error'].filter((t) => !exports.includes(t)).map((t) => `does not export ${t} logs`);
  }),
  dbRule('db: tags copied to snapshots', (db) => expectThat(db.copy_tags_to_snapshot === true, `copy_tags_to_snapshot is ${db.copy_tags_to_snapshot}`)),

  // --- data: proxy ------------------------------------------------------------------------------------
  {
    name: 'proxy: require_tls',
    kinds: ['data'],
    check: ({ json }) => one(json, 'aws_db_proxy', (n, p) => expectThat(p.require_tls === true, `${addr('aws_db_proxy', n)}: require_tls is ${p.require_tls}`)),
  },
  {
    // IAM_AUTH is the scheme "for client connections to the proxy and connections from the proxy to the
    // underlying database" (RDS API, CreateDBProxy): clients present IAM tokens with or without auth entries.
    // Without it, every auth entry must require IAM from clients and log in with the database's own secret.
    name: 'proxy: clients must present an IAM token (IAM_AUTH, or every auth entry REQUIRED over the database secret)',
    kinds: ['data'],
    check: ({ json }) =>
      one(json, 'aws_db_proxy', (n, p) =>
        ofProxyInstance(json, (dbName) => {
          const auth: any[] = p.auth ?? [];
          if (p.default_auth_scheme !== 'IAM_AUTH' && auth.length === 0) return [`${addr('aws_db_proxy', n)}: default_auth_scheme is ${p.default_auth_scheme} and there is no auth entry`];
          return auth.flatMap((a, i) => [
            ...expectThat(a.iam_auth === 'REQUIRED', `${addr('aws_db_proxy', n)}.auth[${i}]: iam_auth is ${a.iam_auth}`),
            ...expectThat(a.auth_scheme === 'SECRETS' && a.secret_arn === `\${aws_db_instance.${dbName}.master_user_secret[0].secret_arn}`, `${addr('aws_db_proxy', n)}.auth[${i}]: secret ${a.secret_arn} is not the database's managed secret`),
          ]);
        }),
      ),
  },
  {
    name: 'proxy: debug logging off',
    kinds: ['data'],
    check: ({ json }) => one(json, 'aws_db_proxy', (n, p) => expectThat(p.debug_logging === false, `${addr('aws_db_proxy', n)}: debug_logging is ${p.debug_logging}`)),
  },
  {
    name: 'proxy: borrow timeout below the function timeout',
    kinds: ['data'],
    check: ({ json, env }) =>
      one(json, 'aws_db_proxy_default_target_group', (n, tg) => {
        // Every api function connects through the proxy: the hits function, and the tenants function when there is one.
        const fns = resources(env.api, 'aws_lambda_function');
        if (fns.length === 0) return ['the api stack has no function'];
        const borrow = tg.connection_pool_config?.connection_borrow_timeout;
        return fns.flatMap(([f, fn]) =>
          expectThat(Number.isInteger(borrow) && borrow < fn.timeout, `${addr('aws_db_proxy_default_target_group', n)}: connection_borrow_timeout ${borrow} is not below the timeout ${fn.timeout} of ${addr('aws_lambda_function', f)}`),
        );
      }),
  },
  {
    name: 'proxy: role assumable only by rds.amazonaws.com',
    kinds: ['data'],
    check: ({ json }) =>
      one(json, 'aws_db_proxy', (_n, p) => {
        const role = resources(json, 'aws_iam_role').find(([r]) => p.role_arn === refTo('aws_iam_role', r, 'arn'));
        if (!role) return [`proxy role ${p.role_arn} is not a role of this stack`];
        const trust = policyDocs(json).find((d) => d.trust && d.role === role[0]);
        const statements = trust?.statements ?? [];
        return statements.length === 1 &&
          statements[0].Effect === 'Allow' &&
          JSON.stringify(statements[0].raw.Principal) === JSON.stringify({ Service: 'rds.amazonaws.com' }) &&
          JSON.stringify(statements[0].actions) === JSON.stringify(['sts:AssumeRole']) &&
          trustConditionProblems(json, statements[0].raw, role[0]).length === 0
          ? []
          : [`${addr('aws_iam_role', role[0])}: trust policy is ${JSON.stringify(statements.map((s) => s.raw))}`];
      }),
  },
  {
    name: 'proxy: role holds only what its logins need (rds-db:connect to its database; a secret only if an auth entry names it)',
    kinds: ['data'],
    check: ({ json }) =>
      one(json, 'aws_db_proxy', (_n, p) =>
        ofProxyInstance(json, (dbName) => {
          const role = resources(json, 'aws_iam_role').find(([r]) => p.role_arn === refTo('aws_iam_role', r, 'arn'));
          if (!role) return [`proxy role ${p.role_arn} is not a role of this stack`];
          const secret = `\${aws_db_instance.${dbName}.master_user_secret[0].secret_arn}`;
          // The secret is the proxy's business only while an auth entry logs in with it.
          const secretUsed = (p.auth ?? []).some((a: any) => a.secret_arn === secret);
          const attached = resources(json, 'aws_iam_role_policy_attachment').filter(([, a]) => a.role === refTo('aws_iam_role', role[0], 'name') || a.role === refTo('aws_iam_role', role[0], 'id'));
          const docs = policyDocs(json).filter((d) => !d.trust && d.role === role[0]);
          const problems = attached.map(([a]) => `${addr('aws_iam_role_policy_attachment', a)} attaches more to the proxy role`);
          if (docs.length === 0) problems.push('the proxy role has no policy to log in to its database with');
          for (const d of docs) {
            for (const s of d.statements ?? []) {
              const secretRead = secretUsed && s.actions.every((a) => ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(a)) && s.resources.every((r) => r === secret);
              const kms = secretUsed && s.actions.every((a) => a === 'kms:Decrypt') && JSON.stringify(s.raw.Condition ?? {}).includes('secretsmanager.');
              // End-to-end IAM: the proxy's own logins to this database (checked in detail by 'proxy: end-to-end IAM …').
              const e2e = s.actions.every((a) => a === 'rds-db:connect') && s.resources.every((r) => databaseConnectUser(json, dbName, r) !== undefined);
              if (!(s.Effect === 'Allow' && (secretRead || kms || e2e))) problems.push(`${d.where}: ${JSON.stringify(s.raw)} is more than the proxy's logins need${secretUsed ? '' : ' (no auth entry uses a secret)'}`);
            }
          }
          return problems;
        }),
      ),
  },

  // --- data: security-group chain ---------------------------------------------------------------------
  {
    name: 'sg chain: app → proxy on 3306, by reference',
    kinds: ['data'],
    check: ({ env }) => {
      const t = dataTier(env);
      return chain(env, 'app → proxy', t.appSg, t.proxySg, 3306, [t.tenantsSg]);
    },
  },
  {
    // Each deploy-time migration connects straight to its instance, not through the proxy.
    name: 'sg chain: migration function → database on 3306, HTTPS out for Secrets Manager, nothing else, in a group of its own',
    kinds: ['data'],
    check: ({ env }) => {
      const t = dataTier(env);
      const instances = resources(env.data, 'aws_db_instance');
      if (instances.length === 0) return ['the data stack has no database'];
      return instances.flatMap((instance) => {
        const migrationSg = canonical(env, 'data', migrationOf(env.data, instance)?.[1].vpc_config?.security_group_ids?.[0]);
        const dbSg = canonical(env, 'data', instance[1].vpc_security_group_ids?.[0]);
        const label = `migration → ${addr('aws_db_instance', instance[0])}`;
        if (!migrationOf(env.data, instance)) return [`${label}: no migration function (invoked, DB_HOST its address) in a security group`];
        const problems = chainTo(env, label, migrationSg, dbSg);
        if ([t.appSg, t.directHitsSg, t.directTenantsSg].includes(migrationSg)) problems.push(`${label}: the migration function shares a security group with a function of the request path`);
        if (t.migrationSgs.filter((g) => g === migrationSg).length > 1) problems.push(`${label}: the migration shares its security group with another instance's migration`);
        const rules = sgRules(env.data).filter((r) => canonical(env, 'data', r.group) === migrationSg);
        // GetSecretValue goes to Secrets Manager's regional endpoint through the NAT gateway: HTTPS out, and only that.
        const elsewhere = rules.filter((r) => !isHttpsOut(r) && (r.direction === 'ingress' || (r.referenced && canonical(env, 'data', r.referenced)) !== dbSg));
        const https = rules.some(isHttpsOut) ? [] : [`${label}: the migration group has no HTTPS egress (tcp 443): GetSecretValue cannot reach Secrets Manager and every deploy fails`];
        return [...problems, ...https, ...elsewhere.map((r) => `${r.where}: the migration group must only send to its database, and HTTPS to AWS APIs`)];
      });
    },
  },
  {
    // Its group and every rule naming it live in the api stack with the function, as the direct arm's do, so
    // one deploy turns tenants on or off; in the data stack, deployed first, the group would go while the
    // function still holds it.
    name: TENANTS_SG_RULE,
    kinds: ['api'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ env }) => {
      const t = dataTier(env);
      if (!t.tenantsSg) return ['the api stack has no tenants function in a security group'];
      const problems = chain(env, 'tenants → proxy', t.tenantsSg, t.proxySg, 3306, [t.appSg]);
      if ([t.appSg, ...t.migrationSgs, t.directHitsSg, t.directTenantsSg].includes(t.tenantsSg)) problems.push('the tenants function shares a security group with another function');
      return [...problems, ...tenantsGroupProblems(env, t.tenantsSg, { sg: t.proxySg, name: 'the proxy' }, 'the tenants group')];
    },
  },
  {
    name: 'sg chain: proxy → database on 3306, by reference',
    kinds: ['data'],
    check: ({ env }) => {
      const t = dataTier(env);
      return chainTo(env, 'proxy → database', t.proxySg, t.dbSg);
    },
  },
  {
    // The direct arm's hits function signs its IAM tokens locally and calls no AWS API: no HTTPS out.
    // Its group and every rule naming it live in the api stack with the function, so one deploy creates or
    // deletes them in order; in the data stack, deployed first, the group would go while the function holds it.
    name: 'sg chain: direct arm hits function → database on 3306 (and the cache on 11211 when on), nothing else, in a group of its own; group and rules in the api stack',
    kinds: ['api'],
    when: (env) => directArmEnabled(env.profile),
    check: ({ env }) => {
      const t = dataTier(env);
      if (!t.directHitsSg) return ["the api stack has no direct arm hits function (DB_HOST the instance) in a security group"];
      // To its own instance: a second one with `directArm.database: 'own'`, the proxy arm's otherwise.
      const problems = chainTo(env, 'direct hits → database', t.directHitsSg, t.directDbSg);
      if (env.profile.cache.enabled) problems.push(...chain(env, 'direct hits → cache', t.directHitsSg, t.cacheSg, 11211, [t.appSg]));
      if ([t.appSg, ...t.migrationSgs, t.tenantsSg, t.directTenantsSg].includes(t.directHitsSg)) problems.push('the direct arm hits function shares a security group with another function');
      const allowed = [t.directDbSg, ...(env.profile.cache.enabled ? [t.cacheSg] : [])];
      const rules = environmentSgRules(env);
      const elsewhere = rules.filter((r) => r.g === t.directHitsSg && (r.direction === 'ingress' || !r.ref || !allowed.includes(r.ref)));
      return [
        ...problems,
        ...apartFromItsFunction(t.directHitsSg, rules, "the direct arm's hits group"),
        ...elsewhere.map((r) => `${r.where}: the direct arm's hits group must only send to the database${env.profile.cache.enabled ? ' and the cache' : ''}`),
      ];
    },
  },
  {
    name: 'sg chain: direct arm tenants function → database on 3306, HTTPS out for STS, nothing else, in a group of its own; group and rules in the api stack',
    kinds: ['api'],
    when: (env) => directArmEnabled(env.profile) && env.profile.tenants.count > 0,
    check: ({ env }) => {
      const t = dataTier(env);
      if (!t.directTenantsSg) return ["the api stack has no direct arm tenants function (DB_HOST the instance) in a security group"];
      const problems = chainTo(env, 'direct tenants → database', t.directTenantsSg, t.directDbSg);
      if ([t.appSg, ...t.migrationSgs, t.tenantsSg, t.directHitsSg].includes(t.directTenantsSg)) problems.push('the direct arm tenants function shares a security group with another function');
      return [...problems, ...tenantsGroupProblems(env, t.directTenantsSg, { sg: t.directDbSg, name: 'the database' }, "the direct arm's tenants group")];
    },
  },
  {
    name: 'sg chain: app → cache on 11211, by reference',
    kinds: ['data'],
    when: (env) => env.profile.cache.enabled,
    check: ({ env }) => {
      const t = dataTier(env);
      return chain(env, 'app → cache', t.appSg, t.cacheSg, 11211, [t.directHitsSg]);
    },
  },
  {
    // The migration functions' groups live in the data stack but are compute, not data tier: their one HTTPS
    // egress (Secrets Manager through the NAT) is held to exactly that by their chain rule.
    name: 'sg chain: no data-tier rule uses a CIDR',
    kinds: ['data'],
    check: ({ env, json }) => {
      const t = dataTier(env);
      const functionHttpsOut = (r: SgRule) => t.migrationSgs.includes(canonical(env, 'data', r.group)) && isHttpsOut(r);
      return sgRules(json)
        .filter((r) => (r.cidrs.length || !r.referenced) && !functionHttpsOut(r))
        .map((r) => `${r.where}: ${r.cidrs.length ? `CIDR ${r.cidrs.join(', ')}` : 'no referenced group'}`);
    },
  },

  // --- data: cache ------------------------------------------------------------------------------------
  {
    name: 'cache: TLS in transit',
    kinds: ['data'],
    when: (env) => env.profile.cache.enabled,
    check: ({ json }) => one(json, 'aws_elasticache_cluster', (n, c) => expectThat(c.transit_encryption_enabled === true, `${addr('aws_elasticache_cluster', n)}: transit_encryption_enabled is ${c.transit_encryption_enabled}`)),
  },
  {
    name: 'cache: nodes across AZs (az_mode cross-az, at least 2 nodes)',
    kinds: ['data'],
    when: (env) => env.profile.cache.enabled,
    check: ({ json }) =>
      one(json, 'aws_elasticache_cluster', (n, c) => [
        ...expectThat(c.az_mode === 'cross-az', `${addr('aws_elasticache_cluster', n)}: az_mode is ${c.az_mode}`),
        ...expectThat(c.num_cache_nodes >= 2 && new Set(c.preferred_availability_zones ?? []).size >= 2, `${addr('aws_elasticache_cluster', n)}: ${c.num_cache_nodes} nodes in ${JSON.stringify(c.preferred_availability_zones)}`),
      ]),
  },
  {
    name: 'cache disabled: no cache resource, 11211 rule or CACHE_* variable',
    kinds: EVERY,
    when: (env) => !env.profile.cache.enabled,
    check: ({ json, id, env }) => {
      const problems = Object.keys(json.resource ?? {}).filter((t) => t.startsWith('aws_elasticache_')).map((t) => `${id} has ${t}`);
      problems.push(...sgRules(json).filter((r) => r.from === 11211 || r.to === 11211).map((r) => `${r.where} opens 11211`));
      problems.push(...Object.keys(functionEnv(json)).filter((k) => k.startsWith('CACHE_')).map((k) => `function environment sets ${k}`));
      if (/memcached|elasticache/i.test(env.text[id])) problems.push(`${id} still mentions memcached/elasticache`);
      return problems;
    },
  },

  // --- api: function ----------------------------------------------------------------------------------
  fnRule('lambda: in a VPC (private subnets, app security group)', (fn, _n, { env, kind }) => {
    const subnets: string[] = fn.vpc_config?.subnet_ids ?? [];
    const groups: string[] = fn.vpc_config?.security_group_ids ?? [];
    const resolved = subnets.map((s) => canonical(env, kind, s));
    const privateSubnets = resources(env.network, 'aws_subnet').filter(([, s]) => s.tags?.Tier === 'private').map(([n]) => `network|${refTo('aws_subnet', n, 'id')}`);
    return [
      ...expectThat(subnets.length >= 2 && groups.length >= 1, `vpc_config is ${JSON.stringify(fn.vpc_config)}`),
      ...resolved.filter((s) => !privateSubnets.includes(s)).map((s) => `subnet ${s} is not a private subnet of the network stack`),
    ];
  }, true),
  fnRule('lambda: tracing Active', (fn) => expectThat(fn.tracing_config?.mode === 'Active', `tracing_config is ${JSON.stringify(fn.tracing_config)}`), true),
  fnRule('lambda: reserved concurrency set', (fn) => expectThat(Number.isInteger(fn.reserved_concurrent_executions) && fn.reserved_concurrent_executions > 0, `reserved_concurrent_executions is ${fn.reserved_concurrent_executions}`)),
  fnRule('lambda: its log group /aws/lambda/<name> exists with retention, before the function', (fn, _n, { json }) => {
    const group = resources(json, 'aws_cloudwatch_log_group').find(([, g]) => g.name === `/aws/lambda/${fn.function_name}`);
    if (!group) return [`no log group /aws/lambda/${fn.function_name} in this stack (Lambda would create one that keeps logs forever)`];
    return [
      ...expectThat(group[1].retention_in_days > 0, `${addr('aws_cloudwatch_log_group', group[0])} has no retention`),
      ...expectThat((fn.depends_on ?? []).includes(addr('aws_cloudwatch_log_group', group[0])), `does not depend on ${addr('aws_cloudwatch_log_group', group[0])}`),
    ];
  }, true),
  fnRule(LAMBDA_ENVIRONMENT_RULE, (fn, _n, { env, kind }) => {
    const vars: Record<string, string> = fn.environment?.variables ?? {};
    const arm = armOf(env, kind, fn);
    return [
      ...expectThat(vars.DB_AUTH === 'iam', `DB_AUTH is ${vars.DB_AUTH}`),
      ...expectThat(vars.DB_TLS === 'verify', `DB_TLS is ${vars.DB_TLS}`),
      ...expectThat(vars.DB_PASSWORD === undefined, 'DB_PASSWORD is set'),
      ...expectThat(arm !== undefined, `DB_HOST ${vars.DB_HOST} is neither the proxy endpoint nor the instance's address`),
      // Straight to the instance only on the direct arm's api functions, and then verified against the RDS CA bundle.
      ...expectThat(arm !== 'direct' || (kind === 'api' && directArmEnabled(env.profile)), `DB_HOST ${vars.DB_HOST} is the instance, but this is not the direct arm's function`),
      ...expectThat((arm === 'direct') === (vars.DB_CA_BUNDLE === 'rds') && (vars.DB_CA_BUNDLE === undefined || vars.DB_CA_BUNDLE === 'rds'), `DB_CA_BUNDLE is ${vars.DB_CA_BUNDLE} with DB_HOST ${arm === 'direct' ? 'the instance (its certificate chains to the RDS CA)' : 'the proxy (its certificate chains to a public root)'}`),
    ];
  }),
  fnRule('lambda role: only the AWS-managed VPC-access and X-Ray write policies attached', (fn, _n, { json }) => {
    const role = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(fn.role)?.[1];
    if (!role) return [`role ${fn.role} is not a role of this stack`];
    const attached = resources(json, 'aws_iam_role_policy_attachment')
      .filter(([, a]) => a.role === refTo('aws_iam_role', role, 'name') || a.role === refTo('aws_iam_role', role, 'id'))
      .map(([, a]) => partitionOf(a.policy_arn))
      .sort();
    return expectThat(JSON.stringify(attached) === JSON.stringify([AWS_MANAGED_XRAY_WRITE, AWS_MANAGED_VPC_ACCESS].sort()), `attached policies are ${JSON.stringify(attached)}`);
  }, true),
  fnRule(LAMBDA_CONNECT_RULE, (fn, _n, { json, env, kind }) => {
    const role = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(fn.role)?.[1];
    const docs = policyDocs(json).filter((d) => !d.trust && d.role === role);
    const statements = docs.flatMap((d) => d.statements ?? []);
    const problems: string[] = [];
    if (statements.length !== 1) problems.push(`expected one inline statement, found ${JSON.stringify(statements.map((s) => s.raw))}`);
    const s = statements[0];
    if (!s) return problems;
    if (s.Effect !== 'Allow' || JSON.stringify(s.actions) !== '["rds-db:connect"]' || s.resources.length !== 1) return [...problems, `statement is ${JSON.stringify(s.raw)}`];
    const resource = resolveRemote(env, s.resources[0]);
    const m = /^\$\{local\.([^}]+)\}\/(.+)$/.exec(resource);
    if (!m) return [...problems, `resource ${resource} is not <connect prefix>/<user>`];
    // The function's own way in (by its DB_HOST) and no other: the proxy arm never names the instance, the direct arm never the proxy.
    const arm = armOf(env, kind, fn);
    if (!arm) return [...problems, `DB_HOST ${fn.environment?.variables?.DB_HOST} is neither the proxy nor the instance`];
    const arn = connectPrefixFor(env, m[1], arm);
    if (arn !== EXPECTED_CONNECT_PREFIX[arm]) problems.push(`the prefix evaluates to ${arn}, not the ${arm === 'proxy' ? "proxy's" : "instance's"} ${EXPECTED_CONNECT_PREFIX[arm]}`);
    const user = resolveRemote(env, fn.environment?.variables?.DB_USER ?? '');
    if (m[2] !== user) problems.push(`the user ${m[2]} is not the function's DB_USER ${user}`);
    return problems;
  }),
  fnRule('lambda role: no Secrets Manager access with DB_AUTH=iam', (fn, _n, { json }) => {
    if (fn.environment?.variables?.DB_AUTH !== 'iam') return [`DB_AUTH is ${fn.environment?.variables?.DB_AUTH}, not iam`];
    const actions = policyDocs(json)
      .filter((d) => !d.trust)
      .flatMap((d) => (d.statements ?? []).flatMap((s) => s.actions.filter((a) => /^secretsmanager:/i.test(a) || a === '*').map((a) => `${d.where}: ${a}`)));
    const managed = resources(json, 'aws_iam_role_policy_attachment').filter(([, a]) => /SecretsManager/i.test(a.policy_arn)).map(([n]) => `${addr('aws_iam_role_policy_attachment', n)}`);
    return [...actions, ...managed];
  }),
  {
    name: 'cache: function told to use TLS (CACHE_TLS=true, CACHE_NODES from the cluster)',
    kinds: ['api'],
    when: (env) => env.profile.cache.enabled,
    check: ({ json, env }) => {
      const vars = functionEnv(json);
      const nodes = canonical(env, 'api', vars.CACHE_NODES);
      const local = /^data\|\$\{local\.([^}]+)\}$/.exec(nodes)?.[1];
      return [
        ...expectThat(vars.CACHE_TLS === 'true', `CACHE_TLS is ${vars.CACHE_TLS}`),
        ...expectThat(!!local && /aws_elasticache_cluster\.[^.]+\.cache_nodes/.test(String(env.data.locals?.[local])), `CACHE_NODES ${vars.CACHE_NODES} is not the cluster's node list`),
      ];
    },
  },

  // --- the arms' databases ----------------------------------------------------------------------------
  {
    // The arms must not share what they measure (docs/load-testing.md): with its own instance the direct arm's
    // load and failures stay its own only if the proxy cannot reach that instance in any way.
    name: DIRECT_DATABASE_RULE,
    kinds: ['data'],
    check: ({ env, json }) => {
      const own = directArmDatabase(env.profile) === 'own';
      const instances = resources(json, 'aws_db_instance');
      const problems = expectThat(instances.length === (own ? 2 : 1), `${instances.length} aws_db_instance, not ${own ? 2 : 1} (directArm.database: ${directArmDatabase(env.profile) ?? 'no direct arm'})`);
      const t = dataTier(env);
      if (!t.db) return [...problems, 'the proxy targets no instance of this stack'];
      if (own && !t.directDb) problems.push('no instance is left for the direct arm once the proxy has its own');
      // What the proxy reaches: the instances its targets name, its role may log in to, its group sends to.
      const targets = resources(json, 'aws_db_proxy_target');
      const role = resources(json, 'aws_iam_role').find(([r]) => t.proxy?.[1].role_arn === refTo('aws_iam_role', r, 'arn'));
      const grants = policyDocs(json).filter((d) => !d.trust && d.role === role?.[0]).flatMap((d) => d.statements ?? []).filter((st) => st.actions.includes('rds-db:connect'));
      const groups = instanceOfGroup(env);
      const egress = environmentSgRules(env).filter((r) => r.direction === 'egress' && r.g === t.proxySg && r.ref !== undefined);
      const reached: Array<[where: string, instances: string[]]> = [
        ...targets.map(([n, target]): [string, string[]] => [addr('aws_db_proxy_target', n), instancesIn(env, 'data', target.db_instance_identifier)]),
        ...grants.map((st): [string, string[]] => [`the proxy role's rds-db:connect on ${st.resources.join(', ')}`, instancesIn(env, 'data', st.resources)]),
        ...egress.map((r): [string, string[]] => [r.where, [groups.get(r.ref!) ?? `<not an instance's group: ${r.ref}>`]]),
      ];
      problems.push(...expectThat(targets.length === 1, `the proxy has ${targets.length} targets, not 1`));
      for (const [where, names] of reached) {
        problems.push(...expectThat(names.length === 1 && names[0] === t.db[0], `${where} reaches ${JSON.stringify(names)}, not the proxy arm's instance ${t.db[0]} alone`));
      }
      // Each instance its own migration: the schema, the application user and the tenants, on every instance.
      const found = migrations(json);
      problems.push(...expectThat(found.length === instances.length, `${found.length} migration invocations for ${instances.length} instances`));
      for (const instance of instances) problems.push(...expectThat(migrationOf(json, instance) !== undefined, `${addr('aws_db_instance', instance[0])} has no migration of its own (an invoked function whose DB_HOST is its address)`));
      return problems;
    },
  },
  {
    name: DIRECT_REACH_RULE,
    kinds: ['api'],
    when: (env) => directArmEnabled(env.profile),
    check: ({ env, json }) => {
      const db = directInstance(env);
      if (!db) return ["no instance for the direct arm: with directArm.database own, the one the proxy does not target"];
      const fns = resources(json, 'aws_lambda_function').filter(([, f]) => armOf(env, 'api', f) === 'direct');
      if (fns.length === 0) return ['the api stack has no direct arm function (DB_HOST an instance)'];
      const groups = instanceOfGroup(env);
      const rules = environmentSgRules(env);
      return fns.flatMap(([name, fn]) => {
        const at = addr('aws_lambda_function', name);
        const vars: Record<string, string> = fn.environment?.variables ?? {};
        const { statements } = rolePermissions(json, fn);
        const access = roleRef(json, vars.TENANT_ACCESS_ROLE_ARN);
        const accessStatements = access ? policyDocs(json).filter((d) => !d.trust && d.role === access).flatMap((d) => d.statements ?? []) : [];
        const group = canonical(env, 'api', fn.vpc_config?.security_group_ids?.[0]);
        // Its rules to an instance on either side: its group's egress, and the ingress rules that admit its group.
        const paths = rules.filter((r) => (r.g === group && r.ref !== undefined && groups.has(r.ref)) || (r.ref === group && groups.has(r.g)));
        const mentions: Array<[what: string, instances: string[]]> = [
          ['DB_HOST', instancesIn(env, 'api', vars.DB_HOST)],
          ...['DB_NAME', 'DB_RESOURCE_ID'].filter((k) => vars[k] !== undefined).map((k): [string, string[]] => [k, instancesIn(env, 'api', vars[k])]),
          ...[...statements, ...accessStatements].filter((st) => st.actions.includes('rds-db:connect')).map((st): [string, string[]] => [`rds-db:connect on ${st.resources.join(', ')}`, instancesIn(env, 'api', st.resources)]),
          ...paths.map((r): [string, string[]] => [r.where, [groups.get(r.g === group ? r.ref! : r.g)!]]),
        ];
        const problems = expectThat(mentions.some(([what]) => what.startsWith('rds-db:connect')), `${at}: no rds-db:connect grant to an instance, its own or its tenant-access role's`);
        problems.push(...expectThat(paths.length > 0, `${at}: no security-group rule to an instance`));
        for (const [what, names] of mentions) {
          problems.push(...expectThat(names.length === 1 && names[0] === db[0], `${at}: ${what} reaches ${JSON.stringify(names)}, not the direct arm's instance ${db[0]} alone`));
        }
        return problems;
      });
    },
  },

  // --- api: HTTP API ----------------------------------------------------------------------------------
  {
    name: 'api: stage has access logs to a log group with retention',
    kinds: ['api'],
    check: ({ json }) =>
      resources(json, 'aws_apigatewayv2_stage').length === 0
        ? ['no aws_apigatewayv2_stage']
        : resources(json, 'aws_apigatewayv2_stage').flatMap(([n, stage]) => {
            const s = stage.access_log_settings;
            if (!s?.destination_arn || !s.format) return [`${addr('aws_apigatewayv2_stage', n)} has no access_log_settings`];
            const group = resources(json, 'aws_cloudwatch_log_group').find(([g]) => s.destination_arn === refTo('aws_cloudwatch_log_group', g, 'arn'));
            return [
              ...expectThat(!!group && group[1].retention_in_days > 0, `${addr('aws_apigatewayv2_stage', n)}: access logs go to ${s.destination_arn}, not a log group of this stack with retention`),
              ...expectThat(String(s.format).includes('$context.requestId'), `${addr('aws_apigatewayv2_stage', n)}: the access-log format has no request id`),
            ];
          }),
  },
  {
    name: 'api: stage throttled',
    kinds: ['api'],
    check: ({ json }) =>
      resources(json, 'aws_apigatewayv2_stage').flatMap(([n, stage]) => {
        const r = stage.default_route_settings ?? {};
        return expectThat(r.throttling_burst_limit > 0 && r.throttling_rate_limit > 0, `${addr('aws_apigatewayv2_stage', n)}: default_route_settings ${JSON.stringify(r)}`);
      }),
  },
  {
    name: 'api: invoke permission scoped to <API execution_arn>/*/* for the $default function, to its own route for a routed function',
    kinds: ['api'],
    check: ({ json }) => {
      const apis = resources(json, 'aws_apigatewayv2_api').map(([a]) => a);
      if (apis.length === 0) return ['no aws_apigatewayv2_api'];
      const permissions = resources(json, 'aws_lambda_permission');
      if (permissions.length === 0) return ['no aws_lambda_permission'];
      // Each function's routes (with their API), through route → integration → the function's invoke ARN.
      const integrations = new Map(resources(json, 'aws_apigatewayv2_integration').map(([i, integ]) => [refTo('aws_apigatewayv2_integration', i, 'id'), String(integ.integration_uri)]));
      const routesOf = (fnName: string) =>
        resources(json, 'aws_apigatewayv2_route')
          .filter(([, r]) => integrations.get(String(r.target).replace(/^integrations\//, '')) === refTo('aws_lambda_function', fnName, 'invoke_arn'))
          .map(([, r]) => ({ api: apis.find((a) => r.api_id === refTo('aws_apigatewayv2_api', a, 'id')), key: String(r.route_key) }));
      // `GET /a/{p}` → `<execution>/*/GET/a/*`; `$default` → `<execution>/*/*`.
      const sourceArnOf = (api: string, key: string) => {
        const execution = refTo('aws_apigatewayv2_api', api, 'execution_arn');
        return key === '$default' ? `${execution}/*/*` : `${execution}/*/${key.replace(' ', '').replace(/\{[^}]+\}/g, '*')}`;
      };
      return permissions.flatMap(([n, p]) => {
        const fnName = /^\$\{aws_lambda_function\.([^.]+)\.function_name\}$/.exec(p.function_name)?.[1];
        const routes = fnName ? routesOf(fnName) : [];
        const allowed = routes.filter((r) => r.api !== undefined).map((r) => sourceArnOf(r.api!, r.key));
        return [
          ...expectThat(p.principal === 'apigateway.amazonaws.com', `${addr('aws_lambda_permission', n)}: principal ${p.principal}`),
          ...expectThat(routes.length === 1 && allowed.length === 1, `${addr('aws_lambda_permission', n)}: its function ${p.function_name} serves ${JSON.stringify(routes)}, not exactly one route of an API of this stack`),
          ...expectThat(allowed.includes(p.source_arn), `${addr('aws_lambda_permission', n)}: source_arn ${p.source_arn} is not its route on its API's execution ARN (${JSON.stringify(allowed)})`),
        ];
      });
    },
  },
  {
    // The A/B comparison arm exists exactly as the profile says, and the arms share no API: a request reaches
    // the proxy arm or the direct arm by the URL it was sent to, never both behind one API.
    name: 'direct arm: present exactly when the profile enables it (its own API, a hits function and, with tenants, a tenants function straight to the instance); every other function goes through the proxy',
    kinds: ['api', 'ops'],
    check: ({ json, env, kind }) => {
      const on = kind === 'api' && directArmEnabled(env.profile);
      const fns = resources(json, 'aws_lambda_function');
      const count = (arm: Arm | undefined, tenants: boolean) => fns.filter(([, f]) => armOf(env, kind, f) === arm && isTenantsFunction(f) === tenants).length;
      const withTenants = kind === 'api' && env.profile.tenants.count > 0;
      const problems = [
        ...expectThat(count(undefined, false) + count(undefined, true) === 0, `functions whose DB_HOST is neither the proxy nor the instance: ${JSON.stringify(fns.filter(([, f]) => !armOf(env, kind, f)).map(([n]) => n))}`),
        ...expectThat(count('proxy', false) === 1, `${count('proxy', false)} hits function(s) through the proxy, not 1`),
        ...expectThat(count('direct', false) === (on ? 1 : 0), `${count('direct', false)} hits function(s) straight to the instance, not ${on ? 1 : 0}`),
        ...expectThat(count('proxy', true) === (withTenants ? 1 : 0), `${count('proxy', true)} tenants function(s) through the proxy, not ${withTenants ? 1 : 0}`),
        ...expectThat(count('direct', true) === (on && withTenants ? 1 : 0), `${count('direct', true)} tenants function(s) straight to the instance, not ${on && withTenants ? 1 : 0}`),
      ];
      if (kind !== 'api') return problems;
      const apis = resources(json, 'aws_apigatewayv2_api').map(([a]) => a);
      problems.push(...expectThat(apis.length === (on ? 2 : 1), `${apis.length} HTTP APIs, not ${on ? 2 : 1}`));
      // The arms of the functions each API's routes reach.
      const integrations = new Map(resources(json, 'aws_apigatewayv2_integration').map(([i, integ]) => [refTo('aws_apigatewayv2_integration', i, 'id'), String(integ.integration_uri)]));
      const armOfApi: string[] = [];
      for (const a of apis) {
        const arms = new Set(
          resources(json, 'aws_apigatewayv2_route')
            .filter(([, r]) => r.api_id === refTo('aws_apigatewayv2_api', a, 'id'))
            .map(([, r]) => fns.find(([f]) => integrations.get(String(r.target).replace(/^integrations\//, '')) === refTo('aws_lambda_function', f, 'invoke_arn')))
            .map((f) => (f ? armOf(env, kind, f[1]) : 'unknown')),
        );
        problems.push(...expectThat(arms.size === 1 && !arms.has('unknown') && !arms.has(undefined), `${addr('aws_apigatewayv2_api', a)} routes to ${JSON.stringify([...arms])}, not to one arm's functions`));
        armOfApi.push([...arms].join('+'));
      }
      // Each arm behind its own API: two APIs both routing to the proxy arm would leave the direct arm unreachable.
      problems.push(...expectThat(new Set(armOfApi).size === apis.length, `the HTTP APIs route to ${JSON.stringify(armOfApi)}: not one API per arm`));
      return problems;
    },
  },

  // --- operating it (issue 8) -------------------------------------------------------------------------
  {
    name: 'alarms: every alarm notifies the alarm topic (actions enabled)',
    kinds: ['ops'],
    check: ({ json }) => {
      const topics = resources(json, 'aws_sns_topic').map(([n]) => refTo('aws_sns_topic', n, 'arn'));
      const alarms = resources(json, 'aws_cloudwatch_metric_alarm');
      if (alarms.length === 0) return ['no aws_cloudwatch_metric_alarm'];
      return alarms.flatMap(([n, a]) => [
        ...expectThat(a.actions_enabled === true, `${addr('aws_cloudwatch_metric_alarm', n)}: actions_enabled is ${a.actions_enabled}`),
        ...expectThat(Array.isArray(a.alarm_actions) && a.alarm_actions.length > 0 && a.alarm_actions.every((t: string) => topics.includes(t)), `${addr('aws_cloudwatch_metric_alarm', n)}: alarm_actions ${JSON.stringify(a.alarm_actions)} is not the stack's topic`),
      ]);
    },
  },
  {
    name: 'sns: every topic encrypted with a customer-managed KMS key that CloudWatch may use',
    kinds: EVERY,
    check: ({ json }) =>
      resources(json, 'aws_sns_topic').flatMap(([n, t]) => {
        const key = /^\$\{aws_kms_key\.([^.]+)\.(arn|id|key_id)\}$/.exec(String(t.kms_master_key_id ?? ''))?.[1];
        if (!key) return [`${addr('aws_sns_topic', n)}: kms_master_key_id ${t.kms_master_key_id} is not a customer-managed key of this stack (aws/sns cannot be used by CloudWatch)`];
        const body = json.resource?.aws_kms_key?.[key];
        let statements: any[] = [];
        try {
          statements = [JSON.parse(body?.policy ?? '{}').Statement ?? []].flat();
        } catch {
          return [`${addr('aws_kms_key', key)}: policy is not literal JSON`];
        }
        const allows = (action: string) =>
          statements.some((s) => s.Effect === 'Allow' && [s.Principal?.Service ?? []].flat().includes('cloudwatch.amazonaws.com') && [s.Action ?? []].flat().includes(action));
        return [
          ...expectThat(allows('kms:Decrypt') && allows('kms:GenerateDataKey*'), `${addr('aws_kms_key', key)}: policy does not let cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*`),
          ...expectThat(body?.enable_key_rotation === true, `${addr('aws_kms_key', key)}: key rotation off`),
        ];
      }),
  },
  {
    name: 'logs: whatever writes logs has its log group, with retention, created first',
    kinds: EVERY,
    check: ({ json }) => {
      const groups = resources(json, 'aws_cloudwatch_log_group');
      const need = (writer: string, dependsOn: string[] | undefined, name: unknown): string[] => {
        if (typeof name !== 'string' || name.includes('${')) return [`${writer}: its log group name ${name} is not literal`];
        const group = groups.find(([, g]) => g.name === name);
        if (!group) return [`${writer} writes to ${name}, which this stack does not manage (AWS would create it with no expiry)`];
        return [
          ...expectThat(group[1].retention_in_days > 0, `${addr('aws_cloudwatch_log_group', group[0])} has no retention`),
          ...expectThat((dependsOn ?? []).includes(addr('aws_cloudwatch_log_group', group[0])), `${writer} is not created after ${addr('aws_cloudwatch_log_group', group[0])}`),
        ];
      };
      return [
        ...resources(json, 'aws_lambda_function').flatMap(([n, f]) => need(addr('aws_lambda_function', n), f.depends_on, `/aws/lambda/${f.function_name}`)),
        ...resources(json, 'aws_db_instance').flatMap(([n, db]) =>
          (db.enabled_cloudwatch_logs_exports ?? []).flatMap((type: string) => need(addr('aws_db_instance', n), db.depends_on, `/aws/rds/instance/${db.identifier}/${type}`)),
        ),
        ...resources(json, 'aws_db_proxy').flatMap(([n, p]) => need(addr('aws_db_proxy', n), p.depends_on, `/aws/rds/proxy/${p.name}`)),
      ];
    },
  },
  {
    name: 'alarms: ratio alarms use matching statistics',
    kinds: EVERY,
    // A ratio of two statistics is off by the number of publishers: RDS Proxy publishes per node, so
    // Sum(connections) / Maximum(allowed) reads N times too high with N nodes.
    check: ({ json }) =>
      resources(json, 'aws_cloudwatch_metric_alarm').flatMap(([n, a]) => {
        const queries: any[] = a.metric_query ?? [];
        const statOf = new Map(queries.filter((q) => q.metric).map((q) => [q.id, q.metric.stat]));
        return queries
          .filter((q) => typeof q.expression === 'string')
          .flatMap((q) => {
            let found;
            try {
              found = divisions(parseMetricMath(q.expression));
            } catch (e) {
              return [`${addr('aws_cloudwatch_metric_alarm', n)}: expression "${q.expression}" cannot be read (${(e as Error).message})`];
            }
            return found.flatMap(({ dividend, divisor }) => {
              const ids = [...new Set([...dividend, ...divisor])].filter((id) => statOf.has(id));
              const stats = new Set(ids.map((id) => statOf.get(id)));
              return dividend.some((id) => statOf.has(id)) && divisor.some((id) => statOf.has(id)) && stats.size > 1
                ? [`${addr('aws_cloudwatch_metric_alarm', n)}: "${q.expression}" divides ${ids.map((id) => `${id} (${statOf.get(id)})`).join(', ')}`]
                : [];
            });
          });
      }),
  },
  {
    name: 'events: event subscription ordered after topic and key policies',
    kinds: EVERY,
    // RDS starts publishing when the subscription exists; before the topic policy and the key policy
    // allow it, its first events are dropped.
    check: ({ json }) =>
      resources(json, 'aws_db_event_subscription').flatMap(([n, sub]) => {
        const where = addr('aws_db_event_subscription', n);
        const topic = /^\$\{aws_sns_topic\.([^.]+)\.arn\}$/.exec(String(sub.sns_topic))?.[1];
        if (!topic) return [`${where}: sns_topic ${sub.sns_topic} is not a topic of this stack, so its policies cannot be checked`];
        const dependsOn: string[] = sub.depends_on ?? [];
        const topicPolicies = resources(json, 'aws_sns_topic_policy').filter(([, p]) => p.arn === refTo('aws_sns_topic', topic, 'arn')).map(([p]) => addr('aws_sns_topic_policy', p));
        const key = /^\$\{aws_kms_key\.([^.]+)\.(arn|id|key_id)\}$/.exec(String(json.resource?.aws_sns_topic?.[topic]?.kms_master_key_id ?? ''))?.[1];
        // The key policy lives on the key itself, or in a separate aws_kms_key_policy.
        const keyPolicies = key
          ? [addr('aws_kms_key', key), ...resources(json, 'aws_kms_key_policy').filter(([, p]) => [refTo('aws_kms_key', key, 'id'), refTo('aws_kms_key', key, 'key_id'), refTo('aws_kms_key', key, 'arn')].includes(p.key_id)).map(([p]) => addr('aws_kms_key_policy', p))]
          : [];
        return [
          ...expectThat(topicPolicies.length > 0, `${where}: topic ${topic} has no aws_sns_topic_policy in this stack`),
          ...topicPolicies.filter((p) => !dependsOn.includes(p)).map((p) => `${where} is not created after ${p}`),
          ...keyPolicies.filter((p) => !dependsOn.includes(p)).map((p) => `${where} is not created after ${p}`),
        ];
      }),
  },
];

// ---------------------------------------------------------------------------------------------------------
// Least privilege (issue 9): the application user, the deploy-time migration, confused-deputy conditions

/** `${data.aws_caller_identity.<name>.account_id}` of this stack's caller-identity data source, if it has one. */
function callerAccount(json: StackJson): string | undefined {
  const name = Object.keys(json.data?.aws_caller_identity ?? {})[0];
  return name ? `\${data.aws_caller_identity.${name}.account_id}` : undefined;
}

/** The confused-deputy keys one service is documented to send when it assumes a role. */
export interface DocumentedTrust {
  /** It sends aws:SourceAccount: the trust must require this stack's account (from aws_caller_identity). */
  readonly sourceAccount: boolean;
  /** It sends aws:SourceArn: the pattern the trust's value must match (`null`: it does not send one). */
  readonly sourceArn: ((account: string) => RegExp) | null;
  /** Where AWS says so. */
  readonly page: string;
}

/** The trustee a role's trust is judged as: its service principal, except the one an RDS Proxy uses. */
export const RDS_PROXY_TRUSTEE = 'rds.amazonaws.com (RDS Proxy)';

/**
 * Exactly the condition keys each trustee is documented to send, and so exactly the keys its trust must
 * carry: a key it does not send never matches (the service is locked out of its role), and a key it sends
 * but the trust leaves out leaves the confused deputy open. Add a service only with its page.
 */
export const TRUST_CONDITIONS: Readonly<Record<string, DocumentedTrust>> = {
  // aws:SourceArn "applies only to policies where your Lambda function is the target resource" (invoke
  // permissions), not to the execution role Lambda assumes.
  'lambda.amazonaws.com': { sourceAccount: true, sourceArn: null, page: 'https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html' },
  // RDS Proxy documents no key; AWS CDK's DatabaseProxy and terraform-aws-modules' rds-proxy trust the plain principal.
  [RDS_PROXY_TRUSTEE]: { sourceAccount: false, sourceArn: null, page: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html' },
  'monitoring.rds.amazonaws.com': {
    sourceAccount: true,
    sourceArn: (a) => new RegExp(`^arn:(\\*|aws[a-z-]*|\\$\\{data\\.aws_partition\\.[^.]+\\.partition\\}):rds:[^:]+:${esc(a)}:db:[A-Za-z][A-Za-z0-9-]*$`),
    page: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html',
  },
  'vpc-flow-logs.amazonaws.com': {
    sourceAccount: true,
    sourceArn: (a) => new RegExp(`^arn:(\\*|aws[a-z-]*|\\$\\{data\\.aws_partition\\.[^.]+\\.partition\\}):ec2:[^:]+:${esc(a)}:vpc-flow-log/[^:]+$`),
    page: 'https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html',
  },
  'scheduler.amazonaws.com': {
    sourceAccount: true,
    sourceArn: (a) => new RegExp(`^arn:(\\*|aws[a-z-]*|\\$\\{data\\.aws_partition\\.[^.]+\\.partition\\}):scheduler:[^:]+:${esc(a)}:schedule-group/[^:]+$`),
    page: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html',
  },
};

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The trustee of `roleName`'s trust statement: RDS_PROXY_TRUSTEE for a role an aws_db_proxy of this stack uses. */
function trusteeOf(json: StackJson, service: string, roleName?: string): string {
  const proxyRole = roleName !== undefined && resources(json, 'aws_db_proxy').some(([, p]) => p.role_arn === refTo('aws_iam_role', roleName, 'arn'));
  return service === 'rds.amazonaws.com' && proxyRole ? RDS_PROXY_TRUSTEE : service;
}

/**
 * Why one trust statement (of role `roleName`) does not carry exactly the condition keys its trustee is
 * documented to send (empty: it does).
 */
export function trustConditionProblems(json: StackJson, statement: any, roleName?: string): string[] {
  const service = statement?.Principal?.Service;
  if (typeof service !== 'string') return [`principal ${JSON.stringify(statement?.Principal)} is not one service`];
  const trustee = trusteeOf(json, service, roleName);
  const documented = TRUST_CONDITIONS[trustee];
  if (!documented) return [`${trustee}: not in TRUST_CONDITIONS; find the keys it sends on its confused-deputy page and add it`];
  const cond = statement.Condition ?? {};
  const problems: string[] = [];
  const keys = Object.values(cond).flatMap((o: any) => Object.keys(o ?? {}));
  const sourceAccount = cond.StringEquals?.['aws:SourceAccount'];
  const sourceArn = cond.ArnLike?.['aws:SourceArn'] ?? cond.ArnEquals?.['aws:SourceArn'] ?? cond.StringLike?.['aws:SourceArn'] ?? cond.StringEquals?.['aws:SourceArn'];
  if (documented.sourceAccount || documented.sourceArn) {
    const account = callerAccount(json);
    if (!account) return ['the stack has no aws_caller_identity data source to take the account id from'];
    if (documented.sourceAccount && sourceAccount !== account) problems.push(`${trustee}: aws:SourceAccount is ${JSON.stringify(sourceAccount)}, not ${account} (${documented.page})`);
    if (documented.sourceArn && !(typeof sourceArn === 'string' && documented.sourceArn(account).test(sourceArn))) problems.push(`${trustee}: aws:SourceArn is ${JSON.stringify(sourceArn)}, not this account's resource (${documented.page})`);
  }
  const allowed = [...(documented.sourceAccount ? ['aws:SourceAccount'] : []), ...(documented.sourceArn ? ['aws:SourceArn'] : [])];
  for (const k of keys) if (!allowed.includes(k)) problems.push(`${trustee}: condition key ${k} is not one it is documented to send (${documented.page}); the role would be unusable`);
  return problems;
}

/** A string value followed through remote state and locals to its literal, when it is one. */
export function literal(env: SynthesizedEnvironment, kind: StackKind, value: unknown): string | undefined {
  let [where, text] = canonical(env, kind, value).split(/\|(.*)/s) as [string, string];
  for (let i = 0; i < 3 && typeof text === 'string'; i++) {
    const local = /^\$\{local\.([^}]+)\}$/.exec(text)?.[1];
    if (!local) break;
    const stack = STACK_KINDS.includes(where as StackKind) ? env[where as StackKind] : undefined;
    text = stack?.locals?.[local];
  }
  if (typeof text !== 'string' || text.includes('${')) return undefined;
  return text;
}

/** The application user that `instance`'s migrations create (APP_DB_USER of its migration function), as a literal. @default the proxy's instance */
function appUser(env: SynthesizedEnvironment, instance = proxyInstance(env.data)): string | undefined {
  const fn = migrationOf(env.data, instance);
  return fn ? literal(env, 'data', fn[1].environment?.variables?.APP_DB_USER) : undefined;
}

/** The master user of `instance`, as a literal. @default the proxy's instance */
function masterUser(env: SynthesizedEnvironment, instance = proxyInstance(env.data)): string | undefined {
  const u = instance?.[1].username;
  return typeof u === 'string' && !u.includes('${') ? u : undefined;
}

/** The instance whose queries `fn` (of stack `kind`) runs: the proxy's through the proxy, the direct arm's straight. */
function instanceOfArm(env: SynthesizedEnvironment, kind: StackKind, fn: any): [string, any] | undefined {
  const arm = armOf(env, kind, fn);
  return arm === 'proxy' ? proxyInstance(env.data) : arm === 'direct' ? directInstance(env) : undefined;
}

/** For `${local.X}/<user>` where local X is `dbuser:<resource_id of this database>`: the user; otherwise undefined. */
function databaseConnectUser(json: StackJson, dbName: string, resource: string): string | undefined {
  const m = /^\$\{local\.([^}]+)\}\/([A-Za-z][A-Za-z0-9_]*\*?)$/.exec(resource);
  const prefix = m ? String(json.locals?.[m[1]] ?? '') : '';
  const ok = /^\$\{format\("arn:%s:rds-db:%s:%s:dbuser:%s", /.test(prefix) && prefix.includes(`aws_db_instance.${dbName}.arn`) && prefix.endsWith(`aws_db_instance.${dbName}.resource_id)}`);
  return ok ? m![2] : undefined;
}

/** `${aws_iam_role.<name>.arn}` of a role in this stack: its name, otherwise undefined. */
function roleRef(json: StackJson, value: unknown): string | undefined {
  const name = typeof value === 'string' ? /^\$\{aws_iam_role\.([^.}]+)\.arn\}$/.exec(value)?.[1] : undefined;
  return name !== undefined && resources(json, 'aws_iam_role').some(([n]) => n === name) ? name : undefined;
}
const isRoleOfStack = (json: StackJson, value: unknown) => roleRef(json, value) !== undefined;

/** The role of a function and its inline statements and attached managed policies. */
function rolePermissions(json: StackJson, fn: any) {
  const role = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(fn.role)?.[1];
  const statements = policyDocs(json).filter((d) => !d.trust && d.role === role).flatMap((d) => d.statements ?? []);
  const attached = resources(json, 'aws_iam_role_policy_attachment')
    .filter(([, a]) => role && (a.role === refTo('aws_iam_role', role, 'name') || a.role === refTo('aws_iam_role', role, 'id')))
    .map(([, a]) => partitionOf(a.policy_arn))
    .sort();
  return { role, statements, attached };
}

export const TENANT_ACCESS_RULE = "tenants: each tenant-access role may rds-db:connect as the tenant users through its own arm's way in only (the proxy's prx-, or the instance's db- on the direct arm)";
export const TENANT_RESOURCE_ID_RULE = 'tenants: each tenants function names the resource id of the way it connects (DB_RESOURCE_ID the proxy\'s with DB_HOST the proxy; the direct arm\'s instance\'s, with the RDS CA bundle, with DB_HOST an instance)';

export const LEAST_PRIVILEGE_RULES: readonly Rule[] = [
  {
    name: 'iam: no undocumented trust condition: each service trust carries exactly the keys its service sends (none for RDS Proxy)',
    kinds: EVERY,
    check: ({ json }) =>
      policyDocs(json)
        .filter((d) => d.trust)
        .flatMap((d) =>
          d.error
            ? [d.error]
            : (d.statements ?? [])
                // A trust in one role of this stack (the tenant-access role's): no service, no confused deputy; 'tenants: tenant-access role …' checks it.
                .filter((s) => !(isRoleOfStack(json, s.raw?.Principal?.AWS) && Object.keys(s.raw.Principal).length === 1 && s.raw.Condition === undefined))
                .flatMap((s) => trustConditionProblems(json, s.raw, d.role).map((p) => `${d.where}: ${p}`)),
        ),
  },
  fnRule('hits: DB_USER is the application user the migrations create, not the master user', (fn, _n, { env, kind }) => {
    const user = literal(env, kind, fn.environment?.variables?.DB_USER);
    // The migrations of the instance its queries reach: the proxy arm's, or the direct arm's own.
    const instance = instanceOfArm(env, kind, fn);
    const app = appUser(env, instance);
    const master = masterUser(env, instance);
    if (!user || !app || !master) return [`cannot read DB_USER (${user}), the migration's APP_DB_USER (${app}) or the master user (${master}) as literals`];
    return [
      ...expectThat(user.toLowerCase() !== master.toLowerCase(), `DB_USER ${user} is the master user`),
      ...expectThat(user === app, `DB_USER ${user} is not the application user ${app}`),
    ];
  }),
  fnRule('hits: its rds-db:connect resource names the application user', (fn, _n, { json, env, kind }) => {
    const { statements } = rolePermissions(json, fn);
    const connect = statements.filter((s) => s.actions.includes('rds-db:connect'));
    const app = appUser(env, instanceOfArm(env, kind, fn));
    if (connect.length === 0 || !app) return [`no rds-db:connect statement (${connect.length}) or no application user (${app})`];
    return connect.flatMap((s) =>
      s.resources.flatMap((r) => {
        // After resolveRemote the user part is in the data stack's terms (e.g. its app-username local).
        const user = resolveRemote(env, r).replace(/^.*\//, '');
        const resolved = literal(env, 'data', user) ?? user;
        return expectThat(resolved === app, `rds-db:connect on ${r} names ${resolved}, not the application user ${app}`);
      }),
    );
  }),
  {
    name: 'migration: invoked at deploy by aws_lambda_invocation after the instance, its grant and its security-group path (not the proxy), re-run when the migrations change, result as an output',
    kinds: ['data'],
    check: ({ json, env }) => {
      const found = migrations(json);
      if (found.length === 0) return ['no aws_lambda_invocation'];
      return found.flatMap(({ invocation: [n, inv], fn }) => {
        // The instance it runs on: the one its function's DB_HOST names.
        const db = instanceOfMigration(json, fn?.[1]);
        const outputs = Object.values(json.output ?? {}).map((o: any) => o.value);
        const dependsOn: string[] = inv.depends_on ?? [];
        const grants = fn ? policyDocs(json).filter((d) => !d.trust && d.role === rolePermissions(json, fn[1]).role).map((d) => d.where.replace(/\.policy$/, '')) : [];
        const migrationSg = canonical(env, 'data', fn?.[1].vpc_config?.security_group_ids?.[0]);
        const dbSg = canonical(env, 'data', db?.[1].vpc_security_group_ids?.[0]);
        const path = sgRules(json).filter((r) => [r.group, r.referenced].map((g) => g && canonical(env, 'data', g)).sort().join() === [migrationSg, dbSg].sort().join());
        return [
          ...expectThat(!!fn, `${addr('aws_lambda_invocation', n)}: function_name ${inv.function_name} is not a function of this stack`),
          ...expectThat(/^[0-9a-f]{64}$/.test(inv.triggers?.migrations ?? ''), `${addr('aws_lambda_invocation', n)}: triggers.migrations ${inv.triggers?.migrations} is not a sha256`),
          ...expectThat(!!db && dependsOn.includes(addr('aws_db_instance', db[0])), `${addr('aws_lambda_invocation', n)}: does not wait for the database instance its function's DB_HOST names`),
          ...expectThat(grants.length > 0 && grants.every((g) => dependsOn.includes(g)), `${addr('aws_lambda_invocation', n)}: does not wait for the function's grants ${JSON.stringify(grants)}`),
          ...expectThat(path.length === 2 && path.every((r) => dependsOn.includes(r.where)), `${addr('aws_lambda_invocation', n)}: does not wait for the security-group rules to the database ${JSON.stringify(path.map((r) => r.where))}`),
          ...dependsOn.filter((d) => /^aws_db_proxy/.test(d)).map((d) => `${addr('aws_lambda_invocation', n)}: depends on ${d}; the migration does not go through the proxy`),
          ...expectThat(outputs.includes(refTo('aws_lambda_invocation', n, 'result')), `${addr('aws_lambda_invocation', n)}: its result is not an output`),
        ];
      });
    },
  },
  {
    name: 'migration: function unreachable from any API; its role is VPC access, X-Ray and GetSecretValue on the master secret only; straight to the instance over verified TLS',
    kinds: ['data'],
    check: ({ json, env }) => {
      const found = migrations(json);
      if (found.length === 0) return ['no migration function (invoked by aws_lambda_invocation)'];
      return found.flatMap(({ fn }) => {
        if (!fn) return ['an aws_lambda_invocation invokes no function of this stack'];
        const [name, body] = fn;
        const at = addr('aws_lambda_function', name);
        const problems: string[] = [];
        for (const kind of STACK_KINDS) {
          for (const [p, perm] of resources(env[kind], 'aws_lambda_permission')) if (canonical(env, kind, perm.function_name).includes(`aws_lambda_function.${name}.`)) problems.push(`${addr('aws_lambda_permission', p)} lets ${perm.principal} invoke ${at}`);
          for (const [i, integ] of resources(env[kind], 'aws_apigatewayv2_integration')) if (canonical(env, kind, integ.integration_uri).includes(`aws_lambda_function.${name}.`)) problems.push(`${addr('aws_apigatewayv2_integration', i)} routes to ${at}`);
        }
        const { statements, attached } = rolePermissions(json, body);
        if (JSON.stringify(attached) !== JSON.stringify([AWS_MANAGED_XRAY_WRITE, AWS_MANAGED_VPC_ACCESS].sort())) problems.push(`${at}: attached policies are ${JSON.stringify(attached)}`);
        // Its own instance's secret, host and master user, and no other's.
        const db = instanceOfMigration(json, body);
        if (!db) return [...problems, `${at}: DB_HOST ${body.environment?.variables?.DB_HOST} is no instance's address`];
        const instance = (attr: string) => refTo('aws_db_instance', db[0], attr);
        const secret = `\${aws_db_instance.${db[0]}.master_user_secret[0].secret_arn}`;
        const cmk = db[1].master_user_secret_kms_key_id;
        const readsSecret = (s: Statement) => s.Effect === 'Allow' && JSON.stringify(s.actions) === '["secretsmanager:GetSecretValue"]' && JSON.stringify(s.resources) === JSON.stringify([secret]);
        // Only with a customer-managed key, and only through Secrets Manager.
        const decrypts = (s: Statement) => cmk !== undefined && s.Effect === 'Allow' && JSON.stringify(s.actions) === '["kms:Decrypt"]' && JSON.stringify(s.resources) === JSON.stringify([cmk]) && /^secretsmanager\.[^.]+\.amazonaws\.com$/.test(String(s.raw.Condition?.StringEquals?.['kms:ViaService'] ?? '').replace(/\$\{data\.aws_region\.[^}]+\}/, 'region'));
        const ok = statements.filter(readsSecret).length === 1 && statements.every((s) => readsSecret(s) || decrypts(s));
        if (!ok) problems.push(`${at}: inline permissions are ${JSON.stringify(statements.map((s) => s.raw))}, not GetSecretValue on ${secret} only`);
        const vars: Record<string, string> = body.environment?.variables ?? {};
        const expected: Record<string, string> = { DB_HOST: instance('address'), DB_USER: instance('username'), DB_AUTH: 'secret', DB_SECRET_ARN: secret, DB_TLS: 'verify', DB_CA_BUNDLE: 'rds', APP_DB_AUTH: 'iam' };
        for (const [k, v] of Object.entries(expected)) problems.push(...expectThat(vars[k] === v, `${at}: environment ${k} is ${vars[k]}, not ${v}`));
        problems.push(...expectThat(body.timeout === 900, `${at}: timeout is ${body.timeout}, not 900 s (the retry window is what the invocation has left)`));
        problems.push(...Object.keys(vars).filter((k) => /PASSWORD|SECRET/i.test(k) && k !== 'DB_SECRET_ARN').map((k) => `${at}: environment sets ${k}`));
        problems.push(...Object.keys(vars).filter((k) => k === 'MIGRATE_CONNECT_WAIT_SECONDS').map((k) => `${at}: environment sets ${k}; the function derives its retry window from its remaining time`));
        return problems;
      });
    },
  },
  {
    name: 'proxy: end-to-end IAM (IAM_AUTH) to the database for the application user only, and the tenant users when there are tenants',
    kinds: ['data'],
    check: ({ json, env }) =>
      one(json, 'aws_db_proxy', (n, p) =>
        ofProxyInstance(json, (dbName) => {
          const app = appUser(env);
          const role = resources(json, 'aws_iam_role').find(([r]) => p.role_arn === refTo('aws_iam_role', r, 'arn'));
          const connects = policyDocs(json)
            .filter((d) => !d.trust && d.role === role?.[0])
            .flatMap((d) => d.statements ?? [])
            .filter((s) => s.actions.includes('rds-db:connect'))
            .flatMap((s) => s.resources.map((r) => databaseConnectUser(json, dbName, r) ?? `<not this database's dbuser ARN: ${r}>`));
          const tenants = env.profile.tenants;
          const expected = tenants.count > 0 ? [app, `${tenants.prefix}*`] : [app];
          return [
            ...expectThat(p.default_auth_scheme === 'IAM_AUTH', `${addr('aws_db_proxy', n)}: default_auth_scheme is ${p.default_auth_scheme}`),
            ...expectThat(!!app && JSON.stringify(connects) === JSON.stringify(expected), `${addr('aws_db_proxy', n)}: its role may log in to the database as ${JSON.stringify(connects)}, not exactly ${JSON.stringify(expected)}`),
          ];
        }),
      ),
  },
  {
    name: 'tenants: each tenant-access role is trusted by its own tenants function\'s role only (one per arm)',
    kinds: ['api'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ json, env }) => {
      const fns = tenantsFunctions(env);
      const expected = directArmEnabled(env.profile) ? 2 : 1;
      if (fns.length !== expected) return [`expected ${expected} tenants function(s) (TENANT_ACCESS_ROLE_ARN set), found ${fns.length}`];
      return fns.flatMap(([fnName, fn]) => {
        const at = addr('aws_lambda_function', fnName);
        const access = roleRef(json, fn.environment.variables.TENANT_ACCESS_ROLE_ARN);
        const fnRole = roleRef(json, fn.role);
        if (!access || !fnRole) return [`${at}: TENANT_ACCESS_ROLE_ARN ${fn.environment.variables.TENANT_ACCESS_ROLE_ARN} or the function's role ${fn.role} is not a role of this stack`];
        const problems = expectThat(access !== fnRole, `${at}: the tenants function assumes its own role`);
        const trust = policyDocs(json).find((d) => d.trust && d.role === access);
        const statements = trust?.statements ?? [];
        const only = statements.length === 1 && statements[0].Effect === 'Allow' && JSON.stringify(statements[0].raw.Principal) === JSON.stringify({ AWS: refTo('aws_iam_role', fnRole, 'arn') }) && JSON.stringify(statements[0].actions) === '["sts:AssumeRole"]';
        problems.push(...expectThat(only, `${addr('aws_iam_role', access)}: trust is ${JSON.stringify(statements.map((st) => st.raw))}, not sts:AssumeRole by ${refTo('aws_iam_role', fnRole, 'arn')} alone`));
        // Any other role trusting the function's role would be a second door to the tenants (the other arm's access role included).
        for (const d of policyDocs(json).filter((doc) => doc.trust && doc.role !== access)) {
          if (JSON.stringify(d.statements?.map((st) => st.raw.Principal)).includes(refTo('aws_iam_role', fnRole, 'arn'))) problems.push(`${d.where}: also trusts ${at}'s role`);
        }
        return problems;
      });
    },
  },
  {
    name: 'tenants: each tenants function\'s role may assume its tenant-access role and nothing else; no rds-db:connect of its own',
    kinds: ['api'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ json, env }) => {
      return eachTenantsFunction(json, env, ({ fn, at, access }) => {
        const { statements } = rolePermissions(json, fn);
        const assumesAccess = (st: Statement) => st.Effect === 'Allow' && JSON.stringify(st.actions) === '["sts:AssumeRole"]' && JSON.stringify(st.resources) === JSON.stringify([refTo('aws_iam_role', access ?? '?', 'arn')]);
        return [
          ...expectThat(!!access && statements.length === 1 && assumesAccess(statements[0]), `${at}: inline permissions are ${JSON.stringify(statements.map((st) => st.raw))}, not sts:AssumeRole on its tenant-access role only`),
          ...statements.filter((st) => st.actions.some((a) => /^rds-db:|^\*$/.test(a))).map((st) => `${at}: may ${JSON.stringify(st.actions)} itself: only the tenant-access role connects`),
        ];
      });
    },
  },
  {
    name: TENANT_ACCESS_RULE,
    kinds: ['api'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ json, env }) => {
      return eachTenantsFunction(json, env, ({ fn, at, access }) => {
        if (!access) return [`${at}: no tenant-access role (its TENANT_ACCESS_ROLE_ARN)`];
        const statements = policyDocs(json).filter((d) => !d.trust && d.role === access).flatMap((d) => d.statements ?? []);
        const attached = resources(json, 'aws_iam_role_policy_attachment').filter(([, a]) => a.role === refTo('aws_iam_role', access, 'name') || a.role === refTo('aws_iam_role', access, 'id'));
        const problems = attached.map(([a]) => `${addr('aws_iam_role_policy_attachment', a)} attaches a managed policy to the tenant-access role`);
        const st = statements[0];
        if (statements.length !== 1 || st.Effect !== 'Allow' || JSON.stringify(st.actions) !== '["rds-db:connect"]' || st.resources.length !== 1) return [...problems, `${addr('aws_iam_role', access)}: inline permissions are ${JSON.stringify(statements.map((x) => x.raw))}, not one rds-db:connect statement`];
        const m = /^\$\{local\.([^}]+)\}\/(.+)$/.exec(resolveRemote(env, st.resources[0]));
        const arm = armOf(env, 'api', fn);
        if (!m || !arm) return [...problems, `${addr('aws_iam_role', access)}: resource ${st.resources[0]} is not <connect prefix>/<user>, or ${at} connects neither to the proxy nor to the instance`];
        // The way in of the function that assumes the role, and no other.
        const arn = connectPrefixFor(env, m[1], arm);
        problems.push(...expectThat(arn === EXPECTED_CONNECT_PREFIX[arm], `${addr('aws_iam_role', access)}: the prefix evaluates to ${arn}, not the ${arm === 'proxy' ? "proxy's" : "instance's"} dbuser ARN ${EXPECTED_CONNECT_PREFIX[arm]}`));
        problems.push(...expectThat(m[2] === `${env.profile.tenants.prefix}*`, `${addr('aws_iam_role', access)}: the user part ${m[2]} is not the tenant users ${env.profile.tenants.prefix}*`));
        return problems;
      });
    },
  },
  {
    name: TENANT_RESOURCE_ID_RULE,
    kinds: ['api'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ env }) => {
      const proxy = resources(env.data, 'aws_db_proxy')[0];
      // The direct arm's instance: its own, or the proxy arm's when the profile shares it.
      const db = directInstance(env);
      if (!proxy || !db) return ["the data stack has no proxy, or no instance the profile's direct arm may use"];
      return tenantsFunctions(env).flatMap(([fnName, fn]) => {
        const at = addr('aws_lambda_function', fnName);
        const vars: Record<string, string> = fn.environment?.variables ?? {};
        const arm = armOf(env, 'api', fn);
        if (!arm) return [`${at}: DB_HOST ${vars.DB_HOST} is neither the proxy nor the instance`];
        const id = canonical(env, 'api', vars.DB_RESOURCE_ID);
        const local = /^data\|\$\{local\.([^}]+)\}$/.exec(id)?.[1];
        // The proxy's id is a local (the last element of its ARN); the instance's is its resource_id attribute.
        const proxyId = local !== undefined && String(env.data.locals?.[local]) === `\${element(split(":", aws_db_proxy.${proxy[0]}.arn), 6)}`;
        const instanceId = id === `data|${refTo('aws_db_instance', db[0], 'resource_id')}`;
        return [
          ...expectThat(arm === 'proxy' ? proxyId : instanceId, `${at}: DB_RESOURCE_ID ${vars.DB_RESOURCE_ID} is not the ${arm === 'proxy' ? "proxy's prx- id" : "instance's db- resource id"}, the way its DB_HOST connects`),
          ...expectThat((arm === 'direct') === (vars.DB_CA_BUNDLE === 'rds') && (vars.DB_CA_BUNDLE === undefined || vars.DB_CA_BUNDLE === 'rds'), `${at}: DB_CA_BUNDLE is ${vars.DB_CA_BUNDLE} with DB_HOST the ${arm === 'proxy' ? 'proxy' : 'instance'}`),
          ...expectThat(vars.DB_TLS === 'verify', `${at}: DB_TLS is ${vars.DB_TLS}`),
          ...expectThat(arm !== 'direct' || directArmEnabled(env.profile), `${at}: connects straight to the instance, but the profile has no direct arm`),
        ];
      });
    },
  },
  {
    name: 'tenants: no other function has access to tenants (no sts:AssumeRole, no tenant dbuser, no TENANT_* variable)',
    kinds: ['api', 'ops'],
    when: (env) => env.profile.tenants.count > 0,
    check: ({ json, env }) => {
      const prefix = env.profile.tenants.prefix;
      return appFunctions(json).flatMap(([n, fn]) => {
        const { statements } = rolePermissions(json, fn);
        const at = addr('aws_lambda_function', n);
        return [
          ...statements.filter((st) => st.actions.some((a) => /^sts:(AssumeRole|\*)|^\*$/.test(a))).map((st) => `${at}: may ${JSON.stringify(st.actions)}`),
          ...statements.flatMap((st) => st.resources.filter((r) => st.actions.some((a) => a.startsWith('rds-db:')) && (r.endsWith('*') || r.replace(/^.*\//, '').startsWith(prefix))).map((r) => `${at}: may connect as ${r}`)),
          ...Object.keys(fn.environment?.variables ?? {}).filter((k) => k.startsWith('TENANT_')).map((k) => `${at}: environment sets ${k}`),
        ];
      });
    },
  },
];

/** Every rule the policy suite checks. */
export const RULES: readonly Rule[] = [...SECURITY_MODEL_RULES, ...LEAST_PRIVILEGE_RULES];
