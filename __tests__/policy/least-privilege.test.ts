/**
 * The least-privilege rules (LEAST_PRIVILEGE_RULES in rules.ts) can fail: each mutation breaks one
 * property of the passing JSON of every environment and the named rule must then report it.
 */
import { PROFILES } from '../../config';
import { StackJson, SynthesizedEnvironment, synthEnvironments } from '../support/synth';
import { LEAST_PRIVILEGE_RULES, literal, PolicyContext, StackKind, TENANT_ACCESS_RULE, TENANT_RESOURCE_ID_RULE, trustConditionProblems } from './rules';

const environments = synthEnvironments();
const contextOf = (env: SynthesizedEnvironment, kind: StackKind): PolicyContext => ({ env, kind, json: env[kind], id: env.stacks[kind].node.id });
const entries = (json: StackJson, type: string) => Object.entries(json.resource?.[type] ?? {}) as Array<[string, any]>;
const trustOf = (json: StackJson, service: string) => entries(json, 'aws_iam_role').find(([, r]) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === service)?.[1];
const editTrust = (role: any, f: (statement: any) => void) => {
  const doc = JSON.parse(role.assume_role_policy);
  f(doc.Statement[0]);
  role.assume_role_policy = JSON.stringify(doc);
};
const migrationFn = (j: StackJson) => {
  const inv = Object.values(j.resource!.aws_lambda_invocation)[0] as any;
  return entries(j, 'aws_lambda_function').find(([n]) => inv.function_name.includes(`.${n}.`))![1];
};
const editPolicy = (j: StackJson, namePrefix: string, f: (doc: any) => void) => {
  const [, body] = entries(j, 'aws_iam_role_policy').find(([n]) => n.startsWith(namePrefix))!;
  const doc = JSON.parse(body.policy);
  f(doc);
  body.policy = JSON.stringify(doc);
};

