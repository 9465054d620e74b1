/**
 * Stack outputs that a tool reads from a deployed environment (`cdktf deploy --outputs-file`): the stacks
 * write them under these ids, and `npm run load --outputs` reads them by the same ids. Keyed by stack kind.
 */
export const STACK_OUTPUTS = {
  api: {
    /** The proxy arm's HTTP API URL. */
    apiUrl: 'api_url',
    functionName: 'function_name',
    tenantsFunctionName: 'tenants_function_name',
    /** The direct arm's HTTP API URL (present when the direct arm is on). */
    directApiUrl: 'direct_api_url',
    directFunctionName: 'direct_function_name',
    directTenantsFunctionName: 'direct_tenants_function_name',
    /** Whether the direct arm has its own database instance (`own`) or shares the proxy arm's (`shared`). */
    directArmDatabase: 'direct_arm_database',
  },
  data: {
    /** The proxy arm's instance (the DBInstanceIdentifier dimension of its metrics). */
    databaseIdentifier: 'database_identifier',
    proxyName: 'proxy_name',
    /** The direct arm's own instance, when `directArm.database` is `own`. */
    directDatabaseIdentifier: 'direct_database_identifier',
  },
} as const;

/** The values of `direct_arm_database`. */
export const DIRECT_ARM_DATABASES = ['own', 'shared'] as const;
export type DirectArmDatabase = (typeof DIRECT_ARM_DATABASES)[number];
