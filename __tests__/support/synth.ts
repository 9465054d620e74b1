import * as fs from 'fs';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { Profile, PROFILES, validateProfile } from '../../config';
import { buildApp, EnvironmentStacks } from '../../stacks';
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

export interface SynthesizedEnvironment {
  readonly profile: Profile;
  readonly stacks: EnvironmentStacks;
  readonly network: StackJson;
  readonly data: StackJson;
  readonly api: StackJson;
  readonly ops: StackJson;
  /** The raw JSON text per stack id, asset hash masked. */
  readonly text: Record<string, string>;
}

/** The asset directory carries the bundle's hash; masked so snapshots change with infrastructure, not with function code. */
export function maskAssetHash(json: string): string {
  return json.replace(/assets\/([A-Za-z0-9_-]+)\/[0-9A-F]{32}\//g, 'assets/$1/<asset-hash>/');
}

const cache = new Map<string, SynthesizedEnvironment[]>();

/** Synthesizes the app for `profiles` (validated, as main.ts does) and returns each environment's stacks as JSON. Memoized per key. */
export function synthEnvironments(profiles: readonly Profile[] = PROFILES, key = 'default'): SynthesizedEnvironment[] {
  const hit = cache.get(key);
  if (hit) return hit;
  const app: App = Testing.app();
  const all = buildApp(app, profiles.map((p) => validateProfile(p)));
  // A whole-app synth, as `cdktf synth` does: only it turns cross-stack references into outputs and remote state.
  app.synth();
  const result = all.map((stacks, i) => {
    const text: Record<string, string> = {};
    const parsed: Record<string, StackJson> = {};
    for (const kind of Object.keys(stacks) as Array<keyof EnvironmentStacks>) {
      const stack = stacks[kind];
      text[stack.node.id] = maskAssetHash(fs.readFileSync(path.join(app.outdir, 'stacks', stack.node.id, 'cdk.tf.json'), 'utf8'));
      parsed[kind] = JSON.parse(text[stack.node.id]);
    }
    return { profile: profiles[i], stacks, ...(parsed as Record<keyof EnvironmentStacks, StackJson>), text };
  });
  cache.set(key, result);
  return result;
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

export interface EnvironmentUnderTest extends SynthesizedEnvironment {
  /** Absent for a shipped profile; what the generated variant changes otherwise. */
  readonly variant?: string;
}

/**
 * The shipped profiles and their generated variants (support/variants.ts), synthesized in one app: what
 * wiring and policy tests check. Expectations come from each profile's settings, never its name.
 */
export function environmentsUnderTest(): EnvironmentUnderTest[] {
  const variants: Variant[] = variantProfiles();
  const envs = synthEnvironments([...PROFILES, ...variants.map((v) => v.profile)], 'under-test');
  return envs.map((env, i) => (i < PROFILES.length ? env : { ...env, variant: variants[i - PROFILES.length].label }));
}

/** A test title for an environment: its name, and what a variant changes. */
export function titleOf(env: EnvironmentUnderTest): string {
  return env.variant ? `${env.profile.name} (${env.variant})` : env.profile.name;
}
