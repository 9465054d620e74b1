import { dev } from './dev';
import { prod } from './prod';
import { Profile, S3StateBackend } from './profile';
import { validateProfile } from './validate';

export * from './profile';
export { validateProfile, ProfileError } from './validate';

/** The environments one synth produces, each synthesized into its own four stacks (network, data, api, ops). */
export const PROFILES: readonly Profile[] = [dev, prod];

/**
 * The state backend from the environment, so CI can point at a bucket without editing code:
 * `TF_STATE_BUCKET` (enables S3), `TF_STATE_REGION` (default: the profile's region),
 * `TF_STATE_KEY_PREFIX` (default: the project name).
 */
export function stateBackendFromEnv(profile: Profile, env: NodeJS.ProcessEnv): S3StateBackend | undefined {
  const bucket = env.TF_STATE_BUCKET?.trim();
  if (!bucket) return profile.stateBackend;
  return {
    bucket,
    region: env.TF_STATE_REGION?.trim() || profile.stateBackend?.region || profile.region,
    keyPrefix: env.TF_STATE_KEY_PREFIX?.trim() || profile.stateBackend?.keyPrefix || profile.project,
  };
}

/** Every profile with its environment overrides applied, validated; throws ProfileError on the first bad field. */
export function loadProfiles(env: NodeJS.ProcessEnv = process.env, profiles: readonly Profile[] = PROFILES): Profile[] {
  const names = new Set<string>();
  return profiles.map((p) => {
    const profile = validateProfile({ ...p, stateBackend: stateBackendFromEnv(p, env) });
    if (names.has(profile.name)) throw new Error(`profile "${profile.name}": name is used by another profile; stack ids must be unique`);
    names.add(profile.name);
    return profile;
  });
}
