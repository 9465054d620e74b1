/**
 * MariaDB's PAM plugin as the stand-in for RDS IAM authentication: a PAM user makes the server ask for
 * `mysql_clear_password`, as RDS Proxy does for an IAM token, and a pam_exec script decides on the token the
 * client sent. Adding a PAM service writes /etc/pam.d, so these tests need root and mariadb-server's auth_pam.
 */
import { accessSync, constants, existsSync, unlinkSync, writeFileSync } from 'fs';

/** Whether this process may add a PAM service and MariaDB has the auth_pam plugin. */
export function canWritePam(): boolean {
  try {
    accessSync('/etc/pam.d', constants.W_OK);
    return process.getuid?.() === 0 && existsSync('/usr/lib/mysql/plugin/auth_pam.so');
  } catch {
    return false;
  }
}

/**
 * `test` when PAM is available. Otherwise skipped on a developer's machine, but a failure with the reason
 * when HITS_REQUIRE_IAM_TEST=1 (.ci/run as root), so CI never skips them silently.
 */
export const iamTest: (name: string, fn: () => Promise<void>) => void = canWritePam()
  ? test
  : process.env.HITS_REQUIRE_IAM_TEST === '1'
    ? (name) =>
        test(name, () => {
          throw new Error(
            process.getuid?.() === 0
              ? "the IAM test needs MariaDB's auth_pam plugin (/usr/lib/mysql/plugin/auth_pam.so); install mariadb-server"
              : 'the IAM test needs root (it writes /etc/pam.d); run .ci/run as root',
          );
        })
    : test.skip;

/** Installs PAM service `service` whose authentication runs `script` on the token; returns its removal. */
export function installPamService(service: string, script: string): () => void {
  const file = `/etc/pam.d/${service}`;
  writeFileSync(file, `auth required pam_exec.so expose_authtok quiet ${script}\naccount required pam_permit.so\n`);
  return () => {
    if (existsSync(file)) unlinkSync(file);
  };
}
