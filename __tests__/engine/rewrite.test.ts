/**
 * The pure rewrites of `npm run engine` (tools/engine/rewrite.ts): module specifiers and package.json. The
 * specifiers below are built from the engine table, so this file reads the same under either engine.
 */
import { ENGINES } from '../../tools/engine/engines';
import { lockedRootRanges, rewriteImports, rewritePackageJson } from '../../tools/engine/rewrite';

const { cdktf, cdktn } = ENGINES;

describe('rewriteImports', () => {
  const forms = (lib: string, provider: string) => [
    `import { App, TerraformStack } from '${lib}';`,
    `import type { IConstruct } from "${lib}";`,
    `import { Vpc } from '${provider}/lib/vpc';`,
    `import * as aws from '${provider}';`,
    `export { Fn } from '${lib}';`,
    `import '${lib}';`,
    `const { Testing } = require('${lib}') as typeof import('${lib}');`,
    `const { DataResource } = require("${lib}/lib/terraform-data-resource");`,
    `const dir = path.dirname(require.resolve('${provider}/lib/provider/index.js'));`,
    `jest.mock('${lib}');`,
    'const lazy = await import(`' + lib + '`);',
  ];

  test.each([
    ['cdktf → cdktn', cdktf, cdktn],
    ['cdktn → cdktf', cdktn, cdktf],
  ])('%s: every way a module is named, and back again', (_t, from, to) => {
    const before = forms(from.library, from.provider).join('\n');
    const after = rewriteImports(before, from, to);
    expect(after).toBe(forms(to.library, to.provider).join('\n'));
    expect(rewriteImports(after, to, from)).toBe(before);
  });

  test('strings that are not module specifiers stay: the tag value, the CLI package, files and folders named after the engine', () => {
    const text = [
      `defaultTags: [{ tags: { ManagedBy: '${cdktf.library}' } }],`,
      `const cli = '${cdktf.cli}';`,
      `const spec = ['${cdktf.library}', 'test'];`,
      `fs.readFileSync('${cdktf.library}.json');`,
      `// the ${cdktf.library} CLI writes ${cdktf.library}.out/`,
      `const outdir = path.join(root, '${cdktf.library}.out');`,
      `import { x } from './${cdktf.library}-helpers';`,
      `import { y } from '${cdktf.library}-extra';`,
      `import { z } from '@${cdktf.library}/cli-core';`,
    ].join('\n');
    expect(rewriteImports(text, cdktf, cdktn)).toBe(text);
  });
});

describe('rewritePackageJson', () => {
  const pkg = (engine = cdktf, versions = { library: '0.21.0', cli: '0.21.0', provider: '21.22.1' }) => ({
    name: 'x',
    scripts: { synth: 'node app.js', [engine.command]: `CHECKPOINT_DISABLE=1 ${engine.command}`, test: 'jest' },
    dependencies: { '@aws-sdk/client-sts': '3.1.0', [engine.provider]: versions.provider, [engine.library]: versions.library, constructs: '10.7.2' },
    devDependencies: { [engine.cli]: versions.cli, jest: '30.0.0' },
  });
  const cdktnRanges = { [cdktn.library]: '0.24.0', [cdktn.cli]: '0.24.0', [cdktn.provider]: '25.7.0', constructs: '10.7.2' };
  const cdktfRanges = { [cdktf.library]: '0.21.0', [cdktf.cli]: '0.21.0', [cdktf.provider]: '21.22.1', constructs: '10.7.2' };

  test("renames the engine's packages and CLI script in place, at the versions the other lock records, and back to the same bytes", () => {
    const text = `${JSON.stringify(pkg(), null, 2)}\n`;
    const switched = rewritePackageJson(text, cdktf, cdktn, cdktnRanges);
    expect(switched).toBe(`${JSON.stringify(pkg(cdktn, { library: '0.24.0', cli: '0.24.0', provider: '25.7.0' }), null, 2)}\n`);
    // Same key positions: the switch back restores the bytes, not just the content.
    expect(Object.keys(JSON.parse(switched).dependencies)).toEqual(['@aws-sdk/client-sts', cdktn.provider, cdktn.library, 'constructs']);
    expect(Object.keys(JSON.parse(switched).scripts)).toEqual(['synth', cdktn.command, 'test']);
    expect(rewritePackageJson(switched, cdktn, cdktf, cdktfRanges)).toBe(text);
  });

  test('keeps another indentation and CRLF line endings', () => {
    const text = `${JSON.stringify(pkg(), null, 4).replace(/\n/g, '\r\n')}\r\n`;
    const switched = rewritePackageJson(text, cdktf, cdktn, cdktnRanges);
    expect(switched).toMatch(/^\{\r\n {4}"name"/);
    expect(rewritePackageJson(switched, cdktn, cdktf, cdktfRanges)).toBe(text);
  });

  test('refuses what it could not give back or does not know, naming it', () => {
    const text = `${JSON.stringify(pkg(), null, 2)}\n`;
    expect(() => rewritePackageJson(JSON.stringify(pkg(), null, 2).replace('"name": "x"', '"name":"x"'), cdktf, cdktn, cdktnRanges)).toThrow(/not laid out as npm writes it/);
    expect(() => rewritePackageJson(text, cdktf, cdktn, { ...cdktnRanges, [cdktn.cli]: undefined as unknown as string })).toThrow(`does not list ${cdktn.cli}`);
    const noCli = pkg();
    delete (noCli.devDependencies as Record<string, string>)[cdktf.cli];
    expect(() => rewritePackageJson(`${JSON.stringify(noCli, null, 2)}\n`, cdktf, cdktn, cdktnRanges)).toThrow(`list ${cdktf.cli}`);
    const noScript = pkg();
    delete (noScript.scripts as Record<string, string>)[cdktf.command];
    expect(() => rewritePackageJson(`${JSON.stringify(noScript, null, 2)}\n`, cdktf, cdktn, cdktnRanges)).toThrow(`no "${cdktf.command}" script`);
  });
});

test('lockedRootRanges reads the root package of a lock file, dev dependencies included', () => {
  const lock = { lockfileVersion: 3, packages: { '': { dependencies: { a: '1.0.0' }, devDependencies: { b: '^2.0.0' } }, 'node_modules/a': { version: '1.0.0' } } };
  expect(lockedRootRanges(JSON.stringify(lock))).toEqual({ a: '1.0.0', b: '^2.0.0' });
  expect(() => lockedRootRanges(JSON.stringify({ lockfileVersion: 1, dependencies: {} }), 'old.json')).toThrow(/old\.json has no root package entry/);
});
