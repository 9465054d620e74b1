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
