/**
 * The offline review shows what `terraform init` would install differently: a stack's required provider
 * changing version or source address (an engine switch: AWS provider 6.25.0 → 6.66.0), in the Markdown and
 * the JSON report. Two spellings of one address (`aws`, `hashicorp/aws`) are no change.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderMarkdown } from '../../tools/review/lib/render';
import { compareSynthOutputs, fullSourceAddress } from '../../tools/review/lib/synth-diff';
import { exitCodeOf, toJson } from '../../tools/review/types';

type Providers = Record<string, { source: string; version?: string }>;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-providers-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;

/** A synth output whose stacks each require `providers` and hold one unchanging resource. */
function synthOutput(stacks: Record<string, Providers>): string {
  const dir = path.join(work, String(n++));
  const manifest: Record<string, unknown> = {};
  for (const [name, providers] of Object.entries(stacks)) {
    fs.mkdirSync(path.join(dir, 'stacks', name), { recursive: true });
    const json = { terraform: { required_providers: providers }, resource: { aws_sns_topic: { alarms: { name: 'alarms' } } } };
    fs.writeFileSync(path.join(dir, 'stacks', name, 'cdk.tf.json'), JSON.stringify(json));
    manifest[name] = { name, dependencies: [], workingDirectory: `stacks/${name}`, synthesizedStackPath: `stacks/${name}/cdk.tf.json` };
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ stacks: manifest }));
  return dir;
}

const cdktf = { aws: { source: 'aws', version: '6.25.0' } };
const cdktn = { aws: { source: 'hashicorp/aws', version: '6.66.0' } };

test('an engine switch: each stack shows the provider upgrade, in the Markdown once for all stacks, and in the JSON per stack', () => {
  const report = compareSynthOutputs(synthOutput({ 'network-dev': cdktf, 'data-dev': cdktf }), synthOutput({ 'network-dev': cdktn, 'data-dev': cdktn }));
  expect(report.stacks.map((s) => [s.stack, s.status, s.changes.length])).toEqual([
    ['data-dev', 'changed', 0],
    ['network-dev', 'changed', 0],
  ]);
  expect(exitCodeOf(report)).toBe(2);
  const markdown = renderMarkdown(report);
  expect(markdown).toContain('2 of 2 stacks with changes');
  expect(markdown).toContain('- provider `aws`: `6.25.0` → `6.66.0`, source `aws` → `hashicorp/aws` in 2 stacks: `data-dev`, `network-dev`');
  expect(markdown).not.toContain('No changes');
  const json = toJson(report) as { stacks: Array<{ stack: string; providers?: unknown }> };
  expect(json.stacks.map((s) => s.providers)).toEqual([
    [{ name: 'aws', before: { source: 'aws', version: '6.25.0' }, after: { source: 'hashicorp/aws', version: '6.66.0' } }],
    [{ name: 'aws', before: { source: 'aws', version: '6.25.0' }, after: { source: 'hashicorp/aws', version: '6.66.0' } }],
  ]);
});

test('the same provider spelt in full (aws → hashicorp/aws, same version) is no change: exit 0, nothing shown', () => {
  const report = compareSynthOutputs(synthOutput({ 'api-dev': cdktf }), synthOutput({ 'api-dev': { aws: { source: 'hashicorp/aws', version: '6.25.0' } } }));
  expect(report.stacks.map((s) => [s.status, s.providers])).toEqual([['unchanged', undefined]]);
  expect(exitCodeOf(report)).toBe(0);
  expect(renderMarkdown(report)).not.toContain('provider');
  expect(toJson(report)).toEqual({ source: 'synth', stacks: [{ stack: 'api-dev', status: 'unchanged', changes: [] }] });
});

test.each<[string, Providers, Providers, string]>([
  ['a version alone', cdktn, { aws: { source: 'hashicorp/aws', version: '6.67.0' } }, 'provider `aws`: `6.66.0` → `6.67.0` in stack `api-dev`'],
  ['another namespace at the same version', cdktn, { aws: { source: 'opentofu/aws', version: '6.66.0' } }, 'provider `aws`: source `hashicorp/aws` → `opentofu/aws` in stack `api-dev`'],
  ['a provider added', cdktn, { ...cdktn, random: { source: 'hashicorp/random', version: '3.7.2' } }, 'provider `random` added: `hashicorp/random` `3.7.2` in stack `api-dev`'],
  ['a provider removed', { ...cdktn, random: { source: 'hashicorp/random' } }, cdktn, 'provider `random` removed (was `hashicorp/random`) in stack `api-dev`'],
])('%s', (_t, before, after, line) => {
  const report = compareSynthOutputs(synthOutput({ 'api-dev': before }), synthOutput({ 'api-dev': after }));
  expect(report.stacks[0].status).toBe('changed');
  expect(renderMarkdown(report)).toContain(`- ${line}`);
});

test('a stack created or deleted whole carries no provider line: its resources say it all', () => {
  const report = compareSynthOutputs(synthOutput({ 'api-dev': cdktf }), synthOutput({ 'api-dev': cdktf, 'ops-dev': cdktn }));
  expect(report.stacks.map((s) => [s.stack, s.status, s.providers])).toEqual([
    ['api-dev', 'unchanged', undefined],
    ['ops-dev', 'added', undefined],
  ]);
});

test('fullSourceAddress: Terraform’s defaults for the registry host and namespace', () => {
  expect(fullSourceAddress('aws')).toBe('registry.terraform.io/hashicorp/aws');
  expect(fullSourceAddress('hashicorp/aws')).toBe('registry.terraform.io/hashicorp/aws');
  expect(fullSourceAddress('HashiCorp/AWS')).toBe('registry.terraform.io/hashicorp/aws');
  expect(fullSourceAddress('registry.opentofu.org/hashicorp/aws')).toBe('registry.opentofu.org/hashicorp/aws');
  expect(fullSourceAddress('opentofu/aws')).toBe('registry.terraform.io/opentofu/aws');
});
