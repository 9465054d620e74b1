import { TerraformOutput, TerraformStack, Testing, Token } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { MysqlDatabase, MysqlDatabaseProps } from '../../modules/mysql-database';
import { NodeFunction } from '../../modules/node-function';
import { RdsProxy, RdsProxyProps } from '../../modules/rds-proxy';
import { resources, single, StackJson } from '../support/synth';

type ProxyProps = Omit<RdsProxyProps, 'database'>;
const BASE: ProxyProps = { name: 'hits-test', subnetIds: ['subnet-a', 'subnet-b'] };
const DATABASE: MysqlDatabaseProps = { name: 'hits-test-db', vpcId: 'vpc-123', subnetIds: ['subnet-a', 'subnet-b'], monitoringIntervalSeconds: 0 };
const TRUST_LAMBDA = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/** A proxy in front of a MysqlDatabase of the same stack. */
function proxyIn(stack: TerraformStack, props: Partial<ProxyProps> = {}, database: Partial<MysqlDatabaseProps> = {}): RdsProxy {
  return new RdsProxy(stack, 'proxy', { ...BASE, database: new MysqlDatabase(stack, 'db', { ...DATABASE, ...database }), ...props });
}

function build(props: Partial<ProxyProps> = {}, extra?: (proxy: RdsProxy, stack: TerraformStack) => void, database: Partial<MysqlDatabaseProps> = {}): { proxy: RdsProxy; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const proxy = proxyIn(stack, props, database);
  extra?.(proxy, stack);
  return { proxy, json: JSON.parse(Testing.synth(stack)) };
}

const construct = (props: Partial<RdsProxyProps>) => () => proxyIn(new TerraformStack(Testing.app(), 'test'), props as Partial<ProxyProps>);
const groupRef = (json: StackJson, prefix: string) => `\${aws_security_group.${resources(json, 'aws_security_group').find(([, g]) => g.name_prefix === prefix)![0]}.id}`;
const sgRef = (json: StackJson) => groupRef(json, 'hits-test-rds-proxy-');
const dbSgRef = (json: StackJson) => groupRef(json, 'hits-test-db-mysql-');
const dbRef = (json: StackJson, attr: string) => `\${aws_db_instance.${resources(json, 'aws_db_instance')[0][0]}.${attr}}`;
const secretRef = (json: StackJson) => dbRef(json, 'master_user_secret[0].secret_arn');
const statements = (policy: string) => JSON.parse(policy).Statement as any[];

describe('RdsProxy props validation names the field', () => {
  test.each<[string, Partial<RdsProxyProps>, RegExp]>([
    ['empty name', { name: '' }, /RdsProxy: name/],
    ['name starting with a digit', { name: '1proxy' }, /name.*starting with a letter/],
    ['name with a double dash', { name: 'hits--test' }, /name/],
    ['name ending with a dash', { name: 'hits-' }, /name/],
    ['one subnet', { subnetIds: ['subnet-a'] }, /subnetIds.*at least 2/],
    ['a database that is not a MysqlDatabase construct (strings)', { database: 'hits-test-db' as never }, /RdsProxy: database must be a MysqlDatabase/],
    ['negative borrow timeout', { connectionBorrowTimeoutSeconds: -1 }, /connectionBorrowTimeoutSeconds.*0 to 3600/],
    ['max connections 101 %', { maxConnectionsPercent: 101 }, /maxConnectionsPercent.*1 to 100/],
    ['idle connections above max connections', { maxConnectionsPercent: 40, maxIdleConnectionsPercent: 50 }, /maxIdleConnectionsPercent.*0 to 40/],
    ['idle client timeout 0', { idleClientTimeoutSeconds: 0 }, /idleClientTimeoutSeconds/],
    ['idle client timeout over 8 h', { idleClientTimeoutSeconds: 28801 }, /idleClientTimeoutSeconds.*28800/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });

  test('grantConnect refuses an empty database user', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const proxy = proxyIn(stack);
    const role = new IamRole(stack, 'role', { assumeRolePolicy: TRUST_LAMBDA });
    expect(() => proxy.grantConnect(role, '')).toThrow(/grantConnect\(dbUser\)/);
  });
});

