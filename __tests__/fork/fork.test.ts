/**
 * What a fork does to this project, done for real in a copy of it: edit config/, synthesize, accept
 * snapshots, run the tests that depend on the profiles (the fast tier). Each scenario is one the
 * documentation tells users to perform, read from the documentation itself, and each holds on any fork,
 * including one that already took those steps: it works on the profiles that exist.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Profile, PROFILES } from '../../config';
import { SYNTH_DIR_VARIABLE } from '../support/synth';
import { strict, withoutCache } from '../support/variants';
import { activeEngine } from '../../tools/engine/engines';
import { copyCheckout } from '../../tools/engine/workspace';

const ROOT = path.resolve(__dirname, '../..');
let copy: string;

/** README.md and every page under docs/: where a user reads the steps. */
function documentation(): Array<{ file: string; text: string }> {
  const pages = ['README.md'];
  const docs = path.join(ROOT, 'docs');
  if (fs.existsSync(docs)) pages.push(...fs.readdirSync(docs, { recursive: true }).map((f) => path.join('docs', String(f))).filter((f) => f.endsWith('.md')));
  return pages.sort().map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
}

/** The section under the first Markdown heading matching `title` in the documentation, up to the next heading of its level or above. */
function section(title: RegExp): { file: string; text: string } {
  for (const { file, text } of documentation()) {
    const lines = text.split('\n');
    let fenced = false;
    for (let i = 0; i < lines.length; i++) {
      if (/^\s*```/.test(lines[i])) fenced = !fenced;
      const heading = fenced ? null : /^(#+)\s+(.*)$/.exec(lines[i]);
      if (!heading || !title.test(heading[2])) continue;
      const level = heading[1].length;
      let end = i + 1;
      for (let inFence = false; end < lines.length; end++) {
        if (/^\s*```/.test(lines[end])) inFence = !inFence;
        const next = inFence ? null : /^(#+)\s/.exec(lines[end]);
        if (next && next[1].length <= level) break;
      }
      return { file, text: lines.slice(i, end).join('\n') };
    }
  }
  throw new Error(`no heading matching ${title} in README.md or docs/: update this scenario and the documentation together`);
}

