import { dev } from './dev';
import { prod } from './prod';
import { Profile, S3StateBackend } from './profile';
import { ProfileError, profileProblems, type ProfileProblem } from './validate';

export * from './profile';
export { validateProfile, profileProblems, ProfileError, type ProfileProblem } from './validate';

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

/**
 * Every profile with its environment overrides applied, validated. Throws one ProfileError that names every
 * problem of every profile (a duplicate name included), so one synth shows all there is to fix.
 */
export function loadProfiles(env: NodeJS.ProcessEnv = process.env, profiles: readonly Profile[] = PROFILES): Profile[] {
  const problems: ProfileProblem[] = [];
  const names = new Set<string>();
  const loaded = profiles.map((p) => {
    const profile = { ...p, stateBackend: stateBackendFromEnv(p, env) };
    problems.push(...profileProblems(profile));
    if (names.has(profile.name)) problems.push({ profile: profile.name, field: 'name', detail: 'is used by another profile; stack ids must be unique' });
    names.add(profile.name);
    return profile;
  });
  if (problems.length > 0) throw new ProfileError(problems);
  return loaded;
}
