/**
 * The parity comparer (tools/engine/compare.ts) and its allow-list (ALLOWED_DIFFERENCES): every allowed
 * difference passes, every other one is caught, whatever kind of leaf or file it is in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe as describeDifference, parityDifferences } from '../../tools/engine/compare';
import { diffJson } from '../../tools/review/lib/json-diff';
import { ALLOWED_DIFFERENCES, ENGINE_SPECIFIC, maskEngineDifferences } from '../../tools/engine/engines';

/** A small synth output as both engines write it, before any difference is introduced. */
function stackJson(): any {
  return {
    '//': { metadata: { backend: 'local', stackName: 'data-dev', version: '0.21.0' } },
    terraform: { backend: { local: { path: '../../../terraform.data-dev.tfstate' } }, required_providers: { aws: { source: 'hashicorp/aws', version: '6.25.0' } } },
    provider: { aws: [{ region: 'eu-west-1', default_tags: [{ tags: { ManagedBy: 'cdktf' } }] }] },
    locals: { 'memcached_node-endpoints_23395EE1': '${join(",", [ for key, val in aws_elasticache_cluster.c.cache_nodes: "${val.address}:${val.port}"])}' },
    resource: { aws_db_instance: { db: { engine: 'mysql', allocated_storage: 20, vpc_security_group_ids: ['${aws_security_group.a.id}', '${aws_security_group.b.id}'] } } },
  };
}

let dirs: string[] = [];
function writeOutput(edit: (files: { manifest: any; stack: any; zip: Buffer }) => void = () => {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-compare-'));
  dirs.push(dir);
  const files = { manifest: { stacks: { 'data-dev': { synthesizedStackPath: 'stacks/data-dev/cdk.tf.json' } }, version: '0.21.0' }, stack: stackJson(), zip: Buffer.from('PK zip bytes') };
  edit(files);
  fs.mkdirSync(path.join(dir, 'stacks', 'data-dev', 'assets', 'fn', 'ABC'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(files.manifest));
  fs.writeFileSync(path.join(dir, 'stacks', 'data-dev', 'cdk.tf.json'), JSON.stringify(files.stack));
  if (files.zip.length) fs.writeFileSync(path.join(dir, 'stacks', 'data-dev', 'assets', 'fn', 'ABC', 'archive.zip'), files.zip);
  return dir;
}
afterEach(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

const base = () => writeOutput();

test('identical outputs: no difference', () => {
  expect(parityDifferences(base(), base())).toEqual([]);
});

test('each allowed difference passes, and is still reported as allowed', () => {
  const other = writeOutput(({ manifest, stack }) => {
    manifest.version = '0.24.0';
    stack['//'].metadata.version = '0.24.0';
    stack.terraform.required_providers.aws.version = '6.66.0';
  });
  const differences = parityDifferences(base(), other);
  expect(differences.map((d) => [d.file, d.path.join('.'), d.allowed])).toEqual([
    ['manifest.json', 'version', true],
    ['stacks/data-dev/cdk.tf.json', '//.metadata.version', true],
    ['stacks/data-dev/cdk.tf.json', 'terraform.required_providers.aws.version', true],
  ]);
  // One per entry of the allow-list (whether the real engines still differ there, only npm run parity tells).
  expect(differences).toHaveLength(ALLOWED_DIFFERENCES.length);
});

test.each<[string, (f: { manifest: any; stack: any; zip: Buffer }) => void, string]>([
  ['the provider source (the difference stacks/base-stack.ts removes)', ({ stack }) => (stack.terraform.required_providers.aws.source = 'aws'), 'terraform.required_providers.aws.source'],
  ['the memcached endpoints local (the difference the module removes)', ({ stack }) => (stack.locals['memcached_node-endpoints_23395EE1'] = '${join(",", [ for key, val in { for key, val in x: val.id => val }: val.address])}'), 'locals.memcached_node-endpoints_23395EE1'],
  ['a resource argument', ({ stack }) => (stack.resource.aws_db_instance.db.allocated_storage = 21), 'resource.aws_db_instance.db.allocated_storage'],
  ['a number written as a string', ({ stack }) => (stack.resource.aws_db_instance.db.allocated_storage = '20'), 'resource.aws_db_instance.db.allocated_storage'],
  // A list of scalars is one leaf, as Terraform compares it.
  ['one element of a list of scalars', ({ stack }) => (stack.resource.aws_db_instance.db.vpc_security_group_ids[1] = '${aws_security_group.c.id}'), 'resource.aws_db_instance.db.vpc_security_group_ids'],
  ['a list element more', ({ stack }) => stack.resource.aws_db_instance.db.vpc_security_group_ids.push('sg-1'), 'resource.aws_db_instance.db.vpc_security_group_ids'],
  ['a block element more', ({ stack }) => stack.provider.aws.push({ region: 'us-east-1', alias: 'us' }), 'provider.aws.1'],
  ['a null where a value was', ({ stack }) => (stack.resource.aws_db_instance.db.engine = null), 'resource.aws_db_instance.db.engine'],
  ['a key more', ({ stack }) => (stack.resource.aws_db_instance.db.deletion_protection = true), 'resource.aws_db_instance.db.deletion_protection'],
  ['a key less', ({ stack }) => delete stack.provider.aws[0].region, 'provider.aws.0.region'],
  ['a resource more', ({ stack }) => (stack.resource.aws_db_instance.other = { engine: 'mysql' }), 'resource.aws_db_instance.other'],
  ['a tag', ({ stack }) => (stack.provider.aws[0].default_tags[0].tags.ManagedBy = 'cdktn'), 'provider.aws.0.default_tags.0.tags.ManagedBy'],
  ['an allowed leaf name in the wrong place (a stack-level version)', ({ stack }) => (stack.version = '0.24.0'), 'version'],
  ['a manifest stack entry', ({ manifest }) => (manifest.stacks['data-dev'].synthesizedStackPath = 'x'), 'stacks.data-dev.synthesizedStackPath'],
])('catches %s', (_title, edit, leaf) => {
  const differences = parityDifferences(base(), writeOutput(edit));
  expect(differences.map((d) => [d.path.join('.'), d.allowed])).toEqual([[leaf, false]]);
});

test('catches a function archive with other bytes, or on one side only', () => {
  const changed = parityDifferences(base(), writeOutput((f) => (f.zip = Buffer.from('PK other bytes'))));
  expect(changed.map((d) => [d.file, d.allowed])).toEqual([['stacks/data-dev/assets/fn/ABC/archive.zip', false]]);
  const missing = parityDifferences(base(), writeOutput((f) => (f.zip = Buffer.alloc(0))));
  expect(missing.map((d) => [d.file, d.a, d.b, d.allowed])).toEqual([['stacks/data-dev/assets/fn/ABC/archive.zip', 'present', 'missing', false]]);
  expect(describeDifference(missing[0])).toBe('stacks/data-dev/assets/fn/ABC/archive.zip: "present" → "missing"');
});

test('maskEngineDifferences masks exactly the allowed leaves of its file kind and leaves the input alone', () => {
  const stack = stackJson();
  const masked = maskEngineDifferences('stack', stack);
  expect(diffJson(stack, masked).map((d) => [d.segments.join('.'), d.after])).toEqual([
    ['//.metadata.version', ENGINE_SPECIFIC],
    ['terraform.required_providers.aws.version', ENGINE_SPECIFIC],
  ]);
  expect(stack.terraform.required_providers.aws.version).toBe('6.25.0');
  // A leaf that is not there is not added.
  expect(maskEngineDifferences('stack', { resource: {} })).toEqual({ resource: {} });
});
