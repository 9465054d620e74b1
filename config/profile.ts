import type * as v from 'valibot';
import { HTTP_API } from '../aws/limits';
import type { DirectArmDatabase } from '../contracts';
import { DIRECT_ARM_DATABASE_DEFAULT, type profileSchema } from './schema';

/**
 * An environment profile: every setting that differs between environments, in one typed object. Its type
 * is inferred from the schema (schema.ts), where each setting is documented and its allowed values live;
 * stacks read nothing else, and `validateProfile` runs before any construct is created, so a bad profile
 * fails synth with a message naming the field and the allowed values.
 */
export type Profile = v.InferOutput<typeof profileSchema>;

export type NetworkProfile = Profile['network'];
export type DatabaseProfile = Profile['database'];
export type ProxyProfile = Profile['proxy'];
export type CacheProfile = Profile['cache'];
export type FunctionProfile = Profile['function'];
export type ApiProfile = Profile['api'];
export type AlarmsProfile = Profile['alarms'];
export type HitsProfile = Profile['hits'];
export type S3StateBackend = NonNullable<Profile['stateBackend']>;

/** Whether the profile adds the direct arm (the A/B comparison arm without the proxy); absent means off. */
export function directArmEnabled(profile: Pick<Profile, 'directArm'>): boolean {
  return profile.directArm?.enabled === true;
}

/**
 * The instance the direct arm connects to: `own` (a second, identical instance) or `shared` (the proxy arm's);
 * `directArm.database`, or its default when left out. Undefined when the profile has no direct arm.
 */
export function directArmDatabase(profile: Pick<Profile, 'directArm'>): DirectArmDatabase | undefined {
  return directArmEnabled(profile) ? (profile.directArm?.database ?? DIRECT_ARM_DATABASE_DEFAULT) : undefined;
}

/**
 * The production policies (__tests__/policy) a profile breaks on purpose, keyed by the setting that breaks
 * them, each with the reason. Kept beside the settings so a profile copied to a new environment carries
 * its intent; the policy suite fails when a waived setting is in fact compliant (a stale waiver) and when
 * a setting breaks a policy without a waiver.
 */
export type Waivers<Setting extends string> = Readonly<Partial<Record<Setting, string>>>;

/** One waiver a profile declares: `<section>.waivers.<setting>`, with its reason. */
export interface DeclaredWaiver {
  /** `<section>.<setting>`, the setting that breaks the policy, e.g. `database.multiAz`. */
  readonly setting: string;
  readonly reason: string;
}

/** Every waiver of `profile`, from each section that may hold them. */
export function declaredWaivers(profile: Profile): DeclaredWaiver[] {
  const sections = { network: profile.network.waivers, database: profile.database.waivers, function: profile.function.waivers, alarms: profile.alarms.waivers };
  return Object.entries(sections).flatMap(([section, waivers]) =>
    Object.entries(waivers ?? {}).map(([setting, reason]) => ({ setting: `${section}.${setting}`, reason: reason ?? '' })),
  );
}

export { LOG_RETENTION_DAYS, MYSQL_MAJOR_VERSIONS, type MysqlMajorVersion } from '../aws/limits';

/** API Gateway's hard limit for an integration, which bounds the function timeout. */
export const API_INTEGRATION_TIMEOUT_LIMIT_SECONDS = HTTP_API.integrationTimeoutMaxSeconds;
