import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { zipSync } from 'fflate';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The Node.js major every function runs on. Lambda's `nodejs24.x` is supported to 2028-04-30 and has no
 * callback handlers (every handler here is async); AWS provider 6.19 and later accept it
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
 */
export const FUNCTION_NODE_MAJOR = 24;
/** The Lambda runtime identifier of FUNCTION_NODE_MAJOR. */
export const LAMBDA_RUNTIME = `nodejs${FUNCTION_NODE_MAJOR}.x` as const;
/** What esbuild targets: the runtime's Node.js major, so the bundle uses no syntax that Node lacks and lowers none that it has. */
export const FUNCTION_NODE_TARGET = `node${FUNCTION_NODE_MAJOR}`;

/**
 * The package a file belongs to: the nearest folder above it that holds a `package.json`. esbuild resolves
 * the entry's imports from there, and paths recorded for the cache (and hashed for migrations) are relative
 * to it, so nothing depends on where this module lives or on the machine's paths.
 */
export function packageRoot(file: string): string {
  const absolute = path.resolve(file);
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`${absolute} is not inside a package (no package.json above it)`);
  }
}

/**
 * Where `root`'s bundles are cached: with the installed packages they were built from, so `npm ci` starts
 * them afresh. `FUNCTION_BUNDLE_CACHE_DIR` moves them (a CI cache, or a test that needs a cold start beside warm ones).
 */
export function bundleCacheDir(root: string): string {
  return process.env.FUNCTION_BUNDLE_CACHE_DIR || path.join(root, 'node_modules', '.cache', 'hits-functions');
}
/** Bump when the archive layout changes, so older cache entries are not reused. */
const CACHE_FORMAT = 3;

export interface BundleResult {
  /** Minified CommonJS source of the whole function, dependencies included. */
  readonly code: string;
  /** sha256 of `code`, hex. */
  readonly sha256: string;
  /** A deterministic zip holding `index.js`: the same bytes for the same code on any machine, in any time zone. */
  readonly archivePath: string;
  /** True when the bundle came from BUNDLE_CACHE_DIR and esbuild did not run. */
  readonly fromCache: boolean;
}

interface CacheManifest {
  readonly format: number;
  /** Every file esbuild read (its metafile inputs), relative to the entry's package root: its sha256, size and mtime. */
  readonly inputs: Record<string, InputStamp>;
  /** sha256 of the bundle; its directory is named after it. */
  readonly sha256: string;
  /** The stored archive's stamp: a replaced or damaged archive is rebuilt, never deployed. */
  readonly archive: InputStamp;
}

