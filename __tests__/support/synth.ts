/**
 * Synthesized environments for the tests, each set synthesized once per jest run and shared by every suite.
 *
 * The fast tier's global setup (support/global-setup.ts) makes a directory for the run and names it in
 * HITS_TEST_SYNTH_DIR. The first suite that asks for a set of profiles synthesizes it (as `cdktf synth` does:
 * one app, every profile) and writes each stack's JSON there; every later suite, in any worker, reads that
 * JSON instead of synthesizing the same stacks again. A set is keyed by the profiles' own content, so a suite
 * that asks for other profiles gets its own synth, and nothing outlives the run. Without the directory (a
 * run that does not go through jest.config.js), each suite synthesizes in-process, as before.
 *
 * The environments carry each stack's id (`stacks.<kind>.node.id`), not the construct: a test that needs
 * the live construct tree asks for it with `synthInProcess`.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Profile, PROFILES, validateProfile } from '../../config';
import type { EnvironmentStacks } from '../../stacks';
import { Variant, variantProfiles } from './variants';

/** Parsed Terraform JSON of one stack. */
export type StackJson = {
  resource?: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  output?: Record<string, any>;
  locals?: Record<string, any>;
  provider?: Record<string, any[]>;
  terraform?: any;
};

/** The kinds of stack each environment has (network, data, api, ops), as stacks/ builds them. */
export type StackKind = keyof EnvironmentStacks;

/** What the tests read of a stack: its id, which names its directory in cdktf.out and its remote state. */
export interface StackRef {
  readonly node: { readonly id: string };
}
export type StackRefs = { readonly [K in StackKind]: StackRef };

export type SynthesizedEnvironment<S extends StackRefs = StackRefs> = {
  readonly profile: Profile;
  readonly stacks: S;
  /** The raw JSON text per stack id, asset hash masked. */
  readonly text: Record<string, string>;
} & { readonly [K in StackKind]: StackJson };