type Mutation = [rule: string, kind: StackKind, mutate: (json: StackJson, env: SynthesizedEnvironment) => void];
const TRUST = 'iam: no undocumented trust condition: each service trust carries exactly the keys its service sends (none for RDS Proxy)';
const MIGRATION_RUN = 'migration: invoked at deploy by aws_lambda_invocation after the instance, its grant and its security-group path (not the proxy), re-run when the migrations change, result as an output';
const MIGRATION_ROLE = 'migration: function unreachable from any API; its role is VPC access, X-Ray and GetSecretValue on the master secret only; straight to the instance over verified TLS';
const mutations: Mutation[] = [
  // A key removed from the Lambda trust: the confused deputy is open again.
  [TRUST, 'api', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => delete s.Condition)],
  [TRUST, 'data', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => delete s.Condition.StringEquals)],
  [TRUST, 'api', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => (s.Condition.StringEquals['aws:SourceAccount'] = '123456789012'))],
  // A key Lambda does not set for its execution role would make the role unusable.
  [TRUST, 'api', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => (s.Condition.ArnLike = { 'aws:SourceArn': 'arn:aws:lambda:*:*:function:x' }))],
  // Any condition added to the proxy's trust: RDS Proxy documents none, so its target would never become available.
  [TRUST, 'data', (j) => editTrust(trustOf(j, 'rds.amazonaws.com'), (s) => (s.Condition = { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.caller-identity.account_id}' } }))],
  [TRUST, 'data', (j) => editTrust(trustOf(j, 'rds.amazonaws.com'), (s) => (s.Condition = { ArnLike: { 'aws:SourceArn': 'arn:*:rds:*:*:db-proxy:*' } }))],
  // Enhanced monitoring documents aws:SourceArn (the instance): leaving it out is a problem too.
  [TRUST, 'data', (j) => {
    const role = trustOf(j, 'monitoring.rds.amazonaws.com');
    if (role) editTrust(role, (s) => delete s.Condition.ArnLike);
    else delete j.data!.aws_caller_identity; // an environment without enhanced monitoring: the account source gone instead
  }],
  [TRUST, 'data', (j) => delete j.data!.aws_caller_identity],
  [TRUST, 'api', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => (s.Principal.Service = 'events.amazonaws.com'))],
  [TRUST, 'api', (j) => editTrust(trustOf(j, 'lambda.amazonaws.com'), (s) => (s.Condition.StringEquals['aws:PrincipalOrgID'] = 'o-1'))],
  ['hits: DB_USER is the application user the migrations create, not the master user', 'api', (j, env) => {
    const master = Object.keys(env.data.output!).find((o) => o.includes('username') || o.includes('db_name'))!;
    (Object.values(j.resource!.aws_lambda_function)[0] as any).environment.variables.DB_USER = `\${data.terraform_remote_state.cross-stack-reference-input-${env.stacks.data.node.id}.outputs.${master}}`;
  }],
  ['hits: DB_USER is the application user the migrations create, not the master user', 'api', (_j, env) => {
    // The master user's name put into the app-user local: DB_USER now names the master user.
    env.data.locals!['app-username'] = (Object.values(env.data.resource!.aws_db_instance)[0] as any).username;
  }],
  ['hits: its rds-db:connect resource names the application user', 'api', (j) => editPolicy(j, 'hits_role-rds-proxy-connect', (d) => (d.Statement[0].Resource = d.Statement[0].Resource.replace(/\/.*$/, '/hits_admin')))],
  [MIGRATION_RUN, 'data', (j) => delete j.resource!.aws_lambda_invocation],
  [MIGRATION_RUN, 'data', (j) => ((Object.values(j.resource!.aws_lambda_invocation)[0] as any).triggers = {})],
  [MIGRATION_RUN, 'data', (j) => ((Object.values(j.resource!.aws_lambda_invocation)[0] as any).depends_on = [])],
  // Each of the instance, the grant and the two rules is needed before the first run.
  ...['aws_db_instance.', 'aws_iam_role_policy.', 'aws_vpc_security_group_ingress_rule.', 'aws_vpc_security_group_egress_rule.'].map(
    (kind): Mutation => [MIGRATION_RUN, 'data', (j) => {
      const inv = Object.values(j.resource!.aws_lambda_invocation)[0] as any;
      inv.depends_on = inv.depends_on.filter((d: string) => !d.startsWith(kind));
    }],
  ),
  // Waiting for the proxy target again: the migration must not depend on the proxy.
  [MIGRATION_RUN, 'data', (j) => {
    const inv = Object.values(j.resource!.aws_lambda_invocation)[0] as any;
    inv.depends_on.push(`aws_db_proxy_target.${Object.keys(j.resource!.aws_db_proxy_target)[0]}`);
  }],
  [MIGRATION_RUN, 'data', (j) => {
    for (const [k, o] of Object.entries(j.output!)) if (String((o as any).value).includes('aws_lambda_invocation')) delete j.output![k];
  }],
  [MIGRATION_ROLE, 'data', (j) => {
    const [name] = entries(j, 'aws_lambda_function').find(([, f]) => f === migrationFn(j))!;
    j.resource!.aws_lambda_permission = { open: { function_name: `\${aws_lambda_function.${name}.function_name}`, principal: 'apigateway.amazonaws.com', action: 'lambda:InvokeFunction' } };
  }],
  [MIGRATION_ROLE, 'data', (j) => editPolicy(j, 'migration_function_role-read-master-secret', (d) => d.Statement.push({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }))],
  [MIGRATION_ROLE, 'data', (j) => editPolicy(j, 'migration_function_role-read-master-secret', (d) => (d.Statement[0].Resource = '${aws_db_instance.other.master_user_secret[0].secret_arn}'))],
  // kms:Decrypt without a customer-managed key to need it.
  [MIGRATION_ROLE, 'data', (j) => editPolicy(j, 'migration_function_role-read-master-secret', (d) => d.Statement.push({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '${aws_kms_key.x.arn}', Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.${data.aws_region.region.region}.amazonaws.com' } } }))],
  // Back to rds-db:connect through the proxy.
  [MIGRATION_ROLE, 'data', (j) => editPolicy(j, 'migration_function_role-read-master-secret', (d) => (d.Statement = [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: '${local.proxy_connect-arn-prefix}/hits_admin' }]))],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.APP_DB_PASSWORD = 'x')],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.APP_DB_AUTH = 'password')],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.DB_AUTH = 'iam')],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.DB_TLS = 'off')],
  [MIGRATION_ROLE, 'data', (j) => delete migrationFn(j).environment.variables.DB_CA_BUNDLE],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.DB_HOST = `\${aws_db_proxy.${Object.keys(j.resource!.aws_db_proxy)[0]}.endpoint}`)],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).environment.variables.MIGRATE_CONNECT_WAIT_SECONDS = '600')],
  [MIGRATION_ROLE, 'data', (j) => (migrationFn(j).timeout = 300)],
  ['proxy: end-to-end IAM (IAM_AUTH) to the database for the application user only, and the tenant users when there are tenants', 'data', (j) => delete (Object.values(j.resource!.aws_db_proxy)[0] as any).default_auth_scheme],
  ['proxy: end-to-end IAM (IAM_AUTH) to the database for the application user only, and the tenant users when there are tenants', 'data', (j) => editPolicy(j, 'proxy_connect-to-database', (d) => d.Statement[0].Resource.push(d.Statement[0].Resource[0].replace(/\/[^/]+$/, '/hits_admin')))],
];

