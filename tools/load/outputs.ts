/**
 * Arms, their databases and CloudWatch names from the outputs file `cdktf deploy --outputs-file <file>` writes
 * (https://developer.hashicorp.com/terraform/cdktf/cli-reference/commands#deploy): a JSON object keyed by
 * stack name, then by output id (node_modules/@cdktf/cli-core/src/lib/output.js, saveOutputs). Stacks are
 * named `<kind>-<env>` (stacks/base-stack.ts); the output ids are the stacks' own, from contracts/outputs.ts.
 */
import { readFileSync } from 'fs';
import { DIRECT_ARM_DATABASES, STACK_OUTPUTS, type DirectArmDatabase } from '../../contracts';
import { OptionError } from './errors';
import { parseArm } from './options';
import type { Arm, ArmTargets } from './types';

/** What a deployed environment says about its arms. */
export interface DeployedOutputs {
  readonly arms: Arm[];
  /** Per arm: the function behind the hits routes and the one behind the tenant route, its database and proxy. */
  readonly resources: Record<string, { readonly hits?: string; readonly tenants?: string } & Pick<ArmTargets, 'dbInstanceIdentifier' | 'proxyName'>>;
  /**
   * Whether the direct arm has its own instance or shares the proxy arm's (`direct_arm_database`); undefined
   * without a direct arm, or from a deployment made before the output existed, whose arms share one.
   */
  readonly directArmDatabase?: DirectArmDatabase;
}

const { api: API, data: DATA } = STACK_OUTPUTS;

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
/** `o` without its undefined fields. */
export const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Pure: the parsed outputs object → what the load test needs for environment `env`. */
export function deployedOutputs(outputs: unknown, env: string, file = 'the outputs file'): DeployedOutputs {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) throw new OptionError(`--outputs ${file}: expected the JSON object cdktf deploy --outputs-file writes`);
  const stacks = outputs as Record<string, Record<string, unknown> | undefined>;
  const api = stacks[`api-${env}`];
  if (!api) throw new OptionError(`--outputs ${file}: no stack api-${env} in it (stacks: ${Object.keys(stacks).join(', ') || 'none'}); deploy api-${env} with --outputs-file, or check --env`);
  const data = stacks[`data-${env}`] ?? {};

  const directUrl = text(api[API.directApiUrl]);
  const sharing = api[API.directArmDatabase];
  if (sharing !== undefined && !(DIRECT_ARM_DATABASES as readonly unknown[]).includes(sharing)) {
    throw new OptionError(`--outputs ${file}: ${API.directArmDatabase} in api-${env} is ${JSON.stringify(sharing)}, expected ${DIRECT_ARM_DATABASES.join(' or ')}`);
  }
  const directArmDatabase = directUrl ? (sharing as DirectArmDatabase | undefined) : undefined;
  const proxyDatabase = text(data[DATA.databaseIdentifier]);
  const arms = [
    { name: 'proxy', url: text(api[API.apiUrl]), hits: API.functionName, tenants: API.tenantsFunctionName, dbInstanceIdentifier: proxyDatabase, proxyName: text(data[DATA.proxyName]) },
    {
      name: 'direct',
      url: directUrl,
      hits: API.directFunctionName,
      tenants: API.directTenantsFunctionName,
      dbInstanceIdentifier: directArmDatabase === 'own' ? text(data[DATA.directDatabaseIdentifier]) : proxyDatabase,
      proxyName: undefined,
    },
  ];
  if (!arms[0].url) throw new OptionError(`--outputs ${file}: stack api-${env} has no ${API.apiUrl} output`);
  const found = arms.filter((arm) => arm.url !== undefined);
  return {
    arms: found.map((arm) => parseArm(`${arm.name}=${arm.url}`)),
    resources: Object.fromEntries(
      found.map((arm) => [arm.name, defined({ hits: text(api[arm.hits]), tenants: text(api[arm.tenants]), dbInstanceIdentifier: arm.dbInstanceIdentifier, proxyName: arm.proxyName })]),
    ),
    ...(directArmDatabase ? { directArmDatabase } : {}),
  };
}

export function readOutputsFile(file: string, env: string): DeployedOutputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OptionError(`--outputs ${file}: ${(err as Error).message}`);
  }
  return deployedOutputs(parsed, env, file);
}
