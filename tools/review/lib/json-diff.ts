/** A leaf-level difference between two JSON values. */
export interface JsonDifference {
  /** Segments: object keys and list indexes. */
  readonly segments: (string | number)[];
  readonly before: unknown;
  readonly after: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalarList = (v: unknown): v is unknown[] => Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object');

/**
 * Differences between two JSON values. Objects and lists of blocks are walked; a list of scalars (subnet ids,
 * ARNs) is one value, since Terraform compares it as a whole and a reviewer reads it as one setting.
 */
export function diffJson(before: unknown, after: unknown, segments: (string | number)[] = []): JsonDifference[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffJson(before[k], after[k], [...segments, k]));
  }
  if (Array.isArray(before) && Array.isArray(after) && !(isScalarList(before) && isScalarList(after))) {
    const out: JsonDifference[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) out.push(...diffJson(before[i], after[i], [...segments, i]));
    return out;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ segments, before, after }];
}

/** `['vpc_config', 0, 'subnet_ids']` → `vpc_config[0].subnet_ids`. */
export function formatPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}
