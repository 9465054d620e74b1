#!/usr/bin/env node
/**
 * The cdktf app command (cdktf.json, `npm run synth`): main.ts run as compiled JavaScript.
 *
 * Why not tsx: its require hook scans every JavaScript file Node loads for ES module syntax, and a synth
 * loads ~450 of them (cdktf, the provider's resources): measured here, 0.92 s per synth under
 * `node --require tsx/cjs main.ts` against 0.49 s compiled. So esbuild (already here for the functions)
 * bundles our TypeScript into .build/app.js, with every package left external, and Node runs that.
 * It rebuilds only when a file it read last time changed (esbuild's metafile inputs, checked by size and
 * mtime, then by content). Type checking stays with `tsc --noEmit`, as with tsx.
 * The bundle sits one directory below the project root, as main.ts's modules do, so their
 * `path.resolve(__dirname, '..')` still names the project root.
 *
 * cdktf.json and `npm run synth` start it with `--disable-warning=DEP0044`: cdktf 0.21 (archived) calls
 * `util.isArray`, which Node.js 22 and later flag at run time; the warning is cdktf's, harmless, and would
 * otherwise open every synth's output. CDK Terrain no longer calls it (docs/engines.md).
 */
'use strict';
const { createHash } = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, '.build');
const APP = path.join(OUT_DIR, 'app.js');
const MANIFEST = path.join(OUT_DIR, 'app.manifest.json');

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function stamp(file, known) {
  const st = fs.statSync(file);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known;
  return { sha256: sha256(fs.readFileSync(file)), size: st.size, mtimeMs: st.mtimeMs };
}

/** True when .build/app.js was built by this esbuild, for this target, from exactly the files on disk now. */
function upToDate(esbuildVersion, target) {
  try {
    const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
    if (manifest.esbuildVersion !== esbuildVersion || manifest.target !== target || stamp(APP, manifest.app).sha256 !== manifest.app.sha256) return false;
    return Object.entries(manifest.inputs).every(([input, known]) => stamp(path.join(ROOT, input), known).sha256 === known.sha256);
  } catch {
    return false;
  }
}

function build() {
  // The toolchain's floor, the major of package.json's engines.node (">=22.19.0": node22).
  const target = `node${/\d+/.exec(require(path.join(ROOT, 'package.json')).engines.node)[0]}`;
  // The version from package.json: loading esbuild itself costs more than the whole check.
  if (upToDate(require('esbuild/package.json').version, target)) return;
  const esbuild = require('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [path.join(ROOT, 'main.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target,
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  // Renamed into place: a concurrent synth reads the old app or the new one, never half of one.
  const tmp = `${APP}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out.outputFiles[0].contents);
  fs.renameSync(tmp, APP);
  const inputs = Object.fromEntries(Object.keys(out.metafile.inputs).map((input) => [input, stamp(path.join(ROOT, input))]));
  const manifestTmp = `${MANIFEST}.${process.pid}.tmp`;
  fs.writeFileSync(manifestTmp, JSON.stringify({ esbuildVersion: esbuild.version, target, app: stamp(APP), inputs }));
  fs.renameSync(manifestTmp, MANIFEST);
}

build();
require(APP);