describe.each(environments.map((e) => [e.profile.name, e] as const))('%s', (_name, base) => {
  test.each(LEAST_PRIVILEGE_RULES.map((r) => [r.name, r] as const))('passes %s', (_rule, rule) => {
    if (rule.when && !rule.when(base)) return; // e.g. the tenant rules where there are no tenants (see below)
    for (const kind of rule.kinds) expect({ kind, violations: rule.check(contextOf(base, kind)) }).toEqual({ kind, violations: [] });
  });

  test.each(mutations.map(([rule, kind, mutate], i) => [`${rule} [${kind}] #${i + 1}`, rule, kind, mutate] as const))('catches %s', (_t, ruleName, kind, mutate) => {
    const rule = LEAST_PRIVILEGE_RULES.find((r) => r.name === ruleName)!;
    expect(rule).toBeDefined();
    const mutated = structuredClone({ network: base.network, data: base.data, api: base.api, ops: base.ops });
    const env: SynthesizedEnvironment = { ...base, ...mutated, text: { ...base.text } };
    mutate(mutated[kind], env);
    expect(rule.check(contextOf(env, kind)).length).toBeGreaterThan(0);
  });

  test('literal() follows remote state and locals to the profile values', () => {
    const fn = Object.values(base.api.resource!.aws_lambda_function)[0] as any;
    expect(literal(base, 'api', fn.environment.variables.DB_USER)).toBe(base.profile.database.appUsername);
    expect(literal(base, 'api', fn.environment.variables.DB_HOST)).toBeUndefined(); // an attribute known only at apply
  });
});

