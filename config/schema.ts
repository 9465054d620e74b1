import * as v from 'valibot';
import { HTTP_API, LAMBDA, LOG_RETENTION_DAYS, MEMCACHED, MYSQL_MAJOR_VERSIONS, RDS_MYSQL, RDS_PROXY, RDS_PROXY_SECRETS, type IntRange } from '../aws/limits';
import { AWS_REGION_PATTERN, DIRECT_ARM_DATABASES, LAMBDA_UNRESERVED_CONCURRENCY, MAX_TENANT_COUNT, MAX_TENANT_ROWS, TENANT_ID_MAX_DIGITS, TENANT_PREFIX_MAX_LENGTH, TENANT_PREFIX_PATTERN, type DirectArmDatabase } from '../contracts';

/**
 * The one description of a profile: its shape, every setting's allowed values and its documentation. The
 * `Profile` type is inferred from it (profile.ts), docs/configuration.md's settings table is generated from
 * it (`npm run docs:settings`), and validation runs it: strict, so an unknown key, a missing setting or a
 * wrong type fails synth with the path, the nearest valid key and what was given. Checks that compare two
 * settings (borrow timeout below the function timeout, …) live in validate.ts, which runs on what this
 * accepts. valibot rather than zod: the same checks, and it loads in about 6 ms where zod took about 50 ms of
 * every synth.
 *
 * Ranges come from aws/limits.ts (what AWS accepts). Where a profile is stricter than AWS on purpose, the
 * field says why.
 */

/** What the settings table shows in its "allowed" column, kept beside the check that enforces it. */
type Allowed = {
  readonly allowed: string;
  /** Bounds of an integer setting, for checks that compare them with AWS's (aws/limits.ts). */
  readonly min?: number;
  readonly max?: number;
  /** Shown when the setting may be left out: what its absence means. */
  readonly absent?: string;
};

const meta = <T>(m: Partial<Allowed>) => v.metadata<T, Partial<Allowed>>(m);

/** An integer in [min, max]; `why` explains a bound stricter than AWS's. */
function intIn(min: number, max: number, why?: string) {
  const allowed = `an integer from ${min} to ${max}${why ? ` ${why}` : ''}`;
  return v.pipe(v.number(), v.check((n) => Number.isInteger(n) && n >= min && n <= max, `must be ${allowed}`), meta({ allowed, min, max }));
}

/** An integer in AWS's documented range. */
const awsInt = (range: IntRange) => intIn(range.min, range.max);

function oneOfNumbers(values: readonly number[]) {
  const allowed = `one of ${values.join(', ')}`;
  return v.pipe(v.number(), v.check((n) => values.includes(n), `must be ${allowed}`), meta({ allowed }));
}

function matching(pattern: RegExp, allowed: string) {
  return v.pipe(v.string(), v.check((s) => pattern.test(s), `must be ${allowed}`), meta({ allowed }));
}

function satisfying<T>(base: v.GenericSchema<T>, test: (value: T) => boolean, allowed: string) {
  return v.pipe(base, v.check(test, `must be ${allowed}`), meta({ allowed }));
}

/** A strict, read-only section of settings. */
const section = <E extends v.ObjectEntries>(entries: E) => v.pipe(v.strictObject(entries), v.readonly());

/** `setting` documented as `description`. */
const doc = <S extends v.GenericSchema>(schema: S, description: string) => v.pipe(schema, v.description(description));

/** An optional setting; `absent` says what leaving it out means. */
const optional = <S extends v.GenericSchema>(schema: S, description: string, absent: string) => v.optional(v.pipe(schema, v.description(description), meta({ absent })));

