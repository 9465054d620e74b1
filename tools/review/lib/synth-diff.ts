import * as fs from 'fs';
import * as path from 'path';
import { diffJson, formatPath } from './json-diff';
import { deployOrder, readManifest, StackManifest } from './manifest';
import { isSensitiveName, MASK } from './mask';
import { forcedReplacements, REPLACEMENT_ATTRIBUTES } from './replacement-attributes';
import { risksOf } from './risks';
import { AttributeDetail, Change, ProviderChange, ProviderRequirement, Report, StackReport } from '../types';

type StackJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value?: unknown; sensitive?: boolean }>;
  terraform?: { required_providers?: Record<string, ProviderRequirement> };
};

/** Keys cdktf writes that are not resource arguments: construct metadata and ordering edges. */
const NOT_ARGUMENTS = new Set(['//', 'depends_on']);
/** cdktf's plumbing outputs for cross-stack references: their changes show up where they are read. */
const CROSS_STACK_OUTPUT = /^cross-stack-output-/;
/**
 * An ARN this code writes with the deploying account's partition (`arn:${data.aws_partition.<id>.partition}:…`).
 * Terraform reads the data source at plan time, so on the standard partition the value equals the literal
 * `arn:aws:…` an older revision wrote: no change, and above all no replacement (a `policy_arn` forces one).
 */
const PARTITION_REFERENCE = /\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}/g;

/** True when `before` and `after` differ only where one reads the partition and the other says `aws`. */
export function samePartitionValue(before: unknown, after: unknown): boolean {
  if (typeof before !== 'string' || typeof after !== 'string') return false;
  const asAws = (value: string) => value.replace(PARTITION_REFERENCE, 'aws');
  return before !== after && asAws(before) === asAws(after);
}

/** The Lambda arguments that carry a bundle's identity: shown as "function code changed", never as a hash. */
const CODE_ATTRIBUTES = new Set(['filename', 's3_key', 'source_code_hash', 'image_uri']);

interface SynthTree {
  readonly outDir: string;
  readonly stacks: Map<string, StackManifest>;
}

function loadTree(outDir: string): SynthTree {
  return { outDir, stacks: readManifest(outDir) };
}

function readStack(tree: SynthTree, name: string): StackJson {
  const stack = tree.stacks.get(name);
  if (!stack) return {};
  return JSON.parse(fs.readFileSync(path.join(tree.outDir, stack.synthesizedStackPath), 'utf8')) as StackJson;
}

function argumentsOf(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !NOT_ARGUMENTS.has(k)));
}