// The tenant rules, on each environment that has tenants (the rules apply only there).
const TENANT_TRUST = "tenants: each tenant-access role is trusted by its own tenants function's role only (one per arm)";
const TENANT_FUNCTION_ROLE = "tenants: each tenants function's role may assume its tenant-access role and nothing else; no rds-db:connect of its own";
const TENANT_ACCESS = TENANT_ACCESS_RULE;
const TENANT_ISOLATION = 'tenants: no other function has access to tenants (no sts:AssumeRole, no tenant dbuser, no TENANT_* variable)';
/** The proxy arm's (outside the `direct-arm` construct) or the direct arm's function. */
const inArm = (direct: boolean) => ([n]: [string, any]) => n.startsWith('direct-arm_') === direct;
const tenantsFn = (j: StackJson, direct = false) => entries(j, 'aws_lambda_function').filter(inArm(direct)).find(([, f]) => f.environment?.variables?.TENANT_ACCESS_ROLE_ARN)![1];
const hitsFn = (j: StackJson, direct = false) => entries(j, 'aws_lambda_function').filter(inArm(direct)).find(([, f]) => !f.environment?.variables?.TENANT_ACCESS_ROLE_ARN)![1];
const roleNamed = (j: StackJson, arnRef: string) => j.resource!.aws_iam_role[/^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(arnRef)![1]];
const accessRole = (j: StackJson) => roleNamed(j, tenantsFn(j).environment.variables.TENANT_ACCESS_ROLE_ARN);
const editTrustDoc = (role: any, f: (doc: any) => void) => {
  const doc = JSON.parse(role.assume_role_policy);
  f(doc);
  role.assume_role_policy = JSON.stringify(doc);
};
const tenantMutations: Mutation[] = [
  // The account root, any principal, or another role trusted instead of (or beside) the function's role.
  [TENANT_TRUST, 'api', (j) => editTrustDoc(accessRole(j), (d) => (d.Statement[0].Principal.AWS = 'arn:aws:iam::123456789012:root'))],
  [TENANT_TRUST, 'api', (j) => editTrustDoc(accessRole(j), (d) => (d.Statement[0].Principal = { AWS: '*' }))],
  [TENANT_TRUST, 'api', (j) => editTrustDoc(accessRole(j), (d) => d.Statement.push({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }))],
  [TENANT_TRUST, 'api', (j) => editTrustDoc(accessRole(j), (d) => (d.Statement[0].Principal.AWS = hitsFn(j).role))],
  // The hits role also trusting the tenants function's role.
  [TENANT_TRUST, 'api', (j) => editTrustDoc(roleNamed(j, hitsFn(j).role), (d) => d.Statement.push({ Effect: 'Allow', Principal: { AWS: tenantsFn(j).role }, Action: 'sts:AssumeRole' }))],
  // The function's role assuming anything, or connecting itself.
  [TENANT_FUNCTION_ROLE, 'api', (j) => editPolicy(j, 'tenants-assume-tenant-access', (d) => (d.Statement[0].Resource = '*'))],
  [TENANT_FUNCTION_ROLE, 'api', (j) => editPolicy(j, 'tenants-assume-tenant-access', (d) => (d.Statement[0].Action = ['sts:AssumeRole', 'sts:TagSession']))],
  [TENANT_FUNCTION_ROLE, 'api', (j) => editPolicy(j, 'tenants-assume-tenant-access', (d) => d.Statement.push({ Effect: 'Allow', Action: 'rds-db:connect', Resource: '${local.x}/tenant_*' }))],
  [TENANT_FUNCTION_ROLE, 'api', (j) => (tenantsFn(j).environment.variables.TENANT_ACCESS_ROLE_ARN = hitsFn(j).role)],
  // The access role reaching other users, another proxy's users, or more than connecting.
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => (d.Statement[0].Resource = d.Statement[0].Resource.replace(/\/[^/]+$/, '/*')))],
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => (d.Statement[0].Resource = d.Statement[0].Resource.replace(/\/[^/]+$/, '/hits_app')))],
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => (d.Statement[0].Resource = 'arn:aws:rds-db:eu-west-1:123456789012:dbuser:prx-0123456789abcdef0/tenant_*'))],
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => (d.Statement[0].Action = 'rds-db:*'))],
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => d.Statement.push({ Effect: 'Allow', Action: 'rds-db:connect', Resource: '*' }))],
  // The hits function given a way to the tenants.
  [TENANT_ISOLATION, 'api', (j) => editPolicy(j, 'hits_role-rds-proxy-connect', (d) => d.Statement.push({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: tenantsFn(j).environment.variables.TENANT_ACCESS_ROLE_ARN }))],
  [TENANT_ISOLATION, 'api', (j) => editPolicy(j, 'hits_role-rds-proxy-connect', (d) => (d.Statement[0].Resource = [d.Statement[0].Resource, d.Statement[0].Resource.replace(/\/[^/]+$/, '/tenant_*')]))],
  [TENANT_ISOLATION, 'api', (j) => (hitsFn(j).environment.variables.TENANT_ACCESS_ROLE_ARN_FOR_HITS = 'x')],
];
// The direct arm's tenant path: its own access role, to the instance only; no crossing to the proxy arm's.
const directTenantMutations: Mutation[] = [
  // The direct tenants function pointed at the proxy arm's access role: that role trusts the proxy arm's function only.
  [TENANT_TRUST, 'api', (j) => (tenantsFn(j, true).environment.variables.TENANT_ACCESS_ROLE_ARN = tenantsFn(j).environment.variables.TENANT_ACCESS_ROLE_ARN)],
  // The proxy arm's access role also trusting the direct tenants function's role.
  [TENANT_TRUST, 'api', (j) => editTrustDoc(accessRole(j), (d) => d.Statement.push({ Effect: 'Allow', Principal: { AWS: tenantsFn(j, true).role }, Action: 'sts:AssumeRole' }))],
  // The direct access role given the proxy's way in, or the proxy's given the instance's.
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'direct-arm_tenant-access-connect', (d) => (d.Statement[0].Resource = JSON.parse(j.resource!.aws_iam_role_policy[Object.keys(j.resource!.aws_iam_role_policy).find((n) => n.startsWith('tenant-access-connect'))!].policy).Statement[0].Resource))],
  [TENANT_ACCESS, 'api', (j) => editPolicy(j, 'tenant-access-connect', (d) => (d.Statement[0].Resource = JSON.parse(j.resource!.aws_iam_role_policy[Object.keys(j.resource!.aws_iam_role_policy).find((n) => n.startsWith('direct-arm_tenant-access-connect'))!].policy).Statement[0].Resource))],
  // The direct tenants function naming the proxy's id (or the proxy arm's naming the instance's), or trusting public roots.
  [TENANT_RESOURCE_ID_RULE, 'api', (j) => (tenantsFn(j, true).environment.variables.DB_RESOURCE_ID = tenantsFn(j).environment.variables.DB_RESOURCE_ID)],
  [TENANT_RESOURCE_ID_RULE, 'api', (j) => (tenantsFn(j).environment.variables.DB_RESOURCE_ID = tenantsFn(j, true).environment.variables.DB_RESOURCE_ID)],
  [TENANT_RESOURCE_ID_RULE, 'api', (j) => delete tenantsFn(j, true).environment.variables.DB_CA_BUNDLE],
  [TENANT_RESOURCE_ID_RULE, 'api', (j) => (tenantsFn(j).environment.variables.DB_CA_BUNDLE = 'rds')],
  // The proxy arm's tenants function sent straight to the instance.
  [TENANT_RESOURCE_ID_RULE, 'api', (j) => (tenantsFn(j).environment.variables.DB_HOST = tenantsFn(j, true).environment.variables.DB_HOST)],
];
const withTenants = environments.filter((e) => e.profile.tenants.count > 0);
describe.each(withTenants.map((e) => [e.profile.name, e] as const))('%s (tenants)', (_name, base) => {
  test.each(tenantMutations.map(([rule, kind, mutate], i) => [`${rule} [${kind}] #${i + 1}`, rule, kind, mutate] as const))('catches %s', (_t, ruleName, kind, mutate) => {
    const rule = LEAST_PRIVILEGE_RULES.find((r) => r.name === ruleName)!;
    expect(rule).toBeDefined();
    expect(rule.when?.(base)).toBe(true);
    expect(rule.check(contextOf(base, kind))).toEqual([]);
    const mutated = structuredClone({ network: base.network, data: base.data, api: base.api, ops: base.ops });
    const env: SynthesizedEnvironment = { ...base, ...mutated, text: { ...base.text } };
    mutate(mutated[kind], env);
    expect(rule.check(contextOf(env, kind)).length).toBeGreaterThan(0);
  });
});

