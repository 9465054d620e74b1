/** The apply guard and the per-environment split that apply.yml relies on. */
import { applyRefusal } from '../../tools/review/lib/apply-guard';
import { environmentsOf, stacksOfEnvironment } from '../../tools/review/lib/manifest';
import { STATEFUL_TYPES } from '../../tools/review/lib/risks';

/** One resource change in the shape `terraform show -json` gives (format_version 1.2). */
const planWith = (type: string, actions: string[]) => ({
  format_version: '1.2',
  resource_changes: [{ address: `${type}.this`, mode: 'managed' as const, type, change: { actions, before: { a: 1 }, after: { a: 2 } } }],
});

describe('apply guard', () => {
  it('stops before replacing or deleting any stateful type, unless allowed', () => {
    expect(STATEFUL_TYPES.size).toBeGreaterThan(0);
    for (const type of STATEFUL_TYPES) {
      for (const actions of [['delete', 'create'], ['create', 'delete'], ['delete']]) {
        expect(applyRefusal('data-x', planWith(type, actions), false)).toMatch(new RegExp(`^would (replace|delete) ${type}\\.this; rerun with --allow-replace`));
        expect(applyRefusal('data-x', planWith(type, actions), true)).toBeUndefined();
      }
    }
  });

  it('lets in-place updates, creates and stateless replacements through', () => {
    const stateful = [...STATEFUL_TYPES][0];
    expect(applyRefusal('s', planWith(stateful, ['update']), false)).toBeUndefined();
    expect(applyRefusal('s', planWith(stateful, ['create']), false)).toBeUndefined();
    expect(applyRefusal('s', planWith('aws_route', ['delete', 'create']), false)).toBeUndefined();
  });
});

describe('environments of a manifest', () => {
  const stacks = (entries: Record<string, string[]>) => new Map(Object.entries(entries).map(([name, dependencies]) => [name, { dependencies }]));

  it('are listed in manifest order, and an environment keeps only its own stacks', () => {
    const manifest = stacks({ 'api-prod': ['data-prod'], 'data-prod': ['net-prod'], 'net-prod': [], 'api-dev': ['net-dev'], 'net-dev': [], 'ops-staging-eu': ['net-staging-eu'], 'net-staging-eu': [] });
    expect(environmentsOf(manifest)).toEqual(['dev', 'prod', 'staging-eu']);
    expect([...stacksOfEnvironment(manifest, 'prod').keys()].sort()).toEqual(['api-prod', 'data-prod', 'net-prod']);
  });

  it('refuses stacks it cannot place in one environment', () => {
    expect(() => environmentsOf(stacks({ network: [] }))).toThrow(/stack network is not named <kind>-<environment>/);
    expect(() => environmentsOf(stacks({ 'net-dev': [], 'api-prod': ['net-dev'] }))).toThrow(/api-prod \(environment prod\) depends on net-dev of another environment/);
  });
});