/** The project as a user's fork has it (tracked and new files, nothing ignored, committed on main), with this node_modules linked in. */
function copyProject(): string {
  const dir = copyCheckout(ROOT, 'fork-');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(command: string, args: string[], timeoutMs = 120_000): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: path.join(copy, 'cdktf.out'), CHECKPOINT_DISABLE: '1' };
  delete env.JEST_WORKER_ID;
  delete env.TF_STATE_BUCKET;
  // The copy's own jest run synthesizes the copy's stacks, never reads this run's.
  delete env[SYNTH_DIR_VARIABLE];
  const r = spawnSync(command, args, { cwd: copy, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Replaces `from` by `to` in a file of the copy; fails loudly if `from` is not there, so a drifted step cannot pass silently. */
function edit(file: string, from: string | RegExp, to: string): void {
  const full = path.join(copy, file);
  const text = fs.readFileSync(full, 'utf8');
  if (typeof from === 'string' ? !text.includes(from) : !from.test(text)) throw new Error(`${file} no longer contains ${from}: update this scenario and the documented step it performs`);
  fs.writeFileSync(full, text.replace(from, to));
}

function synthesizedStacks(): Record<string, string> {
  const stacks = path.join(copy, 'cdktf.out', 'stacks');
  return Object.fromEntries(fs.readdirSync(stacks).map((id) => [id, fs.readFileSync(path.join(stacks, id, 'cdk.tf.json'), 'utf8')]));
}

/** A profile's declaration: `export const <name>: <type> = {` (the head kept when a test rewrites the value). */
const DECLARATION = /export const (\w+)(?:\s*:\s*[\w.]+)?\s*=\s*\{/;

/** The file of config/ that defines `profile` (by its name), and the name it is exported under. */
function profileFile(profile: Pick<Profile, 'name'>, dir = copy): { file: string; exportName: string } {
  for (const f of fs.readdirSync(path.join(dir, 'config'))) {
    const text = fs.readFileSync(path.join(dir, 'config', f), 'utf8');
    const exported = DECLARATION.exec(text);
    if (exported && text.includes(`name: '${profile.name}'`)) return { file: path.join('config', f), exportName: exported[1] };
  }
  throw new Error(`no file in config/ defines the profile "${profile.name}"`);
}

function synth(): { status: number | null; output: string } {
  fs.rmSync(path.join(copy, 'cdktf.out'), { recursive: true, force: true });
  return run('npm', ['run', '-s', 'synth']);
}

beforeAll(() => {
  copy = copyProject();
});
afterAll(() => {
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

describe('a fork edits its profiles', () => {
  // The first profile is the one edited; every other one must not move.
  const target = PROFILES[0];
  let baseline: Record<string, string>;
  let targetFile: string;
  let original: string;

  beforeAll(() => {
    targetFile = profileFile(target).file;
    original = fs.readFileSync(path.join(copy, targetFile), 'utf8');
    const r = synth();
    expect(r).toMatchObject({ status: 0 });
    baseline = synthesizedStacks();
  });
  afterEach(() => fs.writeFileSync(path.join(copy, targetFile), original));

  test('a misspelt key stops synth with the path and the nearest valid key', () => {
    edit(targetFile, /flowLogs: (true|false),/, '$&\n    flowlogs: true,');
    const r = synth();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`profile "${target.name}": network.flowlogs: unknown setting, did you mean flowLogs?`);
  });

  test('a profile with several mistakes names every one, with no stack trace, in npm run synth and in the CLI (cdktf, or cdktn under CDK Terrain)', () => {
    edit(targetFile, /flowLogs: (true|false),/, '$&\n    flowlogs: true,');
    edit(targetFile, /azCount: \d+,/, 'azCount: 1,');
    // The function timeout equal to the proxy's borrow timeout: a rule that relates two settings.
    edit(targetFile, /\btimeoutSeconds: \d+,/, `timeoutSeconds: ${target.proxy.connectionBorrowTimeoutSeconds},`);
    const expected = [
      `profile "${target.name}": network.flowlogs: unknown setting, did you mean flowLogs?`,
      `profile "${target.name}": network.azCount must be an integer from 2 to 4, got 1`,
      `profile "${target.name}": function.timeoutSeconds must be greater than proxy.connectionBorrowTimeoutSeconds`,
    ];
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fork-cli-'));
    try {
      for (const r of [synth(), run('npm', ['run', '-s', activeEngine(ROOT).command, '--', 'synth', '--output', outdir])]) {
        expect(r.status).toBe(1);
        expect(r.output).toContain('3 problems in the profiles:');
        for (const line of expected) expect(r.output).toContain(line);
        expect(r.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("rewriting every value of one profile leaves every other environment's JSON byte-identical", () => {
    // A valid profile that differs from the shipped one in every section: strict policies, no cache, 4 AZs, other sizes.
    const mutated = withoutCache(strict(target, target.name));
    const changed: Profile = {
      ...mutated,
      region: target.region === 'eu-west-1' ? 'eu-central-1' : 'eu-west-1',
      tags: { CostCenter: 'fork-test' },
      network: { ...mutated.network, vpcCidr: '10.99.0.0/16', azCount: target.network.azCount === 4 ? 3 : 4 },
      database: { ...mutated.database, allocatedStorageGb: target.database.allocatedStorageGb + 10, databaseName: 'forked', masterUsername: 'fork_admin', appUsername: 'fork_app' },
      proxy: { ...mutated.proxy, maxConnectionsPercent: 80, maxIdleConnectionsPercent: 40, idleClientTimeoutSeconds: 900 },
      function: { ...mutated.function, memoryMb: target.function.memoryMb === 1024 ? 2048 : 1024 },
      api: { throttlingBurstLimit: 7, throttlingRateLimit: 3 },
      hits: { retentionDays: target.hits.retentionDays + 1 },
      logRetentionDays: target.logRetentionDays === 30 ? 60 : 30,
    };
    // The file's imports and declaration stay; its value is replaced whole.
    const declaration = DECLARATION.exec(original)!;
    fs.writeFileSync(path.join(copy, targetFile), `${original.slice(0, declaration.index + declaration[0].length - 1)}${JSON.stringify(changed, null, 2)};\n`);
    const r = synth();
    expect(r).toMatchObject({ status: 0 });
    const after = synthesizedStacks();
    expect(Object.keys(after).sort()).toEqual(Object.keys(baseline).sort());
    const targetStacks = Object.keys(baseline).filter((id) => id.endsWith(`-${target.name}`));
    expect(targetStacks.length).toBeGreaterThan(0);
    for (const id of targetStacks) expect(after[id]).not.toBe(baseline[id]);
    const others = Object.keys(baseline).filter((id) => !targetStacks.includes(id));
    expect(others.filter((id) => after[id] !== baseline[id])).toEqual([]);
  });
});

/** `example` if no profile or file in config/ has that name yet, else `example2`, `example3`…: what a fork that already took the step would pick next. */
function freeName(example: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? example : `${example}${n}`;
    if (!taken.has(name)) return name;
  }
}

/** The documented VPC range if no profile uses its /16 yet, else the next free /16 after it. */
function freeCidr(example: string, used: readonly string[]): string {
  const [a, b] = example.split('.').map(Number);
  const busy = new Set(used.map((cidr) => cidr.split('.').slice(0, 2).join('.')));
  for (let second = b; second < 256; second++) if (!busy.has(`${a}.${second}`)) return `${a}.${second}.0.0/16`;
  throw new Error(`no free /16 after ${example}`);
}

describe('the documented steps', () => {
  // The steps as the documentation writes them: which profile to copy, the new environment's example name and
  // VPC range, the command that accepts snapshots, and which profile loses its cache.
  const addEnvironment = section(/^add an environment$/i);
  const cacheOff = section(/^turn the cache off$/i);
  const copyStep = /cp config\/(\w+)\.ts config\/(\w+)\.ts/.exec(addEnvironment.text);
  const cidrStep = /vpcCidr: '([^']+)'/.exec(addEnvironment.text);
  const acceptStep = /^((?:npx jest|npm run [\w:]+ --)[^#\n]*\s-u)[ \t]*(?:#.*)?$/m.exec(addEnvironment.text);
  const cacheStep = /config\/(\w+)\.ts: cache: \{ enabled: false/.exec(cacheOff.text);

  test('name profiles that exist, the command that accepts snapshots, and the test command', () => {
    expect({ file: addEnvironment.file, copy: copyStep?.[0], cidr: cidrStep?.[0], accept: acceptStep?.[1], tests: /^npm test\b/m.test(addEnvironment.text) }).toEqual({
      file: addEnvironment.file,
      copy: expect.any(String),
      cidr: expect.any(String),
      accept: expect.any(String),
      tests: true,
    });
    expect({ file: cacheOff.file, cache: cacheStep?.[0] }).toEqual({ file: cacheOff.file, cache: expect.any(String) });
    const files = PROFILES.map((p) => profileFile(p, ROOT).file);
    expect(files).toContain(`config/${copyStep![1]}.ts`);
    expect(files).toContain(`config/${cacheStep![1]}.ts`);
  });

  test('add an environment copied from a profile and turn the cache off in another: accept snapshots, then the tests that depend on the profiles pass', () => {
    const [, sourceName, exampleName] = copyStep!;
    // A fork that already added the example environment gets the next free name and VPC range.
    const taken = new Set([...PROFILES.map((p) => p.name), ...fs.readdirSync(path.join(copy, 'config')).map((f) => f.replace(/\.ts$/, ''))]);
    const newName = freeName(exampleName, taken);
    const cidr = freeCidr(cidrStep![1], PROFILES.map((p) => p.network.vpcCidr));
    const source = profileFile(PROFILES.find((p) => profileFile(p).file === `config/${sourceName}.ts`)!);
    const newFile = `config/${newName}.ts`;
    // "Add an environment"
    fs.copyFileSync(path.join(copy, source.file), path.join(copy, newFile));
    edit(newFile, new RegExp(`export const ${source.exportName}\\b`), `export const ${newName}`);
    edit(newFile, /name: '[^']+'/, `name: '${newName}'`);
    edit(newFile, /vpcCidr: '[^']+'/, `vpcCidr: '${cidr}'`);
    edit('config/index.ts', /^(import [^\n]+\n)(?!import)/m, `$1import { ${newName} } from './${newName}';\n`);
    edit('config/index.ts', /(PROFILES\b[^=\n]*=\s*\[)([^\]]*)\]/, `$1$2, ${newName}]`);
    // "Turn the cache off", unless this fork already did.
    const cacheFile = `config/${cacheStep![1]}.ts`;
    if (PROFILES.find((p) => profileFile(p).file === cacheFile)!.cache.enabled) edit(cacheFile, /(cache: \{\s*enabled: )true/, '$1false');
    else expect(fs.readFileSync(path.join(copy, cacheFile), 'utf8')).toMatch(/cache: \{\s*enabled: false/);

    // The documented command, on the fast tier, which holds the snapshots. (It also matches the end-to-end CLI and
    // determinism suites: they write every profile's stacks through code paths no profile changes, and the outer
    // run runs them.)
    const [command, ...args] = acceptStep![1].trim().split(/\s+/);
    const accept = run(command, [...args, '--selectProjects', 'fast'], 600_000);
    expect({ step: acceptStep![1], status: accept.status, tail: accept.status === 0 ? '' : accept.output.slice(-3000) }).toEqual({ step: acceptStep![1], status: 0, tail: '' });
    const snapshots = fs.readFileSync(path.join(copy, '__tests__/stacks/__snapshots__/snapshot.test.ts.snap'), 'utf8');
    expect(snapshots).toContain(`network-${newName} matches its snapshot`);

    // The tests that take their expectations from the profiles: the fast tier (stacks, policy, config, modules…).
    // The services and end-to-end tiers test the function and the tools, the same in any fork; the outer run has them.
    const fast = run('npm', ['run', 'test:fast'], 900_000);
    expect({ step: 'npm run test:fast', status: fast.status, tail: fast.status === 0 ? '' : fast.output.slice(-5000) }).toEqual({ step: 'npm run test:fast', status: 0, tail: '' });
    expect(fast.output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  }, 1_500_000);
});
