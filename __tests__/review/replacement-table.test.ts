import * as fs from 'fs';
import * as path from 'path';
import { environmentsUnderTest } from '../support/synth';
import { forcedReplacements, REPLACEMENT_ATTRIBUTES } from '../../tools/review/lib/replacement-attributes';
import { typesWithoutEntry } from '../../tools/review/lib/synth-diff';
import { activeEngine } from '../../tools/engine/engines';

const ROOT = path.join(__dirname, '..', '..');
/** The generated AWS binding of the engine this checkout runs (tools/engine). */
const BINDINGS = path.join(ROOT, 'node_modules', activeEngine(ROOT).provider, 'lib');

/** Every resource type any profile or generated variant synthesizes (cache on and off, one NAT, strict, lax, …). */
function synthesizedTypes(): Set<string> {
  const types = new Set<string>();
  for (const env of environmentsUnderTest()) for (const stack of Object.keys(env.stacks)) for (const t of Object.keys((env as any)[stack].resource ?? {})) types.add(t);
  return types;
}

/** `db_name` → `dbName`: the generated binding's property for a Terraform argument. */
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

describe('replacement table', () => {
  it('has an entry for every resource type the stacks synthesize', () => {
    const types = synthesizedTypes();
    expect(types.size).toBeGreaterThan(10);
    expect(typesWithoutEntry(types)).toEqual([]);
  });

  it('names a source for every entry: provider source and Registry page, or Terraform docs', () => {
    for (const [type, entry] of Object.entries(REPLACEMENT_ATTRIBUTES)) {
      if (type.startsWith('aws_')) {
        expect({ type, source: entry.source }).toEqual({ type, source: expect.stringMatching(/terraform-provider-aws v6\.25\.0 internal\/service\/.+\.go/) });
        expect(entry.source).toContain(`/docs/resources/${type.replace(/^aws_/, '')}`);
      } else expect(entry.source).toMatch(/developer\.hashicorp\.com/);
    }
  });

  it('lists only arguments the AWS binding actually has', () => {
    const unknown: string[] = [];
    for (const [type, entry] of Object.entries(REPLACEMENT_ATTRIBUTES)) {
      if (!type.startsWith('aws_')) continue;
      const file = path.join(BINDINGS, type.replace(/^aws_/, '').replace(/_/g, '-'), 'index.d.ts');
      expect({ type, binding: fs.existsSync(file) }).toEqual({ type, binding: true });
      const source = fs.readFileSync(file, 'utf8');
      const args = [...entry.forceNew, ...(entry.when ?? []).map((w) => w.path)].map((a) => a.split('.')[0]);
      for (const a of args) if (!new RegExp(`readonly ${camel(a)}\\??:`).test(source)) unknown.push(`${type}.${a}`);
    }
    expect(unknown).toEqual([]);
  });

  it('decides value-dependent replacements: memcached node type, engine downgrade', () => {
    const memcached = { engine: 'memcached', node_type: 'cache.t4g.micro', engine_version: '1.6.22' };
    expect(forcedReplacements('aws_elasticache_cluster', ['node_type'], memcached, { ...memcached, node_type: 'cache.t4g.small' })?.paths).toEqual(['node_type']);
    expect(forcedReplacements('aws_elasticache_cluster', ['engine_version'], memcached, { ...memcached, engine_version: '1.6.6' })?.paths).toEqual(['engine_version']);
    expect(forcedReplacements('aws_elasticache_cluster', ['engine_version'], memcached, { ...memcached, engine_version: '1.6.30' })?.paths).toEqual([]);
    expect(forcedReplacements('aws_db_instance', ['instance_class', 'db_name'], {}, {})?.paths).toEqual(['db_name']);
    expect(forcedReplacements('aws_unknown_thing', ['x'], {}, {})).toBeUndefined();
  });
});
