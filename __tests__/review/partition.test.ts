/** The synth comparison treats an ARN that reads the partition as the same value as the literal `arn:aws:` it replaces. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareSynthOutputs, samePartitionValue } from '../../tools/review/lib/synth-diff';

const PARTITION = '${data.aws_partition.partition.partition}';

function synthOutput(dir: string, attachments: Record<string, Record<string, unknown>>): string {
  const stackDir = path.join(dir, 'stacks', 'api-x');
  fs.mkdirSync(stackDir, { recursive: true });
  fs.writeFileSync(path.join(stackDir, 'cdk.tf.json'), JSON.stringify({ resource: { aws_iam_role_policy_attachment: attachments } }));
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({ stacks: { 'api-x': { name: 'api-x', dependencies: [], workingDirectory: 'stacks/api-x', synthesizedStackPath: 'stacks/api-x/cdk.tf.json' } } }),
  );
  return dir;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-partition-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('a managed-policy ARN moved from arn:aws: to the partition data source is no change', () => {
  const base = synthOutput(path.join(work, 'base-1'), { vpc: { role: 'r', policy_arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' } });
  const head = synthOutput(path.join(work, 'head-1'), { vpc: { role: 'r', policy_arn: `arn:${PARTITION}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole` } });
  const report = compareSynthOutputs(base, head);
  expect(report.stacks.map((s) => `${s.stack}:${s.status}`)).toEqual(['api-x:unchanged']);
});

test('a different policy behind the partition reference is still a replacement', () => {
  const base = synthOutput(path.join(work, 'base-2'), { vpc: { role: 'r', policy_arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' } });
  const head = synthOutput(path.join(work, 'head-2'), { vpc: { role: 'r', policy_arn: `arn:${PARTITION}:iam::aws:policy/AWSXRayDaemonWriteAccess` } });
  const [stack] = compareSynthOutputs(base, head).stacks;
  expect(stack.changes.map((c) => `${c.action} ${c.address}`)).toEqual(['replace aws_iam_role_policy_attachment.vpc']);
});

test('only the partition segment may differ, and only against the literal aws', () => {
  expect(samePartitionValue(`arn:${PARTITION}:sns:eu-west-1:1:t`, 'arn:aws:sns:eu-west-1:1:t')).toBe(true);
  expect(samePartitionValue('arn:aws:sns:eu-west-1:1:t', `arn:${PARTITION}:sns:eu-west-1:1:t`)).toBe(true);
  expect(samePartitionValue(`arn:${PARTITION}:sns:eu-west-1:1:t`, 'arn:aws-cn:sns:eu-west-1:1:t')).toBe(false);
  expect(samePartitionValue(`arn:${PARTITION}:sns:eu-west-1:1:t`, 'arn:aws:sns:eu-west-1:1:other')).toBe(false);
  expect(samePartitionValue('arn:aws:sns:eu-west-1:1:t', 'arn:aws:sns:eu-west-1:1:t')).toBe(false);
});
