import { environmentsUnderTest, titleOf, type StackJson } from '../support/synth';

/**
 * The migration's trigger is the hash of its bundle: function code, like the asset hash the JSON already
 * masks. Masked here so a snapshot changes with infrastructure, not with code; its value is checked by
 * __tests__/modules/migration-trigger.test.ts.
 */
function maskMigrationTrigger(json: StackJson): StackJson {
  for (const invocation of Object.values(json.resource?.aws_lambda_invocation ?? {})) if (invocation.triggers?.migrations) invocation.triggers.migrations = '<bundle-sha256>';
  return json;
}

// Snapshots cover the shipped profiles (accept a reviewed change with `npx jest __tests__/stacks -u`);
// generated variants are checked by assertions instead (wiring, policy), which need no snapshot.
describe('synthesized stacks', () => {
  const all = environmentsUnderTest();
  const shipped = all.filter((e) => !e.variant);

  for (const env of shipped) {
    for (const [id, text] of Object.entries(env.text)) {
      test(`${id} matches its snapshot`, () => {
        expect(maskMigrationTrigger(JSON.parse(text))).toMatchSnapshot();
      });
    }
  }

  test.each(all.map((e) => [titleOf(e), e] as const))('%s: no stack carries an absolute machine path', (_t, env) => {
    for (const [id, text] of Object.entries(env.text)) {
      expect({ id, paths: text.match(/"(\/(home|root|tmp|work|Users|var|private)\/[^"]*)"/g) ?? [] }).toEqual({ id, paths: [] });
      expect(text).not.toContain(process.cwd());
    }
  });

  test.each(all.map((e) => [titleOf(e), e] as const))('%s: local backends use a relative state path per stack', (_t, env) => {
    for (const stack of Object.values(env.stacks)) {
      const id = stack.node.id;
      expect(JSON.parse(env.text[id]).terraform.backend).toEqual({ local: { path: `../../../terraform.${id}.tfstate` } });
    }
  });
});