const MIN_WAIVER_REASON = 10;
/** The production policies (__tests__/policy) a profile breaks on purpose, each with its reason; the policy suite checks each one hides a real failure. */
const waiverReason = v.optional(
  v.pipe(
    v.string(),
    v.check((reason) => reason.trim().length >= MIN_WAIVER_REASON, `must give the reason the policy is waived (at least ${MIN_WAIVER_REASON} characters)`),
    meta({ allowed: `a reason of at least ${MIN_WAIVER_REASON} characters` }),
  ),
);
const waivers = <K extends string>(...settings: [K, ...K[]]) =>
  optional(
    v.pipe(
      v.strictObject(Object.fromEntries(settings.map((s) => [s, waiverReason])) as Record<K, typeof waiverReason>),
      v.readonly(),
      meta({ allowed: `keys ${settings.join(', ')}; each a reason of at least ${MIN_WAIVER_REASON} characters` }),
    ),
    'Production policies this environment breaks on purpose, keyed by the setting that breaks them, each with the reason. Kept beside the settings so a copied profile carries its intent; the policy suite fails on a stale waiver and on an unwaived failure.',
    'no waiver',
  );

/**
 * `directArm.database` when a profile leaves it out: the direct arm gets an instance of its own, the fair
 * layout. Not valibot's optional-with-default: that would make the inferred `Profile` require the key (the
 * output type has every default filled in), yet `validateProfile` returns the profile as written, so the
 * default would never be applied. The key stays optional; `directArmDatabase()` (profile.ts) reads it.
 */
export const DIRECT_ARM_DATABASE_DEFAULT: DirectArmDatabase = 'own';

const LOWER_NAME = /^[a-z][a-z0-9-]{0,15}$/;
const LOWER_NAME_ALLOWED = '1-16 lowercase letters, digits or dashes starting with a letter';
const REGION_ALLOWED = 'an AWS region such as "eu-west-1"';
/** MySQL users RDS reserves (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints) plus MySQL's own system accounts. */
export const RESERVED_DB_USERS = ['admin', 'root', 'rdsadmin', 'rdsrepladmin', 'mysql.sys', 'mysql.session'];
const notReserved = (user: string) => !RESERVED_DB_USERS.includes(user.toLowerCase());
const MEMCACHED_TLS_VERSION = MEMCACHED.tlsMinVersion.join('.');

function versionAtLeast(version: string, min: readonly [number, number, number]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const part = parts[i] ?? 0;
    if (part !== min[i]) return part > min[i];
  }
  return true;
}

function isCidrV4(cidr: string, minPrefix: number, maxPrefix: number): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) >= minPrefix && Number(m[5]) <= maxPrefix;
}

/**
 * Cache settings are checked only when the cache is on: a profile that turns it off may leave sizes that no
 * longer apply. Each rule reports at its own field.
 */
const cacheRules = {
  engineVersion: {
    test: (s: string) => /^1\.6\.\d+$/.test(s) && versionAtLeast(s, MEMCACHED.tlsMinVersion),
    allowed: `memcached ${MEMCACHED_TLS_VERSION} or later (TLS in transit), e.g. "1.6.22"`,
  },
  nodeType: { test: (s: string) => /^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(s), allowed: 'an ElastiCache node type like "cache.t4g.micro"' },
  // AWS accepts a single node; two or more, because the nodes are spread across AZs and one node is an AZ's outage away from no cache.
  numCacheNodes: { test: (n: number) => Number.isInteger(n) && n >= 2 && n <= MEMCACHED.numCacheNodes.max, allowed: `an integer from 2 to ${MEMCACHED.numCacheNodes.max} (nodes are spread across AZs)` },
  ttlSeconds: { test: (n: number) => Number.isInteger(n) && n >= 1 && n <= 3600, allowed: 'an integer from 1 to 3600' },
};
/** A cache setting documented with its rule, which the section applies when the cache is on. */
const cacheSetting = <S extends v.GenericSchema>(base: S, rule: keyof typeof cacheRules, description: string) =>
  v.pipe(base, v.description(description), meta({ allowed: `${cacheRules[rule].allowed}; checked when enabled` }));
