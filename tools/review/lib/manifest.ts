import * as fs from 'fs';
import * as path from 'path';

/** The parts of `cdktf.out/manifest.json` the review reads. */
export interface StackManifest {
  readonly name: string;
  readonly dependencies: string[];
  /** Relative to the cdktf.out directory. */
  readonly workingDirectory: string;
  readonly synthesizedStackPath: string;
}

export function readManifest(outDir: string): Map<string, StackManifest> {
  const file = path.join(outDir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`no ${file}: did the synth run?`);
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { stacks: Record<string, StackManifest> };
  return new Map(Object.entries(parsed.stacks).map(([name, s]) => [name, { ...s, name, dependencies: [...(s.dependencies ?? [])] }]));
}

/**
 * Deploy order: every stack after the stacks it depends on; ties by name so the order is stable.
 * Dependencies on stacks not in the map (a stack removed in one revision) are ignored.
 */
export function deployOrder(stacks: ReadonlyMap<string, { dependencies: readonly string[] }>): string[] {
  const remaining = new Map([...stacks].map(([name, s]) => [name, new Set(s.dependencies.filter((d) => stacks.has(d)))]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([name]) => name).sort();
    if (ready.length === 0) throw new Error(`stack dependencies form a cycle: ${[...remaining.keys()].join(', ')}`);
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
      for (const deps of remaining.values()) deps.delete(name);
    }
  }
  return order;
}

/** `network-dev` → `dev`, `api-staging-eu` → `staging-eu`: stacks are named `<kind>-<environment>`. */
export function environmentOf(stack: string): string | undefined {
  const at = stack.indexOf('-');
  return at > 0 && at < stack.length - 1 ? stack.slice(at + 1) : undefined;
}

/**
 * The environments of a synth output, in deploy order (each where its first stack comes), for applying one
 * environment at a time. Refuses a stack not named `<kind>-<environment>` and a dependency across
 * environments: either would make a per-environment apply wait forever or skip a stack.
 */
export function environmentsOf(stacks: ReadonlyMap<string, { dependencies: readonly string[] }>): string[] {
  const envs: string[] = [];
  for (const stack of deployOrder(stacks)) {
    const env = environmentOf(stack);
    if (!env) throw new Error(`stack ${stack} is not named <kind>-<environment> (as network-dev), so its environment is unknown`);
    for (const d of stacks.get(stack)!.dependencies) {
      if (stacks.has(d) && environmentOf(d) !== env) throw new Error(`stack ${stack} (environment ${env}) depends on ${d} of another environment: environments must apply independently`);
    }
    if (!envs.includes(env)) envs.push(env);
  }
  return envs;
}

/** The stacks of one environment, with their manifest entries; an unknown environment names the known ones. */
export function stacksOfEnvironment<T extends { dependencies: readonly string[] }>(stacks: ReadonlyMap<string, T>, environment: string): Map<string, T> {
  const known = environmentsOf(stacks);
  if (!known.includes(environment)) throw new Error(`no stack of environment ${environment} in the synth output (environments: ${known.join(', ') || 'none'})`);
  return new Map([...stacks].filter(([name]) => environmentOf(name) === environment));
}