interface InputStamp {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Stamps already taken in this process: the functions share most of their inputs. */
const stamps = new Map<string, InputStamp>();

/** A file's stamp; its content is hashed only when size or mtime differ from `known` (as after a fresh checkout). */
function stamp(file: string, known?: InputStamp): InputStamp {
  const seen = stamps.get(file);
  if (seen) return seen;
  const st = fs.statSync(file);
  const fresh = known && known.size === st.size && known.mtimeMs === st.mtimeMs ? known : { sha256: sha256(fs.readFileSync(file)), size: st.size, mtimeMs: st.mtimeMs };
  stamps.set(file, fresh);
  return fresh;
}

const built = new Map<string, BundleResult>();

/** The esbuild options of a function bundle, shared with the benchmarks that compare variants of it. */
export function bundleOptions(absoluteEntry: string): BuildOptions & { write: false } {
  return {
    entryPoints: [absoluteEntry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    target: FUNCTION_NODE_TARGET,
    minify: true,
    // Prefer the ES module builds (AWS SDK v3 ships both): they tree-shake, which keeps the bundle
    // about 150 KB smaller (1.52 MB -> 1.37 MB with mysql2, the signer and Secrets Manager).
    mainFields: ['module', 'main'],
    legalComments: 'none',
    sourcemap: false,
    absWorkingDir: packageRoot(absoluteEntry),
    logLevel: 'silent',
  };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The zip Lambda receives. Built in-process (no child process per stack, as cdktf's ARCHIVE asset does)
 * with a fixed entry time and mode. fflate writes the DOS time from local-time fields, so the date is
 * built from local fields too: 1980-01-01 00:00, the earliest a zip entry holds, in every time zone.
 */
export function deterministicZip(code: string): Uint8Array {
  const file = new TextEncoder().encode(code);
  const regularFile0644 = (0o100644 << 16) >>> 0;
  return zipSync({ 'index.js': [file, { mtime: new Date(1980, 0, 1, 0, 0, 0), os: 3, attrs: regularFile0644, level: 9 }] });
}

/** A bundle whose code is read from disk only when asked for: a synth needs the archive and the hash, not the code. */
function result(dir: string, sha: string, fromCache: boolean, code?: string): BundleResult {
  let text = code;
  return {
    get code() {
      return (text ??= fs.readFileSync(path.join(dir, 'index.js'), 'utf8'));
    },
    sha256: sha,
    archivePath: path.join(dir, 'archive.zip'),
    fromCache,
  };
}

/** The entry's cached bundle, if every input esbuild read for it and the stored archive are unchanged. */
function cached(entryDir: string, root: string): BundleResult | undefined {
  try {
    const manifest: CacheManifest = JSON.parse(fs.readFileSync(path.join(entryDir, 'manifest.json'), 'utf8'));
    if (manifest.format !== CACHE_FORMAT) return undefined;
    // Hundreds of inputs (the AWS SDK, mysql2, …): unchanged size and mtime skip the hash, which is what
    // makes a synth that changed no function code cost milliseconds here; a changed stamp is re-hashed.
    for (const [input, known] of Object.entries(manifest.inputs)) {
      if (stamp(path.join(root, input), known).sha256 !== known.sha256) return undefined;
    }
    const dir = path.join(entryDir, manifest.sha256.slice(0, 16));
    if (stamp(path.join(dir, 'archive.zip'), manifest.archive).sha256 !== manifest.archive.sha256) return undefined;
    return result(dir, manifest.sha256, true);
  } catch {
    return undefined;
  }
}

/**
 * Stores a bundle under its own hash, then points the entry's manifest at it. Content-addressed and
 * renamed into place, so concurrent synths (jest workers) never see half an entry or lose each other's.
 */
function store(entryDir: string, code: string, inputs: Record<string, InputStamp>): BundleResult {
  const sha = sha256(code);
  const dir = path.join(entryDir, sha.slice(0, 16));
  const archivePath = path.join(dir, 'archive.zip');
  const zip = deterministicZip(code);
  const stored = fs.existsSync(archivePath) && sha256(fs.readFileSync(archivePath)) === sha256(zip);
  if (!stored) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, 'index.js'), code);
    fs.writeFileSync(path.join(tmp, 'archive.zip'), zip);
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process stored the same bytes first
    }
  }
  stamps.delete(archivePath);
  const manifest: CacheManifest = { format: CACHE_FORMAT, inputs, sha256: sha, archive: stamp(archivePath) };
  const manifestTmp = path.join(entryDir, `manifest.${process.pid}.tmp`);
  fs.writeFileSync(manifestTmp, JSON.stringify(manifest));
  fs.renameSync(manifestTmp, path.join(entryDir, 'manifest.json'));
  return result(dir, sha, false, code);
}

/**
 * Bundles a function entry point (absolute, or relative to the working directory, e.g.
 * `functions/hits/handler.ts` from the project root) into one minified CJS file and its deterministic zip. Once per process and entry; across processes, reused from BUNDLE_CACHE_DIR while
 * every file esbuild read last time (its metafile inputs) is unchanged, so a synth that changed no
 * function code runs no esbuild. The output carries no absolute path: the hash changes only with the code.
 */
export function bundleFunction(entry: string): BundleResult {
  const absolute = path.resolve(entry);
  const hit = built.get(absolute);
  if (hit) return hit;

  const root = packageRoot(absolute);
  const opts = bundleOptions(absolute);
  const key = sha256(JSON.stringify({ entry: path.relative(root, absolute), esbuildVersion, opts: { ...opts, entryPoints: undefined, absWorkingDir: undefined } }));
  const entryDir = path.join(bundleCacheDir(root), `${path.basename(path.dirname(absolute))}-${key.slice(0, 16)}`);
  let bundle = cached(entryDir, root);
  if (!bundle) {
    const out = buildSync(opts);
    const code = out.outputFiles![0].text;
    const inputs = Object.fromEntries(Object.keys(out.metafile!.inputs).map((input) => [input, stamp(path.join(root, input))]));
    fs.mkdirSync(entryDir, { recursive: true });
    bundle = store(entryDir, code, inputs);
  }
  built.set(absolute, bundle);
  return bundle;
}
