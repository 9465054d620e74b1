/** What the review never prints: values of sensitive attributes and outputs. */

export const MASK = '(sensitive)';

/** Attribute names that say they hold a credential. Matched on each path segment (`environment.variables.DB_PASSWORD`). */
const SENSITIVE_NAME = /password|secret|token|private_key|credential/i;

export function isSensitiveName(attributePath: string): boolean {
  return attributePath.split(/[.[\]]/).some((segment) => SENSITIVE_NAME.test(segment));
}

/**
 * Whether `path` (segments) is marked in a Terraform `*_sensitive` tree: `true` at the path or at any
 * ancestor marks it; objects and arrays mirror the value's shape.
 */
export function isMarkedSensitive(tree: unknown, path: readonly (string | number)[]): boolean {
  let node = tree;
  if (node === true) return true;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string | number, unknown>)[segment];
    if (node === true) return true;
  }
  return false;
}

/** Whether any value in a `*_sensitive` tree is marked: a whole object containing a secret must not print. */
export function containsMarked(tree: unknown): boolean {
  if (tree === true) return true;
  if (tree === null || typeof tree !== 'object') return false;
  return Object.values(tree as object).some(containsMarked);
}
