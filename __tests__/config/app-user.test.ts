/** database.appUsername: the application's own database user, never the master user. */
import { PROFILES, Profile, validateProfile } from '../../config';

const withAppUser = (p: Profile, appUsername: string): Profile => ({ ...p, database: { ...p.database, appUsername } });

describe.each(PROFILES.map((p) => [p.name, p] as const))('%s', (_name, profile) => {
  test('names an application user that is not the master user', () => {
    expect(profile.database.appUsername.toLowerCase()).not.toBe(profile.database.masterUsername.toLowerCase());
    expect(validateProfile(profile)).toBe(profile);
  });

  test.each([
    ['the master user', (p: Profile) => p.database.masterUsername, /database\.appUsername must differ from database\.masterUsername/],
    ['the master user in other case', (p: Profile) => p.database.masterUsername.toUpperCase(), /database\.appUsername must differ/],
    ['empty', () => '', /database\.appUsername must be 1-32 letters/],
    ['a quote', () => "app'--", /database\.appUsername must be 1-32 letters/],
    ['33 characters', () => 'a'.repeat(33), /database\.appUsername must be 1-32 letters/],
    ['a reserved RDS user', () => 'rdsadmin', /database\.appUsername .*not one of/],
  ])('refuses %s', (_what, value, error) => {
    expect(() => validateProfile(withAppUser(profile, value(profile)))).toThrow(error);
  });

  test('accepts 32 characters', () => {
    expect(() => validateProfile(withAppUser(profile, `a${'b'.repeat(31)}`))).not.toThrow();
  });
});