/** Size of the file an asset path (relative to the stack's working directory) names, if it exists. */
function assetSize(tree: SynthTree, stackName: string, file: unknown): number | undefined {
  const stack = tree.stacks.get(stackName);
  if (!stack || typeof file !== 'string' || file.includes('${')) return undefined;
  const full = path.join(tree.outDir, stack.workingDirectory, file);
  return fs.existsSync(full) ? fs.statSync(full).size : undefined;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return 'unknown size';
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function maskDetail(p: string, before: unknown, after: unknown, sensitive: boolean): AttributeDetail {
  const hide = sensitive || isSensitiveName(p);
  return { path: p, before: hide && before !== undefined ? MASK : before, after: hide && after !== undefined ? MASK : after };
}

function resourceChange(
  base: SynthTree,
  head: SynthTree,
  stack: string,
  type: string,
  name: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Change | undefined {
  const address = `${type}.${name}`;
  if (!before || !after) {
    const action = before ? 'delete' : 'create';
    return { address, type, action, attributes: [], risks: risksOf(type, action, []) };
  }
  const b = argumentsOf(before);
  const a = argumentsOf(after);
  const differences = diffJson(b, a).filter((d) => !samePartitionValue(d.before, d.after));
  if (differences.length === 0) return undefined;
  const paths = differences.map((d) => formatPath(d.segments));
  const notes: string[] = [];
  const forced = forcedReplacements(type, paths, b, a);
  if (!forced) notes.push(`no entry for ${type} in the replacement table: shown as an update, check the plan`);
  notes.push(...(forced?.reasons ?? []));
  const action = forced && forced.paths.length > 0 ? 'replace' : 'update';
  const codeChanged = type === 'aws_lambda_function' && paths.some((p) => CODE_ATTRIBUTES.has(p));
  if (codeChanged) {
    const sizeBefore = assetSize(base, stack, b.filename);
    const sizeAfter = assetSize(head, stack, a.filename);
    const delta = sizeBefore !== undefined && sizeAfter !== undefined ? `, ${sizeAfter >= sizeBefore ? '+' : '−'}${Math.abs(sizeAfter - sizeBefore).toLocaleString('en-US')} bytes` : '';
    notes.push(`function code changed (bundle ${formatBytes(sizeBefore)} → ${formatBytes(sizeAfter)} zipped${delta})`);
  }
  const details = differences
    .filter((d) => !(codeChanged && CODE_ATTRIBUTES.has(formatPath(d.segments))))
    .map((d) => maskDetail(formatPath(d.segments), d.before, d.after, false));
  const valuesForRisk = /parameter_group/.test(type) ? differences.flatMap((d) => [d.before, d.after]) : [];
  const attributes = [...new Set([...(forced?.paths ?? []), ...paths])];
  return { address, type, action, attributes, risks: risksOf(type, action, paths, valuesForRisk), notes, details };
}

function outputChanges(before: StackJson, after: StackJson): Change[] {
  const names = new Set([...Object.keys(before.output ?? {}), ...Object.keys(after.output ?? {})]);
  const changes: Change[] = [];
  for (const name of [...names].sort()) {
    if (CROSS_STACK_OUTPUT.test(name)) continue;
    const b = before.output?.[name];
    const a = after.output?.[name];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    const action = !b ? 'create' : !a ? 'delete' : 'update';
    const sensitive = Boolean(b?.sensitive || a?.sensitive);
    changes.push({
      address: `output.${name}`,
      type: 'output',
      action,
      attributes: action === 'update' ? ['value'] : [],
      risks: [],
      details: action === 'update' ? [maskDetail(name, b?.value, a?.value, sensitive)] : [],
    });
  }
  return changes;
}

/**
 * A provider source address in full: `aws` and `hashicorp/aws` both mean `registry.terraform.io/hashicorp/aws`
 * (https://developer.hashicorp.com/terraform/language/providers/requirements#source-addresses), so a change
 * from one spelling to the other installs the same provider and is no change.
 */
export function fullSourceAddress(source: string): string {
  const parts = source.toLowerCase().split('/');
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${parts[0]}`;
  return parts.length === 2 ? `registry.terraform.io/${parts.join('/')}` : parts.join('/');
}

/** Providers whose source address or version constraint differs between the two revisions of a stack. */
export function providerChanges(before: StackJson, after: StackJson): ProviderChange[] {
  const b = before.terraform?.required_providers ?? {};
  const a = after.terraform?.required_providers ?? {};
  const same = (x: ProviderRequirement, y: ProviderRequirement) => fullSourceAddress(x.source) === fullSourceAddress(y.source) && x.version === y.version;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .sort()
    .filter((name) => !(b[name] && a[name] && same(b[name], a[name])))
    .map((name) => ({ name, ...(b[name] ? { before: { source: b[name].source, version: b[name].version } } : {}), ...(a[name] ? { after: { source: a[name].source, version: a[name].version } } : {}) }));
}

function stackChanges(base: SynthTree, head: SynthTree, stack: string, before: StackJson, after: StackJson): Change[] {
  const changes: Change[] = [];
  const types = [...new Set([...Object.keys(before.resource ?? {}), ...Object.keys(after.resource ?? {})])].sort();
  for (const type of types) {
    const names = [...new Set([...Object.keys(before.resource?.[type] ?? {}), ...Object.keys(after.resource?.[type] ?? {})])].sort();
    for (const name of names) {
      const change = resourceChange(base, head, stack, type, name, before.resource?.[type]?.[name], after.resource?.[type]?.[name]);
      if (change) changes.push(change);
    }
  }
  return [...changes, ...outputChanges(before, after)];
}

/**
 * Compares two synth outputs (`cdktf.out` directories) stack by stack, in deploy order taken from their
 * manifests. Replacement comes from the table; values are masked where their names say secret.
 */
export function compareSynthOutputs(baseOutDir: string, headOutDir: string, title?: string): Report {
  const base = loadTree(baseOutDir);
  const head = loadTree(headOutDir);
  const all = new Map<string, { dependencies: string[] }>();
  for (const [name, s] of base.stacks) all.set(name, { dependencies: [...s.dependencies] });
  for (const [name, s] of head.stacks) all.set(name, { dependencies: [...new Set([...(all.get(name)?.dependencies ?? []), ...s.dependencies])] });
  const stacks: StackReport[] = deployOrder(all).map((stack) => {
    const before = readStack(base, stack);
    const after = readStack(head, stack);
    const changes = stackChanges(base, head, stack, before, after);
    if (!base.stacks.has(stack)) return { stack, status: 'added', changes };
    if (!head.stacks.has(stack)) return { stack, status: 'removed', changes };
    const providers = providerChanges(before, after);
    return { stack, status: changes.length || providers.length ? 'changed' : 'unchanged', ...(providers.length ? { providers } : {}), changes };
  });
  return { source: 'synth', title, stacks };
}

/** Resource types of a synth output that have no replacement-table entry (the coverage test's question). */
export function typesWithoutEntry(types: Iterable<string>): string[] {
  return [...new Set(types)].filter((t) => !REPLACEMENT_ATTRIBUTES[t]).sort();
}