describe('RdsProxy defaults (per its props doc comments)', () => {
  const { proxy, json } = build();
  const dbProxy = single(json, 'aws_db_proxy');

  test('MySQL proxy requiring TLS, IAM auth REQUIRED over the secret, caching_sha2, idle client 1800 s, debug logging off', () => {
    expect(dbProxy).toMatchObject({ name: 'hits-test', engine_family: 'MYSQL', require_tls: true, idle_client_timeout: 1800, debug_logging: false, vpc_subnet_ids: ['subnet-a', 'subnet-b'] });
    expect(dbProxy.auth).toEqual([
      expect.objectContaining({ auth_scheme: 'SECRETS', secret_arn: secretRef(json), iam_auth: 'REQUIRED', client_password_auth_type: 'MYSQL_CACHING_SHA2_PASSWORD' }),
    ]);
    expect(dbProxy.vpc_security_group_ids).toEqual([sgRef(json)]);
  });

  test('pool: borrow timeout 5 s, 90 % max connections, 50 % idle; target on the instance', () => {
    expect(single(json, 'aws_db_proxy_default_target_group').connection_pool_config).toEqual({ connection_borrow_timeout: 5, max_connections_percent: 90, max_idle_connections_percent: 50 });
    expect(single(json, 'aws_db_proxy_target').db_instance_identifier).toBe(dbRef(json, 'identifier'));
  });

  test('role assumable by the plain rds.amazonaws.com principal (no condition RDS Proxy does not document), reading only the database secret', () => {
    const [roleName, role] = resources(json, 'aws_iam_role')[0];
    expect(resources(json, 'aws_iam_role')).toHaveLength(1);
    expect(dbProxy.role_arn).toBe(`\${aws_iam_role.${roleName}.arn}`);
    expect(statements(role.assume_role_policy)).toEqual([{ Effect: 'Allow', Principal: { Service: 'rds.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    expect(json.data?.aws_caller_identity).toBeUndefined();
    const policy = single(json, 'aws_iam_role_policy');
    expect(policy.role).toBe(`\${aws_iam_role.${roleName}.id}`);
    expect(statements(policy.policy)).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretRef(json) }),
    ]);
  });

  test('security group chain by reference: proxy egress 3306 to the database group, database ingress 3306 from the proxy group, no client rules by default', () => {
    const sg = resources(json, 'aws_security_group').find(([, g]) => g.name_prefix === 'hits-test-rds-proxy-')![1];
    expect(sg).toMatchObject({ vpc_id: 'vpc-123', description: expect.stringMatching(/\S/) });
    const proxySg = sgRef(json);
    const dbSg = dbSgRef(json);
    const ingress = resources(json, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r);
    const egress = resources(json, 'aws_vpc_security_group_egress_rule').map(([, r]) => r);
    expect(ingress).toEqual([expect.objectContaining({ security_group_id: dbSg, referenced_security_group_id: proxySg, ip_protocol: 'tcp', from_port: 3306, to_port: 3306 })]);
    expect(egress).toEqual([expect.objectContaining({ security_group_id: proxySg, referenced_security_group_id: dbSg, ip_protocol: 'tcp', from_port: 3306, to_port: 3306 })]);
    for (const rule of [...ingress, ...egress]) {
      expect(rule.description).toMatch(/\S/);
      expect(rule.cidr_ipv4).toBeUndefined();
      expect(rule.cidr_ipv6).toBeUndefined();
    }
  });

  test('typed attributes: endpoint, ARN, resource id and connect prefix are tokens; port is 3306', () => {
    for (const token of [proxy.endpoint, proxy.proxyArn, proxy.proxyName, proxy.resourceId, proxy.connectArnPrefix, proxy.securityGroupId, proxy.roleArn]) {
      expect(typeof token).toBe('string');
      expect(Token.isUnresolved(token)).toBe(true);
    }
    expect(proxy.port).toBe(3306);
    expect(proxy.connectArn('app_user')).toBe(`${proxy.connectArnPrefix}/app_user`);
  });
});

