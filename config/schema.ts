import { z } from 'zod';
import { MYSQL_FAMILIES } from '../modules/mysql-database';
import type { MysqlMajorVersion, Profile } from './profile';

/**
 * The shape of a profile, strict: an unknown key, a missing setting or a wrong type fails synth with the
 * path, the nearest valid key and what was given. Ranges and cross-field rules (borrow timeout below the
 * function timeout, …) live in validate.ts, which runs on what this returns.
 */

/** A reason a profile gives for breaking a production policy on purpose; the policy suite checks each one hides a real failure. */
const reason = z.string();
const waivers = <K extends string>(...settings: [K, ...K[]]) =>
  z.strictObject(Object.fromEntries(settings.map((s) => [s, reason.optional()])) as Record<K, z.ZodOptional<z.ZodString>>).optional();

const mysqlVersions = Object.keys(MYSQL_FAMILIES) as [MysqlMajorVersion, ...MysqlMajorVersion[]];

export const profileSchema = z.strictObject({
  name: z.string(),
  region: z.string(),
  project: z.string(),
  tags: z.record(z.string(), z.string()),
  network: z.strictObject({
    vpcCidr: z.string(),
    azCount: z.number(),
    natGateways: z.enum(['per-az', 'single']),
    flowLogs: z.boolean(),
    waivers: waivers('flowLogs', 'natGateways'),
  }),
  database: z.strictObject({
    engineVersion: z.enum(mysqlVersions),
    instanceClass: z.string(),
    allocatedStorageGb: z.number(),
    maxAllocatedStorageGb: z.number(),
    multiAz: z.boolean(),
    deletionProtection: z.boolean(),
    skipFinalSnapshot: z.boolean(),
    backupRetentionDays: z.number(),
    performanceInsights: z.boolean(),
    monitoringIntervalSeconds: z.number(),
    databaseName: z.string(),
    masterUsername: z.string(),
    appUsername: z.string(),
    waivers: waivers('multiAz', 'deletionProtection', 'skipFinalSnapshot', 'backupRetentionDays', 'performanceInsights', 'monitoringIntervalSeconds'),
  }),
  proxy: z.strictObject({
    connectionBorrowTimeoutSeconds: z.number(),
    maxConnectionsPercent: z.number(),
    maxIdleConnectionsPercent: z.number(),
    idleClientTimeoutSeconds: z.number(),
    debugLogging: z.boolean(),
  }),
  cache: z.strictObject({
    enabled: z.boolean(),
    engineVersion: z.string(),
    nodeType: z.string(),
    numCacheNodes: z.number(),
    ttlSeconds: z.number(),
  }),
  function: z.strictObject({
    memoryMb: z.number(),
    timeoutSeconds: z.number(),
    reservedConcurrency: z.number().optional(),
    accountConcurrencyLimit: z.number().optional(),
    waivers: waivers('reservedConcurrency'),
  }),
  api: z.strictObject({
    throttlingBurstLimit: z.number(),
    throttlingRateLimit: z.number(),
  }),
  alarms: z.strictObject({
    enabled: z.boolean(),
    email: z.string().optional(),
    waivers: waivers('enabled'),
  }),
  hits: z.strictObject({
    retentionDays: z.number(),
  }),
  logRetentionDays: z.number(),
  stateBackend: z.strictObject({ bucket: z.string(), region: z.string(), keyPrefix: z.string() }).optional(),
});

// The schema and the documented Profile interface must describe the same object, both ways.
type Parsed = z.infer<typeof profileSchema>;
const sameShape: [Parsed extends Profile ? true : false, Profile extends Parsed ? true : false] = [true, true];
void sameShape;

/** A profile that does not match the schema; the message names the path, what is allowed and what was given. */
export interface ShapeProblem {
  readonly path: string;
  readonly detail: string;
}

/** Checks `input` against the schema; returns the problems, most useful first (a misspelling before the setting it hides). */
export function shapeProblems(input: unknown): ShapeProblem[] {
  const result = profileSchema.safeParse(input);
  if (result.success) return [];
  const unknownKeys: ShapeProblem[] = [];
  const others: ShapeProblem[] = [];
  const suggested = new Set<string>();
  for (const issue of result.error.issues) {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(at);
      for (const key of issue.keys) {
        const near = nearest(key, known);
        if (near) suggested.add([...at, near].join('.'));
        unknownKeys.push({ path: [...at, key].join('.'), detail: `unknown setting${near ? `, did you mean ${near}?` : `; valid settings here: ${known.join(', ')}`}` });
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    const path = at.join('.') || '(profile)';
    if (issue.code === 'invalid_value') {
      others.push({ path, detail: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}` });
    } else if (issue.code === 'invalid_type') {
      others.push({ path, detail: value === undefined ? `is required (${article(issue.expected)})` : `must be ${article(issue.expected)}, got ${describe(value)}` });
    } else {
      others.push({ path, detail: issue.message });
    }
  }
  // A misspelt key also shows as its correct spelling missing: name the misspelling only.
  return [...unknownKeys, ...others.filter((o) => !suggested.has(o.path))];
}

function keysAt(path: string[]): string[] {
  let node: z.ZodType = profileSchema;
  for (const key of path) {
    node = unwrap(node);
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[key];
    else if (node instanceof z.ZodRecord) node = node.valueType as z.ZodType;
    else return [];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(node: z.ZodType): z.ZodType {
  return node instanceof z.ZodOptional ? (node.unwrap() as z.ZodType) : node;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: any = input;
  for (const k of path) v = v == null ? undefined : v[k as any];
  return v;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? `"${value}"` : `${typeof value} ${String(value)}`;
}

function article(expected: string): string {
  return expected === 'object' ? 'an object' : `a ${expected}`;
}

/** The known key closest to `key` (case-insensitive edit distance), if it is close enough to be a misspelling. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
