/** Environments of the migrate entry point, shared by the migration suites. */

/** Where the migrations run and as whom they create the application user (local password mode). */
export interface MigrationTarget {
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
}

/** The entry point's environment on a local server, logging in as `master` (password mode, no TLS). */
export function localEntryEnv(server: { host: string; port: number }, f: MigrationTarget, master: { user: string; password: string }): Record<string, string> {
  return {
    DB_HOST: server.host,
    DB_PORT: String(server.port),
    DB_NAME: f.database,
    DB_USER: master.user,
    DB_AUTH: 'password',
    DB_PASSWORD: master.password,
    DB_TLS: 'off',
    APP_DB_USER: f.appUser,
    APP_DB_AUTH: 'password',
    APP_DB_PASSWORD: f.appPassword,
  };
}

/** What the data stack sets in AWS: the instance, the master user with its RDS-managed secret, TLS against the RDS CAs. */
export const DEPLOYED_ENTRY_ENV: Readonly<Record<string, string>> = {
  DB_HOST: 'hits-dev.abc.eu-west-1.rds.amazonaws.com',
  DB_PORT: '3306',
  DB_NAME: 'hits',
  DB_USER: 'hits_admin',
  DB_AUTH: 'secret',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf',
  DB_TLS: 'verify',
  DB_CA_BUNDLE: 'rds',
  APP_DB_USER: 'hits_app',
  APP_DB_AUTH: 'iam',
};