describe('RdsProxy helpers', () => {
  test('a second grant to the same grantee merges into its one policy (no duplicate construct id); a function is a grantee too', () => {
    let fnRole = '';
    const { json } = build({}, (proxy, stack) => {
      const role = new IamRole(stack, 'fn-role', { assumeRolePolicy: TRUST_LAMBDA });
      const first = proxy.grantConnect(role, 'app_user');
      expect(proxy.grantConnect(role, 'report_user')).toBe(first);
      expect(proxy.grantConnect(role, 'app_user')).toBe(first);
      const fn = new NodeFunction(stack, 'fn', { functionName: 'echo-test', entry: '__tests__/fixtures/echo-handler.ts', subnetIds: ['subnet-a'], securityGroupIds: ['sg-app'] });
      proxy.grantConnect(fn, 'app_user');
      fnRole = fn.role.node.path;
    });
    const prefixLocal = Object.keys(json.locals ?? {}).find((k) => k.startsWith('proxy_connect-arn-prefix'))!;
    const grants = resources(json, 'aws_iam_role_policy').filter(([, p]) => p.policy.includes('ConnectThroughProxy'));
    expect(grants.map(([, p]) => p.role).sort()).toEqual(['${aws_iam_role.fn-role.id}', `\${aws_iam_role.${resources(json, 'aws_iam_role').find(([, r]) => r.name === 'echo-test-lambda')![0]}.id}`].sort());
    const byRole = (role: string) => statements(grants.find(([, p]) => p.role === role)![1].policy);
    expect(byRole('${aws_iam_role.fn-role.id}')).toEqual([{ Sid: 'ConnectThroughProxy', Effect: 'Allow', Action: 'rds-db:connect', Resource: [`\${local.${prefixLocal}}/app_user`, `\${local.${prefixLocal}}/report_user`] }]);
    expect(fnRole).toBe('test/fn/role');
  });

  test('grantConnect writes rds-db:connect on <connectArnPrefix>/<user>, and nothing else', () => {
    const { json } = build({}, (proxy, stack) => {
      const role = new IamRole(stack, 'fn-role', { assumeRolePolicy: TRUST_LAMBDA });
      proxy.grantConnect(role, 'app_user');
    });
    const grants = resources(json, 'aws_iam_role_policy').filter(([, p]) => p.policy.includes('rds-db:connect'));
    expect(grants).toHaveLength(1);
    const [, grant] = grants[0];
    expect(grant.role).toBe('${aws_iam_role.fn-role.id}');
    const prefixLocal = Object.keys(json.locals ?? {}).find((k) => k.startsWith('proxy_connect-arn-prefix'))!;
    expect(statements(grant.policy)).toEqual([{ Sid: 'ConnectThroughProxy', Effect: 'Allow', Action: 'rds-db:connect', Resource: `\${local.${prefixLocal}}/app_user` }]);
  });

  test('the connect prefix is arn:<partition>:rds-db:<region>:<account>:dbuser:<prx id>, element 6 of the proxy ARN', () => {
    const { json } = build();
    const locals = json.locals ?? {};
    const [proxyName] = resources(json, 'aws_db_proxy')[0];
    const idLocal = Object.keys(locals).find((k) => k.startsWith('proxy_resource-id'))!;
    const prefixLocal = Object.keys(locals).find((k) => k.startsWith('proxy_connect-arn-prefix'))!;
    const split = `split(":", aws_db_proxy.${proxyName}.arn)`;
    expect(locals[idLocal]).toBe(`\${element(${split}, 6)}`);

    // Evaluate the format() against a real proxy ARN: a wrong element index or pattern gives a wrong ARN.
    const m = /^\$\{format\("([^"]+)", (.+)\)\}$/.exec(locals[prefixLocal]);
    expect(m).not.toBeNull();
    const [, pattern, args] = m!;
    expect(pattern).toBe('arn:%s:rds-db:%s:%s:dbuser:%s');
    const arn = 'arn:aws-cn:rds:cn-north-1:123456789012:db-proxy:prx-0a1b2c3d4e5f67890'.split(':');
    const values = args.split(/, (?=element|local)/).map((arg) => {
      const el = new RegExp(`^element\\(${split.replace(/[().]/g, '\\$&')}, (\\d+)\\)$`).exec(arg);
      if (el) return arn[Number(el[1])];
      if (arg === `local.${idLocal}`) return arn[6];
      throw new Error(`unexpected format argument ${arg}`);
    });
    let i = 0;
    expect(pattern.replace(/%s/g, () => values[i++])).toBe('arn:aws-cn:rds-db:cn-north-1:123456789012:dbuser:prx-0a1b2c3d4e5f67890');
    expect(i).toBe(values.length);
  });

  test('grantConnect puts the policy beside the role, in the role stack, reading the prefix across stacks', () => {
    const app = Testing.app();
    const data = new TerraformStack(app, 'data');
    const api = new TerraformStack(app, 'api');
    const proxy = proxyIn(data);
    const role = new IamRole(api, 'fn-role', { assumeRolePolicy: TRUST_LAMBDA });
    proxy.grantConnect(role, 'app_user');
    // What app.synth() does before writing: resolving references across stacks adds the outputs and remote state.
    for (const stack of [data, api]) stack.prepareStack();
    const dataJson: StackJson = JSON.parse(Testing.synth(data));
    const apiJson: StackJson = JSON.parse(Testing.synth(api));
    expect(resources(dataJson, 'aws_iam_role_policy').filter(([, p]) => p.policy.includes('rds-db:connect'))).toEqual([]);
    const grant = single(apiJson, 'aws_iam_role_policy');
    const resource: string = statements(grant.policy)[0].Resource;
    const m = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-data\.outputs\.([^}]+)\}\/app_user$/.exec(resource);
    expect(m).not.toBeNull();
    const prefixLocal = Object.keys(dataJson.locals ?? {}).find((k) => k.startsWith('proxy_connect-arn-prefix'))!;
    expect(dataJson.output?.[m![1]].value).toBe(`\${local.${prefixLocal}}`);
  });

  test('allowConnectionsFrom writes an ingress + egress pair on the port, by group reference', () => {
    const { json } = build({}, (proxy) => proxy.allowConnectionsFrom('sg-app', 'app'));
    const proxySg = sgRef(json);
    const ingress = resources(json, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r).filter((r) => r.security_group_id === proxySg);
    const egress = resources(json, 'aws_vpc_security_group_egress_rule').map(([, r]) => r).filter((r) => r.security_group_id === 'sg-app');
    expect(ingress).toEqual([expect.objectContaining({ referenced_security_group_id: 'sg-app', ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: expect.stringMatching(/\S/) })]);
    expect(egress).toEqual([expect.objectContaining({ referenced_security_group_id: proxySg, ip_protocol: 'tcp', from_port: 3306, to_port: 3306, description: expect.stringMatching(/\S/) })]);
  });

  test('allowConnectionsFrom with a scope: the pair in the scope\'s stack, on this group read across stacks', () => {
    const app = Testing.app();
    const data = new TerraformStack(app, 'data');
    const api = new TerraformStack(app, 'api');
    const proxy = proxyIn(data);
    const rules = proxy.allowConnectionsFrom('sg-client', 'later', undefined, api);
    for (const stack of [data, api]) stack.prepareStack();
    const dataJson: StackJson = JSON.parse(Testing.synth(data));
    const apiJson: StackJson = JSON.parse(Testing.synth(api));
    expect(rules.egress.node.scope).toBe(api);
    expect(resources(dataJson, 'aws_vpc_security_group_egress_rule').filter(([, r]) => r.security_group_id === 'sg-client')).toEqual([]);
    const ingress = single(apiJson, 'aws_vpc_security_group_ingress_rule');
    const proxyGroup = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-data\.outputs\.([^}]+)\}$/.exec(ingress.security_group_id)!;
    expect(dataJson.output?.[proxyGroup[1]].value).toBe(sgRef(dataJson));
    expect(ingress).toMatchObject({ referenced_security_group_id: 'sg-client', from_port: 3306, to_port: 3306, description: 'Clients to the RDS Proxy on 3306' });
    expect(single(apiJson, 'aws_vpc_security_group_egress_rule')).toMatchObject({ security_group_id: 'sg-client', referenced_security_group_id: ingress.security_group_id });
  });

  test('clientSecurityGroupIds opens one pair per client group', () => {
    const { json } = build({ clientSecurityGroupIds: ['sg-one', 'sg-two'] });
    const proxySg = sgRef(json);
    const ingress = resources(json, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r).filter((r) => r.security_group_id === proxySg);
    expect(ingress.map((r) => r.referenced_security_group_id).sort()).toEqual(['sg-one', 'sg-two']);
    const egress = resources(json, 'aws_vpc_security_group_egress_rule').map(([, r]) => r).filter((r) => r.referenced_security_group_id === proxySg);
    expect(egress.map((r) => r.security_group_id).sort()).toEqual(['sg-one', 'sg-two']);
  });

  test('a customer-managed key on the database secret adds kms:Decrypt on that key, through Secrets Manager only', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { json } = build({}, undefined, { masterUserSecretKmsKeyArn: key });
    expect(statements(single(json, 'aws_iam_role_policy').policy)).toEqual([
      expect.objectContaining({ Resource: secretRef(json) }),
      { Sid: 'DecryptDatabaseSecret', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.${data.aws_region.region.region}.amazonaws.com' } } },
    ]);
  });

  test('pool, timeout and auth-type props reach the JSON', () => {
    const { json } = build({ connectionBorrowTimeoutSeconds: 3, maxConnectionsPercent: 60, maxIdleConnectionsPercent: 10, idleClientTimeoutSeconds: 600, debugLogging: true, clientPasswordAuthType: 'MYSQL_NATIVE_PASSWORD' });
    expect(single(json, 'aws_db_proxy_default_target_group').connection_pool_config).toEqual({ connection_borrow_timeout: 3, max_connections_percent: 60, max_idle_connections_percent: 10 });
    expect(single(json, 'aws_db_proxy')).toMatchObject({ idle_client_timeout: 600, debug_logging: true, auth: [expect.objectContaining({ client_password_auth_type: 'MYSQL_NATIVE_PASSWORD' })] });
  });

  test('the endpoint resolves to the proxy endpoint attribute', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const proxy = proxyIn(stack);
    new TerraformOutput(stack, 'endpoint', { value: proxy.endpoint });
    expect(JSON.parse(Testing.synth(stack)).output.endpoint.value).toMatch(/^\$\{aws_db_proxy\.[^.]+\.endpoint\}$/);
  });
});

