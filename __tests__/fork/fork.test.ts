/**
 * What a fork does to this project, done for real in a copy of it: edit config/, synthesize, accept
 * snapshots, run the whole suite. Each scenario is one the README tells users to perform.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dev } from '../../config/dev';
import { strict, withoutCache } from '../support/variants';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
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
  let baseline: Record<string, string>;
  const devFile = 'config/dev.ts';
  let original: string;

  beforeAll(() => {
    original = fs.readFileSync(path.join(copy, devFile), 'utf8');
    const r = synth();
    expect(r).toMatchObject({ status: 0 });
    baseline = synthesizedStacks();
  });
  afterEach(() => fs.writeFileSync(path.join(copy, devFile), original));

  test('a misspelt key stops synth with the path and the nearest valid key', () => {
    edit(devFile, /flowLogs: (true|false),/, '$&\n    flowlogs: true,');
    const r = synth();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`profile "${dev.name}": network.flowlogs: unknown setting, did you mean flowLogs?`);
  });

  test("rewriting every value of dev leaves every other environment's JSON byte-identical", () => {
    // A valid dev that differs from the shipped one in every section: strict policies, no cache, 4 AZs, other sizes.
    const mutated = withoutCache(strict(dev, dev.name));
    const changed = {
      ...mutated,
      region: dev.region === 'eu-west-1' ? 'eu-central-1' : 'eu-west-1',
      tags: { CostCenter: 'fork-test' },
      network: { ...mutated.network, vpcCidr: '10.99.0.0/16', azCount: 4 },
      database: { ...mutated.database, allocatedStorageGb: dev.database.allocatedStorageGb + 10, databaseName: 'forked', masterUsername: 'fork_admin' },
      proxy: { ...mutated.proxy, maxConnectionsPercent: 80, maxIdleConnectionsPercent: 40, idleClientTimeoutSeconds: 900 },
      function: { ...mutated.function, memoryMb: dev.function.memoryMb * 2, timeoutSeconds: 12 },
      api: { throttlingBurstLimit: 7, throttlingRateLimit: 3 },
      logRetentionDays: 30,
    };
    fs.writeFileSync(path.join(copy, devFile), `import { Profile } from './profile';\n\nexport const dev: Profile = ${JSON.stringify(changed, null, 2)};\n`);
    const r = synth();
    expect(r).toMatchObject({ status: 0 });
    const after = synthesizedStacks();
    expect(Object.keys(after).sort()).toEqual(Object.keys(baseline).sort());
    const devStacks = Object.keys(baseline).filter((id) => id.endsWith(`-${dev.name}`));
    expect(devStacks.length).toBeGreaterThan(0);
    for (const id of devStacks) expect(after[id]).not.toBe(baseline[id]);
    const others = Object.keys(baseline).filter((id) => !devStacks.includes(id));
    expect(others.filter((id) => after[id] !== baseline[id])).toEqual([]);
  });
});

describe("the README's steps", () => {
  test('are the ones this scenario performs', () => {
    for (const line of ['cp config/prod.ts config/staging.ts', 'npx jest __tests__/stacks -u', 'npm test', "config/dev.ts: cache: { enabled: false"]) expect(README).toContain(line);
  });

  test('add a staging environment copied from prod and turn the cache off in dev: accept snapshots, then npm test passes', () => {
    // "Add an environment"
    fs.copyFileSync(path.join(copy, 'config/prod.ts'), path.join(copy, 'config/staging.ts'));
    edit('config/staging.ts', /export const prod\b/, 'export const staging');
    edit('config/staging.ts', /name: 'prod'/, "name: 'staging'");
    edit('config/staging.ts', /vpcCidr: '[^']+'/, "vpcCidr: '10.30.0.0/16'");
    edit('config/index.ts', "import { prod } from './prod';", "import { prod } from './prod';\nimport { staging } from './staging';");
    edit('config/index.ts', /PROFILES: readonly Profile\[\] = \[([^\]]*)\]/, 'PROFILES: readonly Profile[] = [$1, staging]');
    // "Turn the cache off"
    edit('config/dev.ts', /(cache: \{\s*enabled: )true/, '$1false');

    const accept = run('npx', ['jest', '__tests__/stacks', '-u'], 600_000);
    expect({ step: 'npx jest __tests__/stacks -u', status: accept.status, tail: accept.status === 0 ? '' : accept.output.slice(-3000) }).toEqual({ step: 'npx jest __tests__/stacks -u', status: 0, tail: '' });
    const snapshots = fs.readFileSync(path.join(copy, '__tests__/stacks/__snapshots__/snapshot.test.ts.snap'), 'utf8');
    expect(snapshots).toContain('network-staging matches its snapshot');

    // The whole suite, as `npm test` runs it, but for this file (which would copy the project again, forever),
    // on one worker: the outer run keeps the other core busy, and the cache tests time calls in milliseconds.
    const all = run('npm', ['test', '--', '--maxWorkers=1', '--testPathIgnorePatterns', '__tests__/fork/'], 1_200_000);
    expect({ step: 'npm test', status: all.status, tail: all.status === 0 ? '' : all.output.slice(-5000) }).toEqual({ step: 'npm test', status: 0, tail: '' });
    expect(all.output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  }, 1_500_000);
});
