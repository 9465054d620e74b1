import * as fs from 'fs';
import * as path from 'path';
import { diffJson, formatPath } from './json-diff';
import { containsMarked, isMarkedSensitive, isSensitiveName, MASK } from './mask';
import { risksOf } from './risks';
import { AttributeDetail, Change, ChangeAction, PlanSummary, Report, StackReport } from '../types';

/** The parts of `terraform show -json <planfile>` the review reads (format_version 1.x). */
interface PlanChange {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
  replace_paths?: (string | number)[][];
}
interface PlanResourceChange {
  address: string;
  mode: 'managed' | 'data';
  type: string;
  change: PlanChange;
  action_reason?: string;
}
export interface PlanJson {
  format_version?: string;
  planned_values?: object;
  resource_changes?: PlanResourceChange[];
  resource_drift?: PlanResourceChange[];
  output_changes?: Record<string, PlanChange>;
  variables?: Record<string, { value?: unknown }>;
  configuration?: { root_module?: { variables?: Record<string, { sensitive?: boolean }> } };
}

export const PLAN_SUMMARY_FILE = 'plan-summary.json';

const CROSS_STACK_OUTPUT = /^cross-stack-output-/;
const CODE_ATTRIBUTES = new Set(['filename', 's3_key', 'source_code_hash', 'image_uri']);
const UNKNOWN = '(known after apply)';

function actionOf(actions: readonly string[]): ChangeAction | undefined {
  const key = [...actions].join(',');
  if (key === 'create') return 'create';
  if (key === 'delete') return 'delete';
  if (key === 'update') return 'update';
  if (key === 'delete,create' || key === 'create,delete') return 'replace';
  return undefined; // no-op, read
}

function subtree(tree: unknown, segments: readonly (string | number)[]): unknown {
  let node = tree;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[s];
  }
  return node;
}

/** Sensitive if marked at the path, above it, or anywhere below it (a list holding one secret prints as a whole). */
function sensitiveAt(change: PlanChange, segments: readonly (string | number)[]): boolean {
  return (
    isMarkedSensitive(change.before_sensitive, segments) ||
    isMarkedSensitive(change.after_sensitive, segments) ||
    containsMarked(subtree(change.before_sensitive, segments)) ||
    containsMarked(subtree(change.after_sensitive, segments)) ||
    isSensitiveName(formatPath(segments))
  );
}

/** Paths `after_unknown` marks: values only the apply will know, which therefore change. */
function unknownPaths(tree: unknown, segments: (string | number)[] = []): (string | number)[][] {
  if (tree === true) return [segments];
  if (tree === null || typeof tree !== 'object') return [];
  return Object.entries(tree as object).flatMap(([k, v]) => unknownPaths(v, [...segments, Array.isArray(tree) ? Number(k) : k]));
}

/**
 * Every string Terraform marks sensitive anywhere in the plan, and the values of sensitive variables.
 * Terraform forgets a mark when a value is copied into another attribute (terraform_data's `output` mirrors
 * its `input`), so each printed value is also checked against these strings.
 */
function secretsOf(plan: PlanJson): Set<string> {
  const secrets = new Set<string>();
  const collect = (value: unknown, marked: boolean, tree: unknown): void => {
    const on = marked || tree === true;
    if (typeof value === 'string' || typeof value === 'number') {
      if (on && String(value).length >= 4) secrets.add(String(value));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) collect(v, on, tree !== null && typeof tree === 'object' ? (tree as Record<string, unknown>)[k] : undefined);
  };
  for (const rc of [...(plan.resource_changes ?? []), ...(plan.resource_drift ?? [])]) {
    collect(rc.change.before, false, rc.change.before_sensitive);
    collect(rc.change.after, false, rc.change.after_sensitive);
  }
  for (const [name, oc] of Object.entries(plan.output_changes ?? {})) {
    // cdktf marks every cross-stack output sensitive as plumbing; the ids it passes are not secrets, and a
    // real secret passed on is already marked on the resource that produced it.
    if (CROSS_STACK_OUTPUT.test(name)) continue;
    collect(oc.before, false, oc.before_sensitive);
    collect(oc.after, false, oc.after_sensitive);
  }
  const declared = plan.configuration?.root_module?.variables ?? {};
  for (const [name, v] of Object.entries(plan.variables ?? {})) if (declared[name]?.sensitive) collect(v.value, true, undefined);
  return secrets;
}

