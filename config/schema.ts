import * as v from 'valibot';
import { MYSQL_FAMILIES } from '../modules/mysql-database';
import type { MysqlMajorVersion, Profile } from './profile';

/**
 * The shape of a profile, strict: an unknown key, a missing setting or a wrong type fails synth with the
 * path, the nearest valid key and what was given. Ranges and cross-field rules (borrow timeout below the
 * function timeout, …) live in validate.ts, which runs on what this returns. valibot rather than zod:
 * the same checks, and it loads in about 6 ms where zod took about 50 ms of every synth.
 */

/** A reason a profile gives for breaking a production policy on purpose; the policy suite checks each one hides a real failure. */
const waivers = <K extends string>(...settings: [K, ...K[]]) =>
  v.optional(v.strictObject(Object.fromEntries(settings.map((s) => [s, v.optional(v.string())])) as Record<K, v.OptionalSchema<v.StringSchema<undefined>, undefined>>));

const mysqlVersions = Object.keys(MYSQL_FAMILIES) as [MysqlMajorVersion, ...MysqlMajorVersion[]];

export const profileSchema = v.strictObject({
  name: v.string(),
  region: v.string(),
  project: v.string(),
  tags: v.record(v.string(), v.string()),
  network: v.strictObject({
    vpcCidr: v.string(),
    azCount: v.number(),
    natGateways: v.picklist(['per-az', 'single']),
    flowLogs: v.boolean(),
    waivers: waivers('flowLogs', 'natGateways'),
  }),
  database: v.strictObject({
    engineVersion: v.picklist(mysqlVersions),
    instanceClass: v.string(),
    allocatedStorageGb: v.number(),
    maxAllocatedStorageGb: v.number(),
    multiAz: v.boolean(),
    deletionProtection: v.boolean(),
    skipFinalSnapshot: v.boolean(),
    backupRetentionDays: v.number(),
    performanceInsights: v.boolean(),
    monitoringIntervalSeconds: v.number(),
    databaseName: v.string(),
    masterUsername: v.string(),
    appUsername: v.string(),
    waivers: waivers('multiAz', 'deletionProtection', 'skipFinalSnapshot', 'backupRetentionDays', 'performanceInsights', 'monitoringIntervalSeconds'),
  }),
  proxy: v.strictObject({
    connectionBorrowTimeoutSeconds: v.number(),
    maxConnectionsPercent: v.number(),
    maxIdleConnectionsPercent: v.number(),
    idleClientTimeoutSeconds: v.number(),
    debugLogging: v.boolean(),
  }),
  cache: v.strictObject({
    enabled: v.boolean(),
    engineVersion: v.string(),
    nodeType: v.string(),
    numCacheNodes: v.number(),
    ttlSeconds: v.number(),
  }),
  function: v.strictObject({
    memoryMb: v.number(),
    timeoutSeconds: v.number(),
    reservedConcurrency: v.optional(v.number()),
    accountConcurrencyLimit: v.optional(v.number()),
    waivers: waivers('reservedConcurrency'),
  }),
  api: v.strictObject({
    throttlingBurstLimit: v.number(),
    throttlingRateLimit: v.number(),
  }),
  alarms: v.strictObject({
    enabled: v.boolean(),
    email: v.optional(v.string()),
    waivers: waivers('enabled'),
  }),
  hits: v.strictObject({
    retentionDays: v.number(),
  }),
  logRetentionDays: v.number(),
  stateBackend: v.optional(v.strictObject({ bucket: v.string(), region: v.string(), keyPrefix: v.string() })),
});

// The schema and the documented Profile interface must describe the same object, both ways.
type Parsed = v.InferOutput<typeof profileSchema>;
const sameShape: [Parsed extends Profile ? true : false, Profile extends Parsed ? true : false] = [true, true];
void sameShape;

/** A profile that does not match the schema; the message names the path, what is allowed and what was given. */
export interface ShapeProblem {
  readonly path: string;
  readonly detail: string;
}

type AnySchema = v.GenericSchema & { entries?: Record<string, AnySchema>; wrapped?: AnySchema; value?: AnySchema; options?: readonly unknown[] };

/** Checks `input` against the schema; returns the problems, most useful first (a misspelling before the setting it hides). */
export function shapeProblems(input: unknown): ShapeProblem[] {
  const result = v.safeParse(profileSchema, input);
  if (result.success) return [];
  const unknownKeys: ShapeProblem[] = [];
  const others: ShapeProblem[] = [];
  const suggested = new Set<string>();
  for (const issue of result.issues) {
    const at = (issue.path ?? []).map((p) => String(p.key));
    const path = at.join('.') || '(profile)';
    if (issue.type === 'strict_object' && issue.expected === 'never') {
      const key = at[at.length - 1];
      const known = keysAt(at.slice(0, -1));
      const near = nearest(key, known);
      if (near) suggested.add([...at.slice(0, -1), near].join('.'));
      unknownKeys.push({ path, detail: `unknown setting${near ? `, did you mean ${near}?` : `; valid settings here: ${known.join(', ')}`}` });
      continue;
    }
    const schema = schemaAt(at);
    const value = valueAt(input, at);
    if (value === undefined) others.push({ path, detail: `is required (${describeSchema(schema)})` });
    else if (schema?.type === 'picklist') others.push({ path, detail: `must be one of ${(schema.options ?? []).map((o) => JSON.stringify(o)).join(', ')}, got ${describe(value)}` });
    else others.push({ path, detail: `must be ${describeSchema(schema)}, got ${describe(value)}` });
  }
  // A misspelt key also shows as its correct spelling missing: name the misspelling only.
  return [...unknownKeys, ...others.filter((o) => !suggested.has(o.path))];
}

function unwrap(node: AnySchema | undefined): AnySchema | undefined {
  return node?.type === 'optional' ? node.wrapped : node;
}

function schemaAt(path: string[]): AnySchema | undefined {
  let node: AnySchema | undefined = profileSchema as unknown as AnySchema;
  for (const key of path) {
    node = unwrap(node);
    if (node?.type === 'strict_object') node = node.entries?.[key];
    else if (node?.type === 'record') node = node.value;
    else return undefined;
  }
  return unwrap(node);
}

function keysAt(path: string[]): string[] {
  const node = schemaAt(path);
  return node?.type === 'strict_object' ? Object.keys(node.entries ?? {}) : [];
}

function describeSchema(schema: AnySchema | undefined): string {
  switch (schema?.type) {
    case 'strict_object':
    case 'record':
      return 'an object';
    case 'picklist':
      return `one of ${(schema.options ?? []).map((o) => JSON.stringify(o)).join(', ')}`;
    default:
      return schema ? `a ${schema.type}` : 'a value';
  }
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let value: any = input;
  for (const k of path) value = value == null ? undefined : value[k];
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? `"${value}"` : `${typeof value} ${String(value)}`;
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