test('the proxy waits for its read-secret policy, so its first connection to the database can read the secret', () => {
  const { json } = build();
  const [policyName] = resources(json, 'aws_iam_role_policy')[0];
  expect(single(json, 'aws_db_proxy').depends_on).toContain(`aws_iam_role_policy.${policyName}`);
});

describe('end-to-end IAM user patterns and the secrets fallback', () => {
  test('a trailing "*" grants the proxy role rds-db:connect on every user with that prefix', () => {
    const { json } = build({ endToEndIam: { users: ['hits_app', 'tenant_*'] } });
    const policy = resources(json, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_connect-to-database'))![1];
    expect(statements(policy.policy)[0].Resource.map((r: string) => r.replace(/^.*\//, ''))).toEqual(['hits_app', 'tenant_*']);
  });

  test.each(['tenant*_', '*', 'tenant_**', `${'a'.repeat(33)}*`])('refuses the user pattern %s, naming the field', (user) => {
    expect(construct({ endToEndIam: { users: [user] } })).toThrow(/RdsProxy: endToEndIam.users/);
  });

  test(`user secrets: up to the AWS limit an auth entry each (read by the role); one more is refused naming the limit`, () => {
    const arns = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenant_${i}`);
    const { json } = build({ userSecretArns: arns(199) });
    const proxy = single(json, 'aws_db_proxy');
    expect(proxy.auth).toHaveLength(200);
    expect(proxy.auth.slice(1).every((a: any) => a.auth_scheme === 'SECRETS' && a.iam_auth === 'REQUIRED')).toBe(true);
    const read = resources(json, 'aws_iam_role_policy').find(([n]) => n.startsWith('proxy_read-secret'))![1];
    expect(statements(read.policy)[0].Resource).toHaveLength(200);
    expect(construct({ userSecretArns: arns(200) })).toThrow(/RdsProxy: userSecretArns .*201, above AWS's limit of 200 Secrets Manager secrets per RDS proxy \(https:\/\/docs\.aws\.amazon\.com\/AmazonRDS\/latest\/UserGuide\/rds-proxy\.html#rds-proxy\.limitations\)/);
  });

  test('user secrets are refused with end-to-end IAM, which needs none', () => {
    expect(construct({ endToEndIam: { users: ['hits_app'] }, userSecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:x'] })).toThrow(/RdsProxy: userSecretArns must be empty with endToEndIam/);
  });
});