function masker(secrets: ReadonlySet<string>) {
  return (value: unknown, sensitive: boolean): unknown => {
    if (value === undefined || value === UNKNOWN) return value;
    if (sensitive) return MASK;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return [...secrets].some((s) => text.includes(s)) ? MASK : value;
  };
}

/** Drops paths below another listed path: `triggers_replace` covers `triggers_replace.generation`. */
function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q !== p && (p.startsWith(`${q}.`) || p.startsWith(`${q}[`))));
}

function toChange(rc: PlanResourceChange, drift: boolean, mask: ReturnType<typeof masker>): Change | undefined {
  if (rc.mode !== 'managed') return undefined;
  const action = actionOf(rc.change.actions);
  if (!action) return undefined;
  const notes: string[] = [];
  if (rc.action_reason) notes.push(`terraform: ${rc.action_reason}`);
  if (action === 'create' || action === 'delete') {
    return { address: rc.address, type: rc.type, action, attributes: [], risks: risksOf(rc.type, action, []), notes, ...(drift ? { drift } : {}) };
  }
  const differences = diffJson(rc.change.before ?? {}, rc.change.after ?? {});
  const seen = new Set(differences.map((d) => formatPath(d.segments)));
  const codeChanged = rc.type === 'aws_lambda_function' && [...seen].some((p) => CODE_ATTRIBUTES.has(p));
  const details: AttributeDetail[] = [];
  const changedByConfig: string[] = [];
  const entries = [
    ...differences.map((d) => ({ segments: d.segments, before: d.before, after: d.after })),
    // Values only the apply will know and that are absent from `after`: computed attributes that will change.
    ...unknownPaths(rc.change.after_unknown)
      .filter((segments) => !seen.has(formatPath(segments)) && subtree(rc.change.before, segments) !== undefined)
      .map((segments) => ({ segments, before: subtree(rc.change.before, segments), after: undefined })),
  ];
  for (const e of entries) {
    const p = formatPath(e.segments);
    const unknown = e.after === undefined && isMarkedSensitive(rc.change.after_unknown, e.segments);
    if (!unknown) changedByConfig.push(p);
    if (codeChanged && CODE_ATTRIBUTES.has(p)) continue;
    const hide = sensitiveAt(rc.change, e.segments);
    details.push({ path: p, before: mask(e.before, hide), after: unknown ? UNKNOWN : mask(e.after, hide) });
  }
  if (codeChanged) notes.push('function code changed');
  const replacePaths = (rc.change.replace_paths ?? []).map((p) => formatPath(p));
  const attributes = outermost([...replacePaths, ...changedByConfig]);
  const values = /parameter_group/.test(rc.type) ? details.flatMap((d) => [d.before, d.after]) : [];
  return { address: rc.address, type: rc.type, action, attributes, risks: risksOf(rc.type, action, attributes, values), notes, details, ...(drift ? { drift } : {}) };
}

function outputChange(name: string, change: PlanChange, mask: ReturnType<typeof masker>): Change | undefined {
  const action = actionOf(change.actions);
  if (!action || CROSS_STACK_OUTPUT.test(name)) return undefined;
  const sensitive = change.before_sensitive === true || change.after_sensitive === true || containsMarked(change.after_sensitive) || containsMarked(change.before_sensitive);
  const after = change.after_unknown === true ? UNKNOWN : change.after;
  const details = action === 'update' ? [{ path: name, before: mask(change.before, sensitive), after: mask(after, sensitive) }] : [];
  return { address: `output.${name}`, type: 'output', action, attributes: action === 'update' ? ['value'] : [], risks: [], details };
}

