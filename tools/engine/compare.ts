/**
 * Compares two synth outputs (`cdktf.out` directories) written by the two engines, leaf by leaf: every JSON
 * file key by key and list element by list element, every other file (the function archives) byte by byte.
 * A difference is allowed only where engines.ts's ALLOWED_DIFFERENCES says so; every other one is reported.
 */
import * as fs from 'fs';
import * as path from 'path';
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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every leaf where `a` and `b` differ: keys present on one side only, list elements, scalars (type included). */
export function leafDifferences(a: unknown, b: unknown, at: Array<string | number> = []): Array<{ path: Array<string | number>; a: unknown; b: unknown }> {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => (k in a && k in b ? leafDifferences(a[k], b[k], [...at, k]) : [{ path: [...at, k], a: a[k], b: b[k] }]));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...(i < a.length && i < b.length ? leafDifferences(a[i], b[i], [...at, i]) : [{ path: [...at, i], a: a[i], b: b[i] }]));
    return out;
  }
  return Object.is(a, b) ? [] : [{ path: at, a, b }];
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
export function compareSynthOutputs(aDir: string, bDir: string): SynthDifference[] {
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
    for (const d of leafDifferences(JSON.parse(aBytes.toString('utf8')), JSON.parse(bBytes.toString('utf8')))) {
      differences.push({ file, ...d, allowed: kind !== undefined && isAllowedDifference(kind, d.path) });
    }
  }
  return differences;
}

/** One line per difference: `stacks/data-dev/cdk.tf.json terraform.required_providers.aws.version: "6.25.0" → "6.66.0"`. */
export function describe(d: SynthDifference): string {
  const at = d.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 200));
  return `${d.file}${at ? ` ${at}` : ''}: ${show(d.a)} → ${show(d.b)}`;
}
