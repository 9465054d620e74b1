/**
 * The text rewrites a switch makes, as pure functions: module specifiers in source files, and the engine's
 * packages and CLI script in package.json. Each is undone by the same call with the engines swapped, and
 * the switch refuses a file where that would not give back the same bytes (engine.ts).
 */
import type { Engine } from './engines';

/** Files whose module specifiers the switch rewrites. */
export const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|cjs|mjs)$/;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Where a module specifier stands: `from '…'`, `import '…'`, `import('…')`, `require('…')`,
 * `require.resolve('…')`, `jest.mock('…')` / `jest.requireActual('…')`.
 */
const SPECIFIER_CONTEXT = String.raw`(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*|\brequire(?:\.resolve)?\s*\(\s*|\bjest\.(?:mock|requireActual)\s*\(\s*)`;

/**
 * `text` with every import of `from`'s library and AWS binding (the package itself or a path inside it)
 * pointing at `to`'s. Strings that are not module specifiers (a tag value `'cdktf'`) stay as they are.
 */
export function rewriteImports(text: string, from: Engine, to: Engine): string {
  const specifier = new RegExp(`(${SPECIFIER_CONTEXT})(['"\`])(${escape(from.library)}|${escape(from.provider)})(?=['"\`/])`, 'g');
  return text.replace(specifier, (_match, context: string, quote: string, pkg: string) => `${context}${quote}${pkg === from.library ? to.library : to.provider}`);
}

/** The dependency versions a lock file records for its root package (package.json's own ranges). */
export function lockedRootRanges(lockText: string, file = 'package-lock.json'): Record<string, string> {
  const root = (JSON.parse(lockText) as { packages?: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }> }).packages?.[''];
  if (!root) throw new Error(`${file} has no root package entry (packages[""]): not a lock file npm 7 or later wrote`);
  return { ...root.dependencies, ...root.devDependencies };
}

/** The indentation and line ending npm keeps when it writes package.json back. */
function formatOf(text: string): { indent: string; eol: string; finalEol: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { indent: /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ', eol, finalEol: text.endsWith(eol) };
}

function format(value: unknown, style: { indent: string; eol: string; finalEol: boolean }): string {
  return JSON.stringify(value, null, style.indent).replace(/\n/g, style.eol) + (style.finalEol ? style.eol : '');
}

type PackageJson = Record<string, unknown> & { scripts?: Record<string, string>; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

/** `record` with `renames` applied to its keys, in the same key order. */
function renameKeys(record: Record<string, string>, renames: ReadonlyMap<string, { key: string; value: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => (renames.has(k) ? [renames.get(k)!.key, renames.get(k)!.value] : [k, v])));
}

/**
 * package.json for `to`: `from`'s library, CLI and AWS binding replaced by `to`'s at `toRanges` (the version
 * ranges `to`'s lock file records), and the CLI script renamed (`"cdktf": "… cdktf"` → `"cdktn": "… cdktn"`).
 * Key order, indentation and line endings are kept, so the switch back gives the same bytes.
 */
export function rewritePackageJson(text: string, from: Engine, to: Engine, toRanges: Readonly<Record<string, string>>): string {
  const pkg = JSON.parse(text) as PackageJson;
  const style = formatOf(text);
  if (format(pkg, style) !== text) throw new Error('package.json is not laid out as npm writes it (JSON.stringify with its own indentation), so a switch could not give it back byte for byte: format it that way first');
  const renames = new Map<string, { key: string; value: string }>();
  for (const role of ['library', 'cli', 'provider'] as const) {
    const range = toRanges[to[role]];
    if (range === undefined) throw new Error(`the ${to.title} lock file does not list ${to[role]} as a dependency of the project: refresh it (tools/engine/README.md, "Upgrade an engine")`);
    renames.set(from[role], { key: to[role], value: range });
  }
  const where = (name: string) => (pkg.dependencies?.[name] !== undefined ? 'dependencies' : pkg.devDependencies?.[name] !== undefined ? 'devDependencies' : undefined);
  for (const role of ['library', 'cli', 'provider'] as const) {
    if (!where(from[role])) throw new Error(`package.json: neither dependencies nor devDependencies list ${from[role]} (the ${from.title} ${role === 'library' ? 'library' : role === 'cli' ? 'CLI' : 'AWS binding'})`);
  }
  const script = pkg.scripts?.[from.command];
  if (script === undefined) throw new Error(`package.json: no "${from.command}" script (the ${from.title} CLI, npm run ${from.command})`);
  const out: PackageJson = { ...pkg };
  if (pkg.dependencies) out.dependencies = renameKeys(pkg.dependencies, renames);
  if (pkg.devDependencies) out.devDependencies = renameKeys(pkg.devDependencies, renames);
  out.scripts = renameKeys(pkg.scripts!, new Map([[from.command, { key: to.command, value: script.replace(new RegExp(`\\b${escape(from.command)}\\b`, 'g'), to.command) }]]));
  return format(out, style);
}
