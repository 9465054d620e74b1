/**
 * What a fork does to this project, done for real in a copy of it: edit config/, synthesize, accept
 * snapshots, run the whole suite. Each scenario is one the README tells users to perform.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Profile, PROFILES } from '../../config';
import { strict, withoutCache } from '../support/variants';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8'); // where the README sends users to add an environment
let copy: string;

/** The project as a user's fork has it (tracked and new files, nothing ignored, committed), with this node_modules linked in. */
function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fork-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(ROOT, file))) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  // A fork is a git checkout (the change review compares revisions): commit the copy as its first revision.
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=fork test', '-c', 'user.email=fork@example.invalid', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'fork of the project');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(command: string, args: string[], timeoutMs = 120_000): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: path.join(copy, 'cdktf.out'), CHECKPOINT_DISABLE: '1' };
  delete env.JEST_WORKER_ID;
  delete env.TF_STATE_BUCKET;
  const r = spawnSync(command, args, { cwd: copy, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Replaces `from` by `to` in a file of the copy; fails loudly if `from` is not there, so a drifted step cannot pass silently. */
function edit(file: string, from: string | RegExp, to: string): void {
  const full = path.join(copy, file);
  const text = fs.readFileSync(full, 'utf8');
  if (typeof from === 'string' ? !text.includes(from) : !from.test(text)) throw new Error(`${file} no longer contains ${from}: update this scenario and the README step it performs`);
  fs.writeFileSync(full, text.replace(from, to));
}

function synthesizedStacks(): Record<string, string> {
  const stacks = path.join(copy, 'cdktf.out', 'stacks');
  return Object.fromEntries(fs.readdirSync(stacks).map((id) => [id, fs.readFileSync(path.join(stacks, id, 'cdk.tf.json'), 'utf8')]));
}

/** The file of config/ that defines `profile` (by its name), and the name it is exported under. */
function profileFile(profile: Pick<Profile, 'name'>): { file: string; exportName: string } {
  for (const f of fs.readdirSync(path.join(copy, 'config'))) {
    const text = fs.readFileSync(path.join(copy, 'config', f), 'utf8');
    const exported = /export const (\w+): Profile = \{/.exec(text);
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
    const { exportName } = profileFile(target);
    fs.writeFileSync(path.join(copy, targetFile), `import { Profile } from './profile';\n\nexport const ${exportName}: Profile = ${JSON.stringify(changed, null, 2)};\n`);
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

describe("the README's steps", () => {
  // The steps as the README writes them: which profile to copy, the new environment, which profile loses its cache.
  const copyStep = /cp config\/(\w+)\.ts config\/(\w+)\.ts/.exec(README);
  const cacheStep = /config\/(\w+)\.ts: cache: \{ enabled: false/.exec(README);

  test('are the ones this scenario performs, on profiles that exist', () => {
    expect(copyStep).not.toBeNull();
    expect(cacheStep).not.toBeNull();
    for (const line of ['npx jest __tests__/stacks -u', 'npm test']) expect(README).toContain(line);
    const files = PROFILES.map((p) => profileFile(p).file);
    expect(files).toContain(`config/${copyStep![1]}.ts`);
    expect(files).toContain(`config/${cacheStep![1]}.ts`);
    expect(PROFILES.map((p) => p.name)).not.toContain(copyStep![2]);
  });

  test('add an environment copied from a profile and turn the cache off in another: accept snapshots, then npm test passes', () => {
    const [, sourceName, newName] = copyStep!;
    const source = profileFile(PROFILES.find((p) => profileFile(p).file === `config/${sourceName}.ts`)!);
    const newFile = `config/${newName}.ts`;
    // "Add an environment"
    fs.copyFileSync(path.join(copy, source.file), path.join(copy, newFile));
    edit(newFile, new RegExp(`export const ${source.exportName}\\b`), `export const ${newName}`);
    edit(newFile, /name: '[^']+'/, `name: '${newName}'`);
    edit(newFile, /vpcCidr: '[^']+'/, "vpcCidr: '10.30.0.0/16'");
    edit('config/index.ts', /^(import [^\n]+\n)(?!import)/m, `$1import { ${newName} } from './${newName}';\n`);
    edit('config/index.ts', /PROFILES: readonly Profile\[\] = \[([^\]]*)\]/, `PROFILES: readonly Profile[] = [$1, ${newName}]`);
    // "Turn the cache off"
    edit(`config/${cacheStep![1]}.ts`, /(cache: \{\s*enabled: )true/, '$1false');

    const accept = run('npx', ['jest', '__tests__/stacks', '-u'], 600_000);
    expect({ step: 'npx jest __tests__/stacks -u', status: accept.status, tail: accept.status === 0 ? '' : accept.output.slice(-3000) }).toEqual({ step: 'npx jest __tests__/stacks -u', status: 0, tail: '' });
    const snapshots = fs.readFileSync(path.join(copy, '__tests__/stacks/__snapshots__/snapshot.test.ts.snap'), 'utf8');
    expect(snapshots).toContain(`network-${newName} matches its snapshot`);

    // The whole suite, as `npm test` runs it, but for this file (which would copy the project again, forever),
    // on one worker: the outer run keeps the other core busy, and the cache tests time calls in milliseconds.
    const all = run('npm', ['test', '--', '--maxWorkers=1', '--testPathIgnorePatterns', '__tests__/fork/'], 1_200_000);
    expect({ step: 'npm test', status: all.status, tail: all.status === 0 ? '' : all.output.slice(-5000) }).toEqual({ step: 'npm test', status: 0, tail: '' });
    expect(all.output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  }, 1_500_000);
});
