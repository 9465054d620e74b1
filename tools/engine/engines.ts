/**
 * The two engines this project runs on, and the one place that says how they differ.
 *
 * cdktf (CDK for Terraform) is the default: the users chose it, and a fresh clone runs it. HashiCorp archived
 * it on 2025-12-10; CDK Terrain (`cdktn`) is its community continuation, a rename of the packages and the CLI
 * that keeps `cdktf.json`, `cdktf.out/stacks/<stack>/cdk.tf.json`, logical ids and state. `npm run engine`
 * switches a checkout between them (tools/engine/README.md).
 *
 * Versions are not written here: each engine's lock file holds them (package-lock.json for the active engine,
 * tools/engine/<engine>.package-lock.json for the other), so an upgrade is an `npm install` under that engine.
 */
import * as fs from 'fs';
import * as path from 'path';

export type EngineName = 'cdktf' | 'cdktn';

export interface Engine {
  readonly name: EngineName;
  /** What the documentation calls it. */
  readonly title: string;
  /** The construct library the app imports. */
  readonly library: string;
  /** The package of the command-line tool (a devDependency). */
  readonly cli: string;
  /** The prebuilt AWS provider binding; resources are imported from `<provider>/lib/<resource>`. */
  readonly provider: string;
  /** The command the CLI package installs, and the npm script that runs it (`npm run cdktf -- synth`). */
  readonly command: string;
}

export const ENGINES: Readonly<Record<EngineName, Engine>> = {
  cdktf: { name: 'cdktf', title: 'CDK for Terraform', library: 'cdktf', cli: 'cdktf-cli', provider: '@cdktf/provider-aws', command: 'cdktf' },
  cdktn: { name: 'cdktn', title: 'CDK Terrain', library: 'cdktn', cli: 'cdktn-cli', provider: '@cdktn/provider-aws', command: 'cdktn' },
};

/** The engine of a fresh clone. */
export const DEFAULT_ENGINE: EngineName = 'cdktf';

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];

export function isEngineName(name: string): name is EngineName {
  return Object.prototype.hasOwnProperty.call(ENGINES, name);
}

/** Where the lock file of an engine that is not active waits: tools/engine/<engine>.package-lock.json. */
export function parkedLockPath(root: string, engine: EngineName): string {
  return path.join(root, 'tools', 'engine', `${engine}.package-lock.json`);
}

type PackageJson = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

/** The engine whose library package.json depends on; an error when it names none or both. */
function engineOfPackageJson(pkg: PackageJson, file = 'package.json'): Engine {
  const found = ENGINE_NAMES.filter((name) => pkg.dependencies?.[ENGINES[name].library] !== undefined);
  if (found.length !== 1) {
    throw new Error(`${file}: dependencies must name exactly one engine library (${ENGINE_NAMES.map((n) => ENGINES[n].library).join(' or ')}), found ${found.length ? found.join(' and ') : 'none'}`);
  }
  return ENGINES[found[0]];
}

/** The engine a checkout runs now, read from its package.json. */
export function activeEngine(root: string): Engine {
  const file = path.join(root, 'package.json');
  return engineOfPackageJson(JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson, file);
}

/** A file of a synth output (`cdktf.out`) whose content the engines write differently in one place. */
export type SynthFile = 'stack' | 'manifest';

/**
 * Where the two engines' synth output may differ, and why; everything else must be equal leaf by leaf
 * (`npm run parity` checks it on every change, docs/engines.md explains it to users). `file`: a stack's
 * `cdk.tf.json` or the output's `manifest.json`; `path`: the keys down to the leaf. Differences removed in the
 * code instead, so not listed: the provider source (stacks/base-stack.ts writes `hashicorp/aws` under both)
 * and the memcached endpoints local (modules/memcached-cluster.ts writes its own for expression).
 */
export const ALLOWED_DIFFERENCES: ReadonlyArray<{ readonly file: SynthFile; readonly path: readonly string[]; readonly why: string }> = [
  {
    file: 'stack',
    path: ['terraform', 'required_providers', 'aws', 'version'],
    why: "each engine's prebuilt AWS binding pins the provider version it was generated from",
  },
  {
    file: 'stack',
    path: ['//', 'metadata', 'version'],
    why: "the engine's own version, written as metadata: Terraform does not read it",
  },
  {
    file: 'manifest',
    path: ['version'],
    why: "the engine's own version: the CLIs read the manifest's stacks, not this",
  },
];

/** True when the leaf at `segments` of `file` may differ between the engines. */
export function isAllowedDifference(file: SynthFile, segments: ReadonlyArray<string | number>): boolean {
  return ALLOWED_DIFFERENCES.some((d) => d.file === file && d.path.length === segments.length && d.path.every((key, i) => key === String(segments[i])));
}

/** What `maskEngineDifferences` writes in place of a leaf the engines may write differently. */
export const ENGINE_SPECIFIC = '<engine-specific>';

/**
 * A copy of `json` (a parsed `file` of a synth output) with each allowed difference that is present replaced
 * by ENGINE_SPECIFIC, and nothing else: one snapshot then holds under either engine.
 */
export function maskEngineDifferences<T>(file: SynthFile, json: T): T {
  const copy = structuredClone(json) as Record<string, unknown>;
  for (const d of ALLOWED_DIFFERENCES.filter((x) => x.file === file)) {
    let node: Record<string, unknown> | undefined = copy;
    for (const key of d.path.slice(0, -1)) node = node?.[key] !== null && typeof node?.[key] === 'object' ? (node[key] as Record<string, unknown>) : undefined;
    const leaf = d.path[d.path.length - 1];
    if (node && leaf in node) node[leaf] = ENGINE_SPECIFIC;
  }
  return copy as T;
}