/** The asset directory carries the bundle's hash; masked so snapshots change with infrastructure, not with function code. */
export function maskAssetHash(json: string): string {
  return json.replace(/assets\/([A-Za-z0-9_-]+)\/[0-9A-F]{32}\//g, 'assets/$1/<asset-hash>/');
}

/** The variable through which the global setup hands the run's synth directory to every worker. */
export const SYNTH_DIR_VARIABLE = 'HITS_TEST_SYNTH_DIR';

/**
 * Synthesizes the app for `profiles` in this process (validated, as main.ts does) and returns each
 * environment with its live stack constructs. Slower than `synthEnvironments`: only for tests that need
 * the construct tree itself.
 */
export function synthInProcess(profiles: readonly Profile[]): SynthesizedEnvironment<EnvironmentStacks>[] {
  // Loaded here, not at the top: suites that read the run's shared JSON never load cdktf or the stacks.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Testing } = require('cdktf') as typeof import('cdktf');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildApp } = require('../../stacks') as typeof import('../../stacks');
  const app = Testing.app();
  const all = buildApp(app, profiles.map((p) => validateProfile(p)));
  // A whole-app synth, as `cdktf synth` does: only it turns cross-stack references into outputs and remote state.
  app.synth();
  return all.map((stacks, i) => {
    const text: Record<string, string> = {};
    const parsed = {} as Record<StackKind, StackJson>;
    for (const kind of Object.keys(stacks) as StackKind[]) {
      const id = stacks[kind].node.id;
      text[id] = maskAssetHash(fs.readFileSync(path.join(app.outdir, 'stacks', id, 'cdk.tf.json'), 'utf8'));
      parsed[kind] = JSON.parse(text[id]);
    }
    return { profile: profiles[i], stacks, ...parsed, text };
  });
}

/** One synthesized set as the run's directory keeps it: per environment, each kind's stack id and each stack's JSON. */
interface StoredSet {
  readonly profiles: string;
  readonly environments: ReadonlyArray<{ readonly ids: Record<string, string>; readonly text: Record<string, string> }>;
}

function fromStored(profiles: readonly Profile[], stored: StoredSet): SynthesizedEnvironment[] {
  return stored.environments.map((env, i) => {
    const stacks = {} as Record<StackKind, StackRef>;
    const parsed = {} as Record<StackKind, StackJson>;
    for (const [kind, id] of Object.entries(env.ids) as Array<[StackKind, string]>) {
      stacks[kind] = { node: { id } };
      parsed[kind] = JSON.parse(env.text[id]);
    }
    return { profile: profiles[i], stacks, ...parsed, text: env.text };
  });
}

function toStored(profilesJson: string, envs: readonly SynthesizedEnvironment[]): StoredSet {
  return {
    profiles: profilesJson,
    environments: envs.map((env) => ({
      ids: Object.fromEntries(Object.entries(env.stacks).map(([kind, stack]) => [kind, stack.node.id])),
      text: env.text,
    })),
  };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The set from the run's directory, synthesized by whichever suite asked first. Two workers asking at once:
 * one takes the lock file and synthesizes, the other waits for its JSON (or takes over if it died).
 */
function sharedSet(dir: string, profiles: readonly Profile[]): SynthesizedEnvironment[] {
  const profilesJson = JSON.stringify(profiles);
  const file = path.join(dir, `${createHash('sha256').update(profilesJson).digest('hex').slice(0, 32)}.json`);
  const lock = `${file}.lock`;
  for (;;) {
    if (fs.existsSync(file)) {
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSet;
      // A hash collision would hand a suite someone else's stacks: check the profiles themselves.
      if (stored.profiles !== profilesJson) throw new Error(`${file} holds a synth of other profiles`);
      return fromStored(profiles, stored);
    }
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lock, 'utf8') || NaN);
      if (Number.isInteger(owner) && !alive(owner)) fs.rmSync(lock, { force: true });
      else sleepSync(100);
      continue;
    }
    try {
      const stored = toStored(profilesJson, synthInProcess(profiles));
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(stored));
      fs.renameSync(`${file}.tmp`, file);
      return fromStored(profiles, stored);
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

/** This process's sets, by profiles: a suite that asks twice parses once. */
const memo = new Map<string, SynthesizedEnvironment[]>();

/**
 * Each environment of `profiles`, synthesized together in one app and returned as JSON per stack. Shared by
 * every suite of the run that asks for the same profiles; `key` is kept for callers that name their sets.
 */
export function synthEnvironments(profiles: readonly Profile[] = PROFILES, _key?: string): SynthesizedEnvironment[] {
  const profilesJson = JSON.stringify(profiles);
  let envs = memo.get(profilesJson);
  if (!envs) {
    const dir = process.env[SYNTH_DIR_VARIABLE];
    envs = dir && fs.existsSync(dir) ? sharedSet(dir, profiles) : synthInProcess(profiles);
    memo.set(profilesJson, envs);
  }
  return envs;
}

/** The resources of one type in a stack, as [name, body] pairs. */
export function resources(stack: StackJson, type: string): Array<[string, any]> {
  return Object.entries(stack.resource?.[type] ?? {});
}

/** The one resource of `type`; fails if there is not exactly one. */
export function single(stack: StackJson, type: string): any {
  const all = resources(stack, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0][1];
}

/** `${aws_x.name.attr}` → the resource name `name` of an interpolated reference. */
export function refName(ref: string): string | undefined {
  return /^\$\{[a-z0-9_]+\.([^.}]+)\.[a-z_]+\}$/.exec(ref)?.[1];
}

export type EnvironmentUnderTest = SynthesizedEnvironment & {
  /** Absent for a shipped profile; what the generated variant changes otherwise. */
  readonly variant?: string;
};

/**
 * The shipped profiles and their generated variants (support/variants.ts), synthesized in one app: what
 * wiring and policy tests check. Expectations come from each profile's settings, never its name.
 */
export function environmentsUnderTest(): EnvironmentUnderTest[] {
  const variants: Variant[] = variantProfiles();
  const envs = synthEnvironments([...PROFILES, ...variants.map((v) => v.profile)]);
  return envs.map((env, i) => (i < PROFILES.length ? env : { ...env, variant: variants[i - PROFILES.length].label }));
}

/** A test title for an environment: its name, and what a variant changes. */
export function titleOf(env: EnvironmentUnderTest): string {
  return env.variant ? `${env.profile.name} (${env.variant})` : env.profile.name;
}
