import { dev } from '../../config/dev';
import { prod } from '../../config/prod';
import { synthEnvironments, withoutCache } from '../support/synth';

describe('synthesized stacks', () => {
  const environments = synthEnvironments();
  const noCache = synthEnvironments([withoutCache(dev), withoutCache(prod)], 'no-cache');

  for (const env of environments) {
    for (const [id, text] of Object.entries(env.text)) {
      test(`${id} matches its snapshot`, () => {
        expect(JSON.parse(text)).toMatchSnapshot();
      });
    }
  }
  for (const env of noCache) {
    for (const [id, text] of Object.entries(env.text)) {
      test(`${id} without cache matches its snapshot`, () => {
        expect(JSON.parse(text)).toMatchSnapshot();
      });
    }
  }

  test('no stack carries an absolute machine path', () => {
    for (const env of [...environments, ...noCache]) {
      for (const [id, text] of Object.entries(env.text)) {
        expect({ id, paths: text.match(/"(\/(home|root|tmp|work|Users|var|private)\/[^"]*)"/g) ?? [] }).toEqual({ id, paths: [] });
        expect(text).not.toContain(process.cwd());
      }
    }
  });

  test('local backends use a relative state path per stack', () => {
    for (const env of environments) {
      for (const kind of ['network', 'data', 'api', 'ops'] as const) {
        const id = env.stacks[kind].node.id;
        expect(env[kind].terraform.backend).toEqual({ local: { path: `../../../terraform.${id}.tfstate` } });
      }
    }
  });
});