const cacheEntries = {
  enabled: doc(v.boolean(), '`false` removes every cache resource, rule, permission and environment variable; the other cache settings are then not checked.'),
  engineVersion: cacheSetting(v.string(), 'engineVersion', 'Memcached engine version.'),
  nodeType: cacheSetting(v.string(), 'nodeType', 'ElastiCache node type.'),
  numCacheNodes: cacheSetting(v.number(), 'numCacheNodes', 'Number of nodes, spread over the AZs.'),
  ttlSeconds: cacheSetting(v.number(), 'ttlSeconds', "Seconds a cached listing stays fresh (the function's `CACHE_TTL_SECONDS`)."),
};
type CacheSettings = v.InferOutput<v.StrictObjectSchema<typeof cacheEntries, undefined>>;
/** The rule of one cache setting, reported at that setting, applied only when the cache is on. */
const whenCacheEnabled = <K extends keyof typeof cacheRules>(key: K) =>
  v.forward<CacheSettings, v.CheckIssue<CacheSettings>, [K]>(
    v.check((c: CacheSettings) => !c.enabled || (cacheRules[key].test as (value: unknown) => boolean)(c[key]), `must be ${cacheRules[key].allowed}`),
    [key] as never,
  );
const cacheSchema = v.pipe(
  v.strictObject(cacheEntries),
  whenCacheEnabled('engineVersion'),
  whenCacheEnabled('nodeType'),
  whenCacheEnabled('numCacheNodes'),
  whenCacheEnabled('ttlSeconds'),
  v.readonly(),
);