const withDirectTenants = withTenants.filter((e) => e.profile.directArm?.enabled === true);
describe.each(withDirectTenants.map((e) => [e.profile.name, e] as const))('%s (tenants on both arms)', (_name, base) => {
  test.each(directTenantMutations.map(([rule, kind, mutate], i) => [`${rule} [${kind}] #${i + 1}`, rule, kind, mutate] as const))('catches %s', (_t, ruleName, kind, mutate) => {
    const rule = LEAST_PRIVILEGE_RULES.find((r) => r.name === ruleName)!;
    expect(rule).toBeDefined();
    expect(rule.check(contextOf(base, kind))).toEqual([]);
    const mutated = structuredClone({ network: base.network, data: base.data, api: base.api, ops: base.ops });
    const env: SynthesizedEnvironment = { ...base, ...mutated, text: { ...base.text } };
    mutate(mutated[kind], env);
    expect(rule.check(contextOf(env, kind)).length).toBeGreaterThan(0);
  });
});

test('the tenant rules apply only to environments with tenants', () => {
  const tenantRules = LEAST_PRIVILEGE_RULES.filter((r) => r.name.startsWith('tenants: '));
  expect(tenantRules).toHaveLength(5);
  for (const env of environments) for (const rule of tenantRules) expect(rule.when?.(env)).toBe(env.profile.tenants.count > 0);
});

