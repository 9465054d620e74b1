/**
 * Compares two synth outputs (`cdktf.out` directories) written by the two engines, leaf by leaf: every JSON
 * file key by key with the review's diffJson (a list of scalars is one leaf, as Terraform compares it), every
 * other file (the function archives) byte by byte.
 * A difference is allowed only where engines.ts's ALLOWED_DIFFERENCES says so; every other one is reported.
 */
import * as fs from 'fs';
import * as path from 'path';
import { diffJson, formatPath } from '../review/lib/json-diff';
import { isAllowedDifference, SynthFile } from './engines';

export interface SynthDifference {
  /** The file, relative to the output directory (`stacks/data-dev/cdk.tf.json`). */
  readonly file: string;
  /** Keys and list indexes down to the leaf; empty for a whole file (missing on one side, or other bytes). */
  readonly path: ReadonlyArray<string | number>;
  readonly a: unknown;
  readonly b: unknown;
  readonly allowed: boolean;
}

/** Which entry of the allow-list a file falls under: a stack's Terraform JSON, the manifest, or neither. */
function kindOf(file: string): SynthFile | undefined {
  if (file === 'manifest.json') return 'manifest';
  return /^stacks\/[^/]+\/cdk\.tf\.json$/.test(file) ? 'stack' : undefined;
}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).map((f) => f.split(path.sep).join('/')).sort();
}

/** Every difference between the synth outputs `aDir` and `bDir`, each marked allowed or not. */
export function parityDifferences(aDir: string, bDir: string): SynthDifference[] {
  const a = new Set(filesUnder(aDir));
  const b = new Set(filesUnder(bDir));
  const differences: SynthDifference[] = [];
  for (const file of [...new Set([...a, ...b])].sort()) {
    if (!a.has(file) || !b.has(file)) {
      differences.push({ file, path: [], a: a.has(file) ? 'present' : 'missing', b: b.has(file) ? 'present' : 'missing', allowed: false });
      continue;
    }
    const aBytes = fs.readFileSync(path.join(aDir, file));
    const bBytes = fs.readFileSync(path.join(bDir, file));
    if (!file.endsWith('.json')) {
      if (!aBytes.equals(bBytes)) differences.push({ file, path: [], a: `${aBytes.length} bytes`, b: `${bBytes.length} bytes`, allowed: false });
      continue;
    }
    const kind = kindOf(file);
    for (const d of diffJson(JSON.parse(aBytes.toString('utf8')), JSON.parse(bBytes.toString('utf8')))) {
      differences.push({ file, path: d.segments, a: d.before, b: d.after, allowed: kind !== undefined && isAllowedDifference(kind, d.segments) });
    }
  }
  return differences;
}

/** One line per difference: `stacks/data-dev/cdk.tf.json terraform.required_providers.aws.version: "6.25.0" → "6.66.0"`. */
export function describe(d: SynthDifference): string {
  const at = formatPath(d.path);
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 200));
  return `${d.file}${at ? ` ${at}` : ''}: ${show(d.a)} → ${show(d.b)}`;
}