/** One stack's `show -json` as a stack report: changes, drift and outputs, values masked per `*_sensitive`. */
export function planToStackReport(stack: string, plan: PlanJson): StackReport {
  const mask = masker(secretsOf(plan));
  const changes: Change[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const c = toChange(rc, false, mask);
    if (c) changes.push(c);
  }
  for (const rc of plan.resource_drift ?? []) {
    const c = toChange(rc, true, mask);
    if (c) changes.push(c);
  }
  for (const [name, oc] of Object.entries(plan.output_changes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const c = outputChange(name, oc, mask);
    if (c) changes.push(c);
  }
  // A plan that only publishes a new cross-stack output still has to be applied before its dependants can plan.
  const publishes = Object.entries(plan.output_changes ?? {}).some(([name, oc]) => CROSS_STACK_OUTPUT.test(name) && actionOf(oc.actions));
  return { stack, status: changes.some((c) => !c.drift) || publishes ? 'changed' : 'unchanged', changes };
}

/**
 * Whether parsed JSON is `terraform show -json <planfile>` output: a `format_version` and the plan's
 * `resource_changes` or `planned_values` (state output, `terraform show -json` without a plan file, has neither).
 * https://developer.hashicorp.com/terraform/internals/json-format#plan-representation
 */
export function isPlanJson(value: unknown): value is PlanJson {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.format_version === 'string' && (Array.isArray(v.resource_changes) || (v.planned_values !== null && typeof v.planned_values === 'object'));
}

/** What a `--plans` source must hold, for the error when it holds none of it. */
export const PLAN_SOURCE_EXPECTED =
  'a `terraform show -json <planfile>` file (a JSON object with "format_version" and "resource_changes" or "planned_values"), ' +
  `or a directory of such files, or a directory that \`npm run plan\` wrote (with ${PLAN_SUMMARY_FILE})`;

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // a saved binary plan, a log, anything that is not JSON: not a plan to render
  }
}

/** `plan.json` → `plan`, `api-dev.plan.json` → `api-dev`: the stack a plan file stands for when nothing else names it. */
function stackNameOf(file: string): string {
  return path.basename(file).replace(/\.json$/i, '').replace(/\.plan$/i, '') || path.basename(file);
}

function planFile(stack: string, file: string): StackReport {
  const json = readJsonFile(file);
  if (!isPlanJson(json)) return { stack, status: 'error', changes: [], error: `${file} is missing or is not \`terraform show -json\` plan output` };
  return planToStackReport(stack, json);
}

/**
 * Reads plans into one report, recognising a plan by its content, whatever its file name:
 * - a directory `npm run plan` wrote: its plan-summary.json gives order, waiting and failed stacks;
 * - any other directory: every file in it whose content is plan JSON, by file name;
 * - a single plan file.
 * Throws when nothing there is a plan, so that a CI step that wrote no plan never reads as "no changes".
 */
export function readPlans(target: string): Report {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new Error(`--plans ${target}: no such file or directory; expected ${PLAN_SOURCE_EXPECTED}`);
  if (stat.isFile()) {
    if (!isPlanJson(readJsonFile(target))) throw new Error(`--plans ${target}: not a Terraform plan; expected ${PLAN_SOURCE_EXPECTED}`);
    return { source: 'plan', stacks: [planFile(stackNameOf(target), target)] };
  }
  const summaryFile = path.join(target, PLAN_SUMMARY_FILE);
  if (fs.existsSync(summaryFile)) {
    const summary = readJsonFile(summaryFile) as PlanSummary | undefined;
    if (!summary || !Array.isArray(summary.stacks) || summary.stacks.length === 0) {
      throw new Error(`--plans ${target}: ${PLAN_SUMMARY_FILE} lists no stack; expected ${PLAN_SOURCE_EXPECTED}`);
    }
    const stacks = summary.stacks.map((s): StackReport => {
      if (s.status === 'waiting') return { stack: s.stack, status: 'waiting', waitingFor: s.waitingFor ?? [], changes: [] };
      if (s.status === 'error' || !s.planJson) return { stack: s.stack, status: 'error', changes: [], error: s.error ?? 'no plan was written' };
      return planFile(s.stack, path.join(target, s.planJson));
    });
    return { source: 'plan', stacks };
  }
  const files = fs.readdirSync(target, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  const plans = files.filter((f) => isPlanJson(readJsonFile(path.join(target, f))));
  if (plans.length === 0) {
    const seen = files.length ? `it holds ${files.length} file(s), none of them a plan: ${files.slice(0, 10).join(', ')}${files.length > 10 ? ', …' : ''}` : 'it is empty';
    throw new Error(`--plans ${target}: no Terraform plan found (${seen}); expected ${PLAN_SOURCE_EXPECTED}`);
  }
  const names = plans.map(stackNameOf);
  // Two files for one name (`api.json`, `api.plan.json`) keep their file names, so neither hides the other.
  const unique = (name: string, i: number) => (names.indexOf(name) === names.lastIndexOf(name) ? name : plans[i]);
  return { source: 'plan', stacks: plans.map((f, i) => planFile(unique(names[i], i), path.join(target, f))) };
}
