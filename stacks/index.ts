import { App } from 'cdktf';
import { Profile } from '../config';
import { ApiStack } from './api-stack';
import { DataStack } from './data-stack';
import { NetworkStack } from './network-stack';
import { OpsStack } from './ops-stack';

export { ApiStack, DataStack, NetworkStack, OpsStack };
export { stackId } from './base-stack';

export interface EnvironmentStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly ops: OpsStack;
}

/** Adds the four stacks of each profile to `app`; deploy each environment in the order network, data, api, ops. */
export function buildApp(app: App, profiles: readonly Profile[]): EnvironmentStacks[] {
  return profiles.map((profile) => {
    const network = new NetworkStack(app, profile);
    const data = new DataStack(app, profile, network);
    const api = new ApiStack(app, profile, network, data);
    const ops = new OpsStack(app, profile, network, data, api);
    return { network, data, api, ops };
  });
}
