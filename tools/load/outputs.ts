/**
 * Arms and CloudWatch names from the outputs file `cdktf deploy --outputs-file <file>` writes
 * (https://developer.hashicorp.com/terraform/cdktf/cli-reference/commands#deploy): a JSON object keyed by
 * stack name, then by output id (node_modules/@cdktf/cli-core/src/lib/output.js, saveOutputs). Stacks are
 * named `<kind>-<env>` (stacks/base-stack.ts). The api stack gives `api_url`, `function_name`,
 * `tenants_function_name` and, with the direct arm, `direct_api_url`, `direct_function_name`,
 * `direct_tenants_function_name`; the data stack gives `database_identifier` and `proxy_name`.
 */
import { readFileSync } from 'fs';
import { OptionError } from './errors';
import { parseArm } from './options';
import type { Arm } from './types';

/** What a deployed environment says about its arms. */
export interface DeployedOutputs {
  readonly arms: Arm[];
  /** Per arm: the function behind the hits routes and the one behind the tenant route. */
  readonly functions: Record<string, { readonly hits?: string; readonly tenants?: string }>;
  readonly dbInstanceIdentifier?: string;
  readonly proxyName?: string;
}

const ARMS = [
  { name: 'proxy', url: 'api_url', hits: 'function_name', tenants: 'tenants_function_name' },
  { name: 'direct', url: 'direct_api_url', hits: 'direct_function_name', tenants: 'direct_tenants_function_name' },
] as const;

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** Pure: the parsed outputs object → what the load test needs for environment `env`. */
export function deployedOutputs(outputs: unknown, env: string, file = 'the outputs file'): DeployedOutputs {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) throw new OptionError(`--outputs ${file}: expected the JSON object cdktf deploy --outputs-file writes`);
  const stacks = outputs as Record<string, Record<string, unknown> | undefined>;
  const api = stacks[`api-${env}`];
  if (!api) throw new OptionError(`--outputs ${file}: no stack api-${env} in it (stacks: ${Object.keys(stacks).join(', ') || 'none'}); deploy api-${env} with --outputs-file, or check --env`);
  const data = stacks[`data-${env}`] ?? {};
  const arms: Arm[] = [];
  const functions: DeployedOutputs['functions'] = {};
  for (const arm of ARMS) {
    const url = text(api[arm.url]);
    if (!url) continue;
    arms.push(parseArm(`${arm.name}=${url}`));
    functions[arm.name] = { ...(text(api[arm.hits]) ? { hits: text(api[arm.hits]) } : {}), ...(text(api[arm.tenants]) ? { tenants: text(api[arm.tenants]) } : {}) };
  }
  if (arms.length === 0) throw new OptionError(`--outputs ${file}: stack api-${env} has no api_url output`);
  const db = text(data.database_identifier);
  const proxy = text(data.proxy_name);
  return { arms, functions, ...(db ? { dbInstanceIdentifier: db } : {}), ...(proxy ? { proxyName: proxy } : {}) };
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
