import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { TerraformStack, Testing, Token } from 'cdktf';
import { strFromU8, unzipSync } from 'fflate';
import { bundleFunction } from '../../modules/bundle';
import { NodeFunction, NodeFunctionProps } from '../../modules/node-function';
import { resources, single, StackJson } from '../support/synth';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = '__tests__/fixtures/echo-handler.ts';
const BASE: NodeFunctionProps = { functionName: 'echo-test', entry: ENTRY, subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-app'] };

function build(props: Partial<NodeFunctionProps> = {}, extra?: (fn: NodeFunction) => void): { fn: NodeFunction; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const fn = new NodeFunction(stack, 'echo', { ...BASE, ...props });
  extra?.(fn);
  return { fn, json: JSON.parse(Testing.synth(stack)) };
}

const construct = (props: Partial<NodeFunctionProps>) => () => new NodeFunction(new TerraformStack(Testing.app(), 'test'), 'echo', { ...BASE, ...props } as NodeFunctionProps);

describe('NodeFunction props validation names the field', () => {
  test.each<[string, Partial<NodeFunctionProps>, RegExp]>([
    ['empty functionName', { functionName: '' }, /NodeFunction: functionName/],
    ['functionName with a space', { functionName: 'echo test' }, /functionName.*letters, digits, dashes or underscores/],
    ['65-character functionName', { functionName: 'f'.repeat(65) }, /functionName/],
    ['empty entry', { entry: '' }, /entry/],
    ['missing entry file', { entry: '__tests__/fixtures/no-such-handler.ts' }, /entry.*existing file.*no-such-handler/],
    ['no subnets', { subnetIds: [] }, /subnetIds.*at least 1/],
    ['no security groups', { securityGroupIds: [] }, /securityGroupIds/],
    ['64 MB of memory', { memoryMb: 64 }, /memoryMb.*128 to 10240/],
    ['timeout over 15 minutes', { timeoutSeconds: 901 }, /timeoutSeconds.*1 to 900/],
    ['timeout 0', { timeoutSeconds: 0 }, /timeoutSeconds/],
    ['negative reserved concurrency', { reservedConcurrency: -1 }, /reservedConcurrency/],
    ['bad log retention', { logRetentionDays: 2 }, /logRetentionDays.*one of/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });

  test('grantSecretRead refuses an empty ARN', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const fn = new NodeFunction(stack, 'echo', BASE);
    expect(() => fn.grantSecretRead('')).toThrow(/grantSecretRead\(secretArn\)/);
  });
});

describe('NodeFunction defaults (per its props doc comments)', () => {
  const { fn, json } = build();
  const lambda = single(json, 'aws_lambda_function');
  const [logGroupName, logGroup] = resources(json, 'aws_cloudwatch_log_group')[0];
  const [roleName, role] = resources(json, 'aws_iam_role')[0];

  test('the runtime of modules/bundle.ts (nodejs24.x) on arm64, handler index.handler, 512 MB, 10 s, tracing Active, no reserved concurrency', () => {
    expect(lambda).toMatchObject({
      function_name: 'echo-test',
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      memory_size: 512,
      timeout: 10,
      tracing_config: { mode: 'Active' },
      role: `\${aws_iam_role.${roleName}.arn}`,
    });
    expect(lambda.reserved_concurrent_executions).toBeUndefined();
  });

  test('in the VPC: the given subnets and security groups', () => {
    expect(lambda.vpc_config).toEqual({ subnet_ids: ['subnet-a', 'subnet-b'], security_group_ids: ['sg-app'] });
  });

  test('its own log group /aws/lambda/<name>, kept 14 days, created before the function', () => {
    expect(logGroup).toEqual(expect.objectContaining({ name: '/aws/lambda/echo-test', retention_in_days: 14 }));
    expect(lambda.logging_config.log_group).toBe(`\${aws_cloudwatch_log_group.${logGroupName}.name}`);
    expect(lambda.depends_on).toEqual(expect.arrayContaining([`aws_cloudwatch_log_group.${logGroupName}`]));
  });

  test('role: trusted by lambda.amazonaws.com, only the VPC-access and X-Ray managed policies, no inline policy', () => {
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.caller-identity.account_id}' } } }]);
    const attachments = resources(json, 'aws_iam_role_policy_attachment').map(([, a]) => a);
    expect(attachments.map((a) => a.policy_arn).sort()).toEqual([
      'arn:${data.aws_partition.partition.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess',
      'arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
    ]);
    expect(attachments.every((a) => a.role === `\${aws_iam_role.${roleName}.name}`)).toBe(true);
    expect(resources(json, 'aws_iam_role_policy')).toEqual([]);
    // ENI permissions must exist before Lambda creates interfaces in the VPC.
    for (const [name] of resources(json, 'aws_iam_role_policy_attachment')) expect(lambda.depends_on).toContain(`aws_iam_role_policy_attachment.${name}`);
  });

  test('no environment block when no variables are given', () => {
    expect(lambda.environment).toBeUndefined();
  });

  test('code from a relative asset archive, hashed by Terraform', () => {
    expect(lambda.filename).toMatch(/^assets\/[^/]+\/[0-9A-F]{32}\/archive\.zip$/);
    expect(lambda.source_code_hash).toBe(`\${filebase64sha256("${lambda.filename}")}`);
  });

  test('typed attributes are tokens; bundleSha256 is the sha256 of the index.js inside the archive', () => {
    for (const token of [fn.functionName, fn.functionArn, fn.invokeArn, fn.logGroupName]) {
      expect(typeof token).toBe('string');
      expect(Token.isUnresolved(token)).toBe(true);
    }
    expect(fn.role.node.id).toBe('role');
    expect(fn.bundleSha256).toMatch(/^[0-9a-f]{64}$/);
    const files = unzipSync(fs.readFileSync(bundleFunction(ENTRY).archivePath));
    expect(Object.keys(files)).toEqual(['index.js']);
    expect(createHash('sha256').update(files['index.js']).digest('hex')).toBe(fn.bundleSha256);
  });
});