test('every profile is covered', () => {
  expect(environments.map((e) => e.profile.name)).toEqual(PROFILES.map((p) => p.name));
});

test('trust conditions: a service missing from the table is a violation, so a new role gets checked against its docs', () => {
  const json: StackJson = { data: { aws_caller_identity: { me: {} } } };
  const statement = { Principal: { Service: 'ecs-tasks.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.me.account_id}' } } };
  expect(trustConditionProblems(json, statement)).toEqual(['ecs-tasks.amazonaws.com: not in TRUST_CONDITIONS; find the keys it sends on its confused-deputy page and add it']);
  // rds.amazonaws.com for anything but an RDS Proxy of the stack is another trustee, not in the table.
  expect(trustConditionProblems(json, { Principal: { Service: 'rds.amazonaws.com' } }, 'some-role')).toEqual(['rds.amazonaws.com: not in TRUST_CONDITIONS; find the keys it sends on its confused-deputy page and add it']);
  const withProxy: StackJson = { ...json, resource: { aws_db_proxy: { p: { role_arn: '${aws_iam_role.proxy-role.arn}' } } } };
  expect(trustConditionProblems(withProxy, { Principal: { Service: 'rds.amazonaws.com' } }, 'proxy-role')).toEqual([]);
  expect(trustConditionProblems(withProxy, { Principal: { Service: 'rds.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.me.account_id}' } } }, 'proxy-role')).toEqual([
    expect.stringMatching(/^rds\.amazonaws\.com \(RDS Proxy\): condition key aws:SourceAccount is not one it is documented to send/),
  ]);
  const scheduler = (arn?: string) => ({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.me.account_id}' }, ...(arn ? { ArnLike: { 'aws:SourceArn': arn } } : {}) } });
  expect(trustConditionProblems(json, scheduler('arn:aws:scheduler:eu-west-1:${data.aws_caller_identity.me.account_id}:schedule-group/hits-dev'))).toEqual([]);
  expect(trustConditionProblems(json, scheduler())).toHaveLength(1);
  expect(trustConditionProblems(json, scheduler('arn:aws:scheduler:eu-west-1:999999999999:schedule-group/hits-dev'))).toHaveLength(1);
});
