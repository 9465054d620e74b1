/** The report that `npm run review` prints as Markdown and writes with `--json`; the same shape for synth and plan sources. */
import { types } from 'util';

export type ChangeAction = 'create' | 'update' | 'replace' | 'delete';

/** What a reviewer should look at twice. See risks.ts for the rules. */
export type Risk = 'data-loss' | 'security' | 'availability' | 'cost';

/**
 * `added`/`removed`: the stack exists in one revision only (synth); `changed`/`unchanged`: what the plan or
 * comparison found; `waiting`: an upstream stack must be applied first; `error`: it could not be planned, or
 * its plan could not be read (see `error`). An error is never `unchanged`.
 */
export type StackStatus = 'added' | 'removed' | 'changed' | 'unchanged' | 'waiting' | 'error';

/** One changed attribute with its values, already masked where sensitive. Markdown only shows these. */
export interface AttributeDetail {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface Change {
  /** `aws_db_instance.mysql_instance_FB221159`, or `output.<name>` for a stack output. */
  readonly address: string;
  /** Resource type (`aws_db_instance`), or `output`. */
  readonly type: string;
  readonly action: ChangeAction;
  /** Attribute paths that changed (`vpc_config.subnet_ids`, `parameter[0].value`); for a replace, the ones that force it first. */
  readonly attributes: string[];
  readonly risks: Risk[];
  /** Human notes: why a replace happens, "function code changed (…)", a missing table entry. */
  readonly notes?: string[];
  /** True for a change Terraform found outside Terraform (`resource_drift`), not one this change makes. */
  readonly drift?: boolean;
  /** Values per attribute for the Markdown details; never in the JSON (kept small and secret-free by construction). */
  readonly details?: AttributeDetail[];
}

/** A provider's source address and version constraint, as a stack's `terraform.required_providers` names it. */
export interface ProviderRequirement {
  readonly source: string;
  readonly version?: string;
}

/**
 * (synth) A provider requirement that changed: `terraform init` would install another provider or version
 * (an engine switch moves the AWS provider from 6.25.0 to 6.66.0). Absent `before`: added; absent `after`: removed.
 */
export interface ProviderChange {
  /** The provider's local name (`aws`). */
  readonly name: string;
  readonly before?: ProviderRequirement;
  readonly after?: ProviderRequirement;
}

export interface StackReport {
  readonly stack: string;
  readonly status: StackStatus;
  /** Provider requirements that changed (synth only); a stack with one is `changed` even with no resource change. */
  readonly providers?: ProviderChange[];
  /** Upstream stacks that must be applied before this one can be planned. */
  readonly waitingFor?: string[];
  readonly changes: Change[];
  /** With status `error`: what failed (kept short). */
  readonly error?: string;
}

export interface Report {
  readonly source: 'synth' | 'plan';
  /** One line for the heading: what was compared. */
  readonly title?: string;
  readonly stacks: StackReport[];
}

/** What `npm run plan` records per stack in plan-summary.json, next to the `show -json` files. */
export interface PlanSummary {
  readonly stacks: Array<{ stack: string; status: 'planned' | 'waiting' | 'error'; waitingFor?: string[]; error?: string; planJson?: string }>;
}

/** `terraform plan -detailed-exitcode` semantics: 0 nothing to do, 2 changes (or stacks waiting), 1 error. */
export function exitCodeOf(report: Report): 0 | 1 | 2 {
  if (report.stacks.some((s) => s.status === 'error' || s.error)) return 1;
  return report.stacks.some((s) => s.status !== 'unchanged') ? 2 : 0;
}

/** The report as the documented JSON: details (values) are left out. */
export function toJson(report: Report): object {
  return {
    source: report.source,
    stacks: report.stacks.map((s) => ({
      stack: s.stack,
      status: s.status,
      ...(s.waitingFor ? { waitingFor: s.waitingFor } : {}),
      ...(s.error ? { error: s.error } : {}),
      ...(s.providers?.length ? { providers: s.providers } : {}),
      changes: s.changes.map((c) => ({
        address: c.address,
        type: c.type,
        action: c.action,
        attributes: c.attributes,
        risks: c.risks,
        ...(c.notes?.length ? { notes: c.notes } : {}),
        ...(c.drift ? { drift: true } : {}),
      })),
    })),
  };
}

/** Where a command writes: the process's streams from the command line, buffers when a test calls it. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}
export { PROCESS_IO } from '../command-line';

/**
 * A failure the review or plan anticipated: a plain Error, which tools/review/lib throws with a message that
 * says what failed, or a system error (ENOENT on a path given). A TypeError and its kin are bugs.
 */
export const isReviewError = (err: unknown): boolean => types.isNativeError(err) && err.name === 'Error';
