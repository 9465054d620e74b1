/**
 * Profiles a fork is likely to write, generated from the shipped profiles themselves: the suite checks them
 * all, so any valid profile (a new environment, the cache off, one NAT, four AZs) passes once its snapshots
 * are accepted, not only the profiles that ship.
 */
import { Profile, PROFILES } from '../../config';
import { DIRECT_ARM_DATABASES } from '../../contracts';

export interface Variant {
  /** What the variant changes, for test titles. */
  readonly label: string;
  readonly profile: Profile;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A deep copy of `base` named `name`, changed by `edit`. */
function derive(base: Profile, name: string, edit: (p: Mutable<Profile>) => void): Profile {
  const copy = structuredClone(base) as Mutable<Profile>;
  copy.name = name;
  edit(copy);
  return copy as Profile;
}

/**
 * Every waivable setting made compliant and no waiver: what the production policies ask for. A burstable
 * micro/small instance class has no Performance Insights, so the class moves up where needed.
 */
export function strict(base: Profile, name: string): Profile {
  return derive(base, name, (p) => {
    p.network.natGateways = 'per-az';
    p.network.flowLogs = true;
    delete p.network.waivers;
    Object.assign(p.database, { multiAz: true, deletionProtection: true, skipFinalSnapshot: false, performanceInsights: true });
    p.database.backupRetentionDays = Math.max(p.database.backupRetentionDays, 7);
    if (p.database.monitoringIntervalSeconds === 0) p.database.monitoringIntervalSeconds = 60;
    if (/^db\.t\d+g?\.(micro|small)$/.test(p.database.instanceClass)) p.database.instanceClass = 'db.t4g.medium';
    delete p.database.waivers;
    p.function.reservedConcurrency ??= 10;
    p.function.accountConcurrencyLimit ??= 1000;
    delete p.function.waivers;
    p.alarms.enabled = true;
    delete p.alarms.waivers;
  });
}

/** Every waivable setting at its cheapest, each waived with a reason: the loosest profile a fork may write. */
export function lax(base: Profile, name: string): Profile {
  const reason = 'generated variant: checks that this waiver hides a real failure';
  return derive(base, name, (p) => {
    p.network.natGateways = 'single';
    p.network.flowLogs = false;
    p.network.waivers = { natGateways: reason, flowLogs: reason };
    Object.assign(p.database, { multiAz: false, deletionProtection: false, skipFinalSnapshot: true, performanceInsights: false, backupRetentionDays: 1, monitoringIntervalSeconds: 0 });
    p.database.waivers = {
      multiAz: reason,
      deletionProtection: reason,
      skipFinalSnapshot: reason,
      backupRetentionDays: reason,
      performanceInsights: reason,
      monitoringIntervalSeconds: reason,
    };
    delete p.function.reservedConcurrency;
    p.function.waivers = { reservedConcurrency: reason };
    p.alarms.enabled = false;
    p.alarms.waivers = { enabled: reason };
  });
}

/** A copy with the cache switched off, otherwise identical. */
export function withoutCache(profile: Profile, name = profile.name): Profile {
  return derive(profile, name, (p) => {
    p.cache.enabled = false;
  });
}

/** The generated variants of each shipped profile, named `v<n>` so they never collide with a real environment. */
export function variantProfiles(bases: readonly Profile[] = PROFILES): Variant[] {
  const variants: Variant[] = [];
  const add = (label: string, make: (name: string) => Profile) => {
    const name = `zv${variants.length + 1}`;
    variants.push({ label, profile: make(name) });
  };
  for (const base of bases) {
    add(`${base.name} with the cache ${base.cache.enabled ? 'off' : 'on'}`, (name) => derive(base, name, (p) => (p.cache.enabled = !base.cache.enabled)));
    add(`${base.name} with one NAT gateway`, (name) =>
      derive(base, name, (p) => {
        p.network.natGateways = 'single';
        p.network.waivers = { ...p.network.waivers, natGateways: 'generated variant: one NAT for every AZ' };
      }),
    );
    add(`${base.name} over 4 AZs`, (name) => derive(base, name, (p) => (p.network.azCount = 4)));
  }
  add(`${bases[0].name} made strict (every policy met, no waiver)`, (name) => strict(bases[0], name));
  add(`${bases[0].name} made strict, cache off`, (name) => withoutCache(strict(bases[0], name)));
  add(`${bases[0].name} made lax (every waivable policy waived)`, (name) => lax(bases[0], name));
  // Added last so the earlier variants keep their names (and snapshots).
  for (const base of bases) {
    const on = base.tenants.count > 0;
    add(`${base.name} with tenants ${on ? 'off' : 'on (5, another prefix)'}`, (name) =>
      derive(base, name, (p) => {
        p.tenants = on ? { ...p.tenants, count: 0 } : { count: 5, prefix: 'acme_', rowsPerTenant: 10 };
      }),
    );
  }
  // Added after the tenant variants, for the same reason: the direct arm toggled on each shipped profile.
  for (const base of bases) {
    const on = base.directArm?.enabled === true;
    add(`${base.name} with the direct arm ${on ? 'off' : 'on'}`, (name) =>
      derive(base, name, (p) => {
        p.directArm = { enabled: !on };
      }),
    );
  }
  // Then the arm on each database, with tenants, on the first profile: both layouts (and the second instance's
  // tenant provisioning) are covered whatever each profile ships.
  for (const database of DIRECT_ARM_DATABASES) {
    add(`${bases[0].name} with the direct arm on, database ${database}, tenants on`, (name) =>
      derive(bases[0], name, (p) => {
        p.directArm = { enabled: true, database };
        if (p.tenants.count === 0) p.tenants = { count: 5, prefix: 'acme_', rowsPerTenant: 10 };
      }),
    );
  }
  return variants;
}