export const profileSchema = section({
  name: doc(matching(LOWER_NAME, LOWER_NAME_ALLOWED), 'Environment name, used in stack ids (`network-<name>`), resource names and tags.'),
  region: doc(matching(AWS_REGION_PATTERN, REGION_ALLOWED), 'AWS region every stack of this environment deploys to; RDS Proxy must support `database.engineVersion` there.'),
  project: doc(matching(LOWER_NAME, LOWER_NAME_ALLOWED), 'Short project name prefixed to resource names.'),
  tags: doc(v.pipe(v.record(v.string(), v.string()), meta({ allowed: 'text keys and values' })), "Extra tags added to the provider's `default_tags` (project, environment and managed-by are always set)."),
  network: section({
    vpcCidr: doc(
      satisfying(v.string(), (s) => isCidrV4(s, 16, 20), 'an IPv4 CIDR from /16 to /20'),
      'IPv4 CIDR of the VPC; /16 to /20 so each AZ gets three /(n+4) subnets (public, application, data).',
    ),
    azCount: doc(intIn(2, 4), 'Number of availability zones (`a`, `b`, `c`, `d` of the region); RDS and RDS Proxy need subnets in two AZs.'),
    natGateways: doc(v.picklist(['per-az', 'single']), '`per-az`: one NAT gateway in each AZ (an AZ outage cuts no other AZ off); `single`: one NAT for all (cheaper, one AZ is a single point of failure).'),
    flowLogs: doc(v.boolean(), 'VPC flow logs (all traffic) to CloudWatch Logs.'),
    waivers: waivers('flowLogs', 'natGateways'),
  }),
  database: section({
    engineVersion: doc(v.picklist(MYSQL_MAJOR_VERSIONS), 'MySQL major version; the parameter group family follows (`mysql8.4`). RDS Proxy must support it in `region`.'),
    instanceClass: doc(matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class like "db.t4g.micro"'), "RDS instance class; its memory sets MySQL's default `max_connections` and the memory alarms' thresholds."),
    allocatedStorageGb: doc(awsInt(RDS_MYSQL.allocatedStorageGb), 'Initial gp3 storage in GiB.'),
    maxAllocatedStorageGb: doc(
      v.pipe(v.number(), meta({ allowed: `0, or an integer above allocatedStorageGb up to ${RDS_MYSQL.allocatedStorageGb.max}` })),
      'Storage autoscaling ceiling in GiB; 0 disables autoscaling.',
    ),
    multiAz: doc(v.boolean(), 'A standby in a second AZ with automatic failover.'),
    deletionProtection: doc(v.boolean(), 'Refuse deletion until turned off.'),
    skipFinalSnapshot: doc(v.boolean(), 'Skip the final snapshot on destroy (data is lost); must be false when deletionProtection is true.'),
    // AWS accepts 0, which turns automated backups (and point-in-time recovery) off: refused here.
    backupRetentionDays: doc(intIn(1, RDS_MYSQL.backupRetentionDays.max), 'Automated backup retention in days.'),
    performanceInsights: doc(v.boolean(), 'Performance Insights (Database Insights standard mode); AWS offers none on db.t*.micro and db.t*.small.'),
    monitoringIntervalSeconds: doc(oneOfNumbers(RDS_MYSQL.monitoringIntervalsSeconds), 'Enhanced monitoring interval in seconds; 0 is off.'),
    databaseName: doc(
      matching(RDS_MYSQL.databaseName, `1-${RDS_MYSQL.databaseNameMaxLength} letters, digits or underscores starting with a letter`),
      "Name of the database RDS creates; the function's `DB_NAME`.",
    ),
    masterUsername: doc(
      satisfying(v.string(), (s) => RDS_MYSQL.masterUsername.test(s) && notReserved(s), `1-${RDS_MYSQL.masterUsernameMaxLength} letters, digits or underscores starting with a letter and not one of ${RESERVED_DB_USERS.join(', ')}`),
      'Master user; its password is RDS-managed in Secrets Manager. Only the deploy-time migration uses it.',
    ),
    appUsername: doc(
      satisfying(
        v.string(),
        (s) => new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${RDS_MYSQL.userNameMaxLength - 1}}$`).test(s) && notReserved(s),
        `1-${RDS_MYSQL.userNameMaxLength} letters, digits or underscores starting with a letter and not one of ${RESERVED_DB_USERS.join(', ')}`,
      ),
      "The application's database user (the hits function's `DB_USER`): created by the migrations for IAM authentication, with SELECT, INSERT, DELETE on `<databaseName>.hits` only; never the master user.",
    ),
    waivers: waivers('multiAz', 'deletionProtection', 'skipFinalSnapshot', 'backupRetentionDays', 'performanceInsights', 'monitoringIntervalSeconds'),
  }),
  proxy: section({
    // AWS accepts 0 ("wait without limit"): refused, a client must hear "saturated" before its function times out.
    connectionBorrowTimeoutSeconds: doc(intIn(1, RDS_PROXY.connectionBorrowTimeoutSeconds.max), 'Seconds a client waits for a pooled connection before the proxy gives up; must stay below `function.timeoutSeconds`.'),
    maxConnectionsPercent: doc(awsInt(RDS_PROXY.maxConnectionsPercent), "Share of the database's `max_connections` the proxy may open."),
    maxIdleConnectionsPercent: doc(awsInt(RDS_PROXY.maxIdleConnectionsPercent), 'Share of `max_connections` the proxy keeps open while idle; at most `maxConnectionsPercent`.'),
    // AWS accepts 1 s; below a minute the proxy would drop the function's pooled connection between most requests.
    idleClientTimeoutSeconds: doc(intIn(60, RDS_PROXY.idleClientTimeoutSeconds.max, '(AWS accepts 1; below 60 a warm function reconnects on most requests)'), 'Seconds before the proxy closes an idle client connection.'),
    debugLogging: doc(v.boolean(), 'Logs SQL statements; never in production (it writes query text to CloudWatch).'),
  }),
  cache: cacheSchema,
  function: section({
    memoryMb: doc(awsInt(LAMBDA.memoryMb), 'Memory in MB; CPU scales with it.'),
    // Lambda accepts up to 900 s; the API answers 504 after its 30 s integration limit, so a longer run only wastes.
    timeoutSeconds: doc(
      intIn(LAMBDA.timeoutSeconds.min, HTTP_API.integrationTimeoutMaxSeconds - 1, `(below the API's ${HTTP_API.integrationTimeoutMaxSeconds} s integration limit)`),
      'Timeout in seconds; above `proxy.connectionBorrowTimeoutSeconds`.',
    ),
    reservedConcurrency: optional(intIn(1, 10000), 'Reserved concurrency; caps the connections the function can ask of the proxy. Requires `accountConcurrencyLimit`.', 'unreserved'),
    accountConcurrencyLimit: optional(
      intIn(10, 1_000_000),
      `The account's Lambda concurrency quota in this region (\`aws lambda get-account-settings\` → \`AccountLimit.ConcurrentExecutions\`). AWS keeps ${LAMBDA_UNRESERVED_CONCURRENCY} executions unreserved, so every reservation of the environment must fit in this quota minus ${LAMBDA_UNRESERVED_CONCURRENCY}.`,
      'not declared (then reservedConcurrency must be absent)',
    ),
    waivers: waivers('reservedConcurrency'),
  }),
  api: section({
    // AWS accepts 0, which refuses every request.
    throttlingBurstLimit: doc(intIn(1, HTTP_API.throttlingBurstLimit.max, '(AWS accepts 0, which refuses every request)'), 'Stage throttling: maximum burst of requests.'),
    throttlingRateLimit: doc(
      satisfying(v.number(), (n) => n > 0 && n <= HTTP_API.throttlingRateLimit.max, `a number above 0 up to ${HTTP_API.throttlingRateLimit.max}`),
      'Stage throttling: steady requests per second.',
    ),
  }),
  alarms: section({
    enabled: doc(v.boolean(), 'Alarms notify the topic (`actions_enabled`). Off: the alarms and dashboard still exist, nobody is told.'),
    email: optional(matching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address such as "oncall@example.com"'), 'E-mail address subscribed to the alarm topic (the recipient confirms by mail).', 'no subscription'),
    waivers: waivers('enabled'),
  }),
  hits: section({
    retentionDays: doc(intIn(1, 3650), 'Days a recorded hit is kept; the scheduled prune deletes older rows.'),
  }),
  tenants: section({
    count: doc(
      intIn(0, MAX_TENANT_COUNT, `(ids stay within ${TENANT_ID_MAX_DIGITS} digits; end-to-end IAM needs no per-tenant secret, so the proxy's ${RDS_PROXY_SECRETS.max}-secret limit does not apply)`),
      'Tenants served by `GET /tenants/{tenantId}/items`, ids 0 to count-1, each with its own database and IAM-authenticated MySQL user; 0 creates no tenant resource at all. Raising it provisions the new tenants at the next deploy; lowering it drops nothing.',
    ),
    prefix: doc(
      matching(TENANT_PREFIX_PATTERN, `1-${TENANT_PREFIX_MAX_LENGTH} lowercase letters, digits or underscores starting with a letter (with the id within MySQL's ${RDS_MYSQL.userNameMaxLength}-character user names)`),
      'Prefix of every tenant\'s database and user name (`<prefix><id>`, e.g. `tenant_7`); the tenant-access role and the proxy may connect as `<prefix>*` only. Usually `tenant_`.',
    ),
    rowsPerTenant: doc(intIn(0, MAX_TENANT_ROWS), "Rows seeded into a new tenant's table when it is provisioned (an id and five random integers each). Usually 1000."),
  }),
  directArm: optional(
    section({
      enabled: doc(
        v.boolean(),
        '`true` adds the direct arm: a second HTTP API (output `direct_api_url`) whose functions run the same bundles as the proxy arm but connect straight to a database instance with IAM tokens over TLS verified against the RDS CA bundle. Same VPC, application and tenant users, cache and function settings: the two arms differ in the proxy only. For A/B load tests that split the same traffic between `api_url` and `direct_api_url`; turn it off again when done.',
      ),
      database: optional(
        v.picklist(DIRECT_ARM_DATABASES),
        "Which instance the direct arm connects to. `own`: a second instance built from the same `database` settings (engine, class, storage, parameters, TLS, IAM), with its own migration run (schema, application user, tenants) and outputs (`direct_database_identifier`): each arm's load and failures stay its own, so `npm run load` runs the arms together. `shared`: the proxy arm's instance, no second instance to pay for; the arms then run one after another (docs/load-testing.md).",
        `\`${DIRECT_ARM_DATABASE_DEFAULT}\``,
      ),
    }),
    'The A/B comparison arm without RDS Proxy: the same functions and routes, connected straight to the database instance, to measure what the proxy does under load.',
    'off: no direct arm',
  ),
  logRetentionDays: doc(oneOfNumbers(LOG_RETENTION_DAYS), 'Retention in days of every log group of this environment (CloudWatch Logs accepts only these values).'),
  stateBackend: optional(
    section({
      bucket: doc(matching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'), 'S3 bucket holding the state (must exist, versioning on).'),
      region: doc(matching(AWS_REGION_PATTERN, REGION_ALLOWED), 'Region of the bucket.'),
      keyPrefix: doc(
        satisfying(v.string(), (s) => /^[A-Za-z0-9!_.*'()/-]+$/.test(s) && !s.startsWith('/') && !s.endsWith('/'), 'a non-empty S3 key prefix without leading or trailing "/"'),
        "Key prefix; each stack's state is `<keyPrefix>/<stack id>.tfstate`.",
      ),
    }),
    'Where Terraform keeps state. `TF_STATE_BUCKET`, `TF_STATE_REGION` and `TF_STATE_KEY_PREFIX` override it at synth.',
    'a local backend with a relative path',
  ),
});

/** A profile that does not match the schema; the message names the path, what is allowed and what was given. */
export interface ShapeProblem {
  readonly path: string;
  readonly detail: string;
  /** For a misspelt key: the setting it stands for, whose own problem ("is required") it replaces. */
  readonly standsFor?: string;
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
      const standsFor = near ? [...at.slice(0, -1), near].join('.') : undefined;
      if (standsFor) suggested.add(standsFor);
      unknownKeys.push({ path, detail: `unknown setting${near ? `, did you mean ${near}?` : `; valid settings here: ${known.join(', ')}`}`, ...(standsFor ? { standsFor } : {}) });
      continue;
    }
    const value = valueAt(input, at);
    if (issue.kind === 'validation') {
      // A value of the right type outside what is allowed: the check's own message says what is.
      others.push({ path, detail: `${issue.message}, got ${typeof value === 'string' ? `"${value}"` : String(value)}` });
      continue;
    }
    const schema = schemaAt(at);
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

/** The schema of the setting at `path` (optional wrappers removed). */
export function schemaAt(path: readonly string[]): AnySchema | undefined {
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

/** One row of the settings table: a leaf setting of the schema. */
export interface SettingDoc {
  readonly path: string;
  readonly type: string;
  readonly allowed: string;
  readonly required: boolean;
  readonly absent?: string;
  readonly description: string;
}

/** Every setting of the schema in declaration order, for the generated docs (scripts/docs-settings.ts). */
export function settingDocs(): SettingDoc[] {
  return settingNodes().map(({ doc }) => doc);
}

/** The integer bounds a setting's schema enforces, when it is an integer range. */
export function integerBounds(path: string): { min: number; max: number } | undefined {
  const node = settingNodes().find((n) => n.doc.path === path);
  const { min, max } = (node ? v.getMetadata(node.schema) : {}) as Partial<Allowed>;
  return min === undefined || max === undefined ? undefined : { min, max };
}

const TYPE_NAMES: Record<string, string> = { strict_object: 'object', record: 'map of text to text', picklist: 'text', string: 'text', number: 'number', boolean: 'boolean' };

function settingNodes(): { doc: SettingDoc; schema: AnySchema }[] {
  const rows: { doc: SettingDoc; schema: AnySchema }[] = [];
  const walk = (node: AnySchema, path: string[]) => {
    const optionalNode = node.type === 'optional';
    const inner = unwrap(node) as AnySchema;
    const description = v.getDescription(inner) ?? v.getDescription(node) ?? '';
    const metadata = { ...(v.getMetadata(inner) as Partial<Allowed>) };
    const isWaivers = path[path.length - 1] === 'waivers';
    if (inner.type === 'strict_object' && !isWaivers) {
      if (path.length > 0 && description) rows.push({ schema: inner, doc: { path: path.join('.'), type: 'object', allowed: '', required: !optionalNode, absent: metadata.absent, description } });
      for (const [key, child] of Object.entries(inner.entries ?? {})) walk(child, [...path, key]);
      return;
    }
    const type = TYPE_NAMES[inner.type] ?? inner.type;
    const allowed = metadata.allowed || (inner.type === 'picklist' ? `one of ${(inner.options ?? []).map((o) => `\`${String(o)}\``).join(', ')}` : inner.type === 'boolean' ? '`true` or `false`' : '');
    rows.push({ schema: inner, doc: { path: path.join('.'), type, allowed, required: !optionalNode, absent: metadata.absent, description } });
  };
  walk(profileSchema as unknown as AnySchema, []);
  return rows;
}
