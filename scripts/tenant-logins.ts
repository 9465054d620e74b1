/**
 * Login adapters for the tenants route off AWS (tests and `npm run bench -- tenants`): the IAM path runs
 * whole (STS, the credentials and token caches, the real signer, the auth plugin's token), then the login
 * presents a local password, since MariaDB cannot judge an RDS token. `invalidate` is forwarded: the route's
 * one fresh retry after a refused login depends on it.
 */
import type { ConnectionOptions } from 'mysql2';
import type { LoginFor } from '../functions/tenants/pools';

/** The token the login's auth plugin presents (the RDS IAM token), as mysql2 would send it, without its NUL. */
export async function presentedToken(given: ConnectionOptions): Promise<string | undefined> {
  const plugin = given.authPlugins?.mysql_clear_password;
  if (!plugin) return undefined;
  const answer = await plugin({} as never)(Buffer.alloc(0));
  return Buffer.from(answer as Buffer).toString().replace(/\0$/, '');
}

/**
 * Each login: the configured one up to its token (undefined for a password login), then the password `judge`
 * returns. `mixUp` logs in as another tenant than asked.
 */
export function loginsEndingIn(judge: (tenant: number, given: ConnectionOptions, token: string | undefined) => string, mixUp?: (asked: number) => number): (configured: LoginFor) => LoginFor {
  return (configured) => (asked) => {
    const tenant = mixUp ? mixUp(asked) : asked;
    const login = configured(tenant);
    return {
      ...login,
      async options() {
        const given = await login.options();
        return { user: given.user, password: judge(tenant, given, await presentedToken(given)) };
      },
      invalidate: () => login.invalidate(),
    };
  };
}

/** Every login ends in `password`: the IAM path up to the login, no PAM needed. */
export const passwordAfterIam = (password: string) => loginsEndingIn(() => password);
