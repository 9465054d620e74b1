import { PlanJson, planToStackReport } from './plan-json';
import { isDestructive } from './risks';

/**
 * The apply guard: before `terraform apply` of a saved plan, the stateful resources (database, cache,
 * secret, log group, key: risks.ts STATEFUL_TYPES) it would replace or delete. Applying goes on only when
 * there are none, or when the replacement was approved (`--allow-replace`).
 * Returns why the apply must stop, or undefined when it may go on.
 */
export function applyRefusal(stack: string, plan: PlanJson, allowReplace: boolean): string | undefined {
  if (allowReplace) return undefined;
  const destructive = planToStackReport(stack, plan).changes.filter(isDestructive);
  if (destructive.length === 0) return undefined;
  return `would ${destructive.map((c) => `${c.action} ${c.address}`).join(', ')}; rerun with --allow-replace if this is intended`;
}