describe('NodeFunction bundle', () => {
  test('the bundle is minified CJS without machine paths, and its handler runs', async () => {
    const { fn } = build();
    const code = strFromU8(unzipSync(fs.readFileSync(bundleFunction(ENTRY).archivePath))['index.js']);
    expect(createHash('sha256').update(code).digest('hex')).toBe(fn.bundleSha256);
    expect(code).not.toContain(ROOT);
    expect(code.split('\n').length).toBeLessThanOrEqual(3);
    const mod = { exports: {} as { handler?: (e: unknown) => Promise<{ statusCode: number; body: string }> } };
    new Function('module', 'exports', 'require', code)(mod, mod.exports, require);
    await expect(mod.exports.handler!({ rawPath: '/x' })).resolves.toEqual({ statusCode: 200, body: '{"echo":"/x"}' });
  });

  test('deterministic: a fresh module registry (so esbuild runs again) gives the same bundleSha256 and asset path', () => {
    const first = build();
    let again: { bundleSha256: string; filename: string } | undefined;
    jest.isolateModules(() => {
      // Fresh copies of cdktf, the module and its bundle cache: nothing is reused from the first construction.
      const cdktf: typeof import('cdktf') = require('cdktf');
      const { NodeFunction: FreshNodeFunction }: typeof import('../../modules/node-function') = require('../../modules/node-function');
      const stack = new cdktf.TerraformStack(cdktf.Testing.app(), 'test');
      const fresh = new FreshNodeFunction(stack, 'echo', BASE);
      again = { bundleSha256: fresh.bundleSha256, filename: single(JSON.parse(cdktf.Testing.synth(stack)), 'aws_lambda_function').filename };
    });
    expect(again).toEqual({ bundleSha256: first.fn.bundleSha256, filename: single(first.json, 'aws_lambda_function').filename });
  });

  test('an absolute entry (as the stacks pass) gives the same bundle and asset as the working-directory-relative one', () => {
    const relative = build();
    const absolute = build({ entry: path.join(ROOT, ENTRY) });
    expect(absolute.fn.bundleSha256).toBe(relative.fn.bundleSha256);
    expect(single(absolute.json, 'aws_lambda_function').filename).toBe(single(relative.json, 'aws_lambda_function').filename);
    expect(JSON.stringify(absolute.json)).not.toContain(ROOT);
  });

  test('a different entry gives a different bundle hash', () => {
    const other = build({ entry: 'modules/validation.ts' }).fn.bundleSha256;
    expect(other).not.toBe(build().fn.bundleSha256);
  });
});

describe('NodeFunction options and helpers', () => {
  test('environment, memory, timeout, reserved concurrency, x86_64, PassThrough and retention reach the JSON', () => {
    const { json } = build({
      environment: { A: '1', B: 'two' },
      memoryMb: 1024,
      timeoutSeconds: 20,
      reservedConcurrency: 100,
      architecture: 'x86_64',
      tracingMode: 'PassThrough',
      logRetentionDays: 365,
    });
    expect(single(json, 'aws_lambda_function')).toMatchObject({
      environment: { variables: { A: '1', B: 'two' } },
      memory_size: 1024,
      timeout: 20,
      reserved_concurrent_executions: 100,
      architectures: ['x86_64'],
      tracing_config: { mode: 'PassThrough' },
    });
    expect(single(json, 'aws_cloudwatch_log_group').retention_in_days).toBe(365);
  });

  test('grantSecretRead allows secretsmanager:GetSecretValue on that one secret only', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';
    const { json } = build({}, (fn) => fn.grantSecretRead(secret));
    const [roleName] = resources(json, 'aws_iam_role')[0];
    const policy = single(json, 'aws_iam_role_policy');
    expect(policy.role).toBe(`\${aws_iam_role.${roleName}.id}`);
    expect(JSON.parse(policy.policy).Statement).toEqual([{ Sid: 'ReadSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secret }]);
  });
});

test('addEnvironment adds variables after construction and refuses to override one already set', () => {
  const stack = new TerraformStack(Testing.app(), 'test');
  const fn = new NodeFunction(stack, 'fn', { ...BASE, environment: { A: '1' } });
  fn.addEnvironment({ B: '2' });
  expect(() => fn.addEnvironment({ A: 'other' })).toThrow(/NodeFunction: addEnvironment\(A\) is already set/);
  expect(single(JSON.parse(Testing.synth(stack)), 'aws_lambda_function').environment.variables).toEqual({ A: '1', B: '2' });
});
