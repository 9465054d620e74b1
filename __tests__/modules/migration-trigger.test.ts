/**
 * The migration re-runs when what it deploys changes: its `aws_lambda_invocation` trigger is the hash of
 * the migration function's bundle. Proven for real, two ways: on copies of the project's sources, each
 * bundled by the code path a synth takes (DatabaseMigration → bundleFunction → esbuild) with the trigger
 * read from the synthesized JSON; and, for every bundled file in turn, by bundling with that one input
 * changed (an esbuild rebuild, about a fifth of a fresh bundle's time).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync, context, type BuildContext } from 'esbuild';
import { TerraformStack, Testing } from 'cdktf';
import { MIGRATE_ENTRY } from '../../components/schema-migrations';
import { bundleOptions } from '../../modules/bundle';
import { DatabaseMigration } from '../../modules/database-migration';
import { MysqlDatabase } from '../../modules/mysql-database';
import { environmentsUnderTest, resources, single, type StackJson } from '../support/synth';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.relative(ROOT, MIGRATE_ENTRY);

/**
 * The project's own files esbuild bundles into the migration function: its metafile inputs (relative to the
 * project) but the packages, wherever node_modules is (a fork may link it from outside the project).
 */
const BUNDLED = Object.keys(buildSync(bundleOptions(MIGRATE_ENTRY)).metafile!.inputs).filter((f) => !f.startsWith('../') && !f.split('/').includes('node_modules'));

let work: string;
let copies = 0;
const savedCacheDir = process.env.FUNCTION_BUNDLE_CACHE_DIR;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-trigger-'));
  // The copies' bundles are cached apart from the project's: they share its node_modules, where the cache lives by default.
  process.env.FUNCTION_BUNDLE_CACHE_DIR = path.join(work, 'bundle-cache');
});
afterAll(() => {
  if (savedCacheDir === undefined) delete process.env.FUNCTION_BUNDLE_CACHE_DIR;
  else process.env.FUNCTION_BUNDLE_CACHE_DIR = savedCacheDir;
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * A fresh copy of the project's sources (every top-level folder the bundle reads from, functions/ whole,
 * package.json, tsconfig.json; node_modules linked), changed by `edit`. A new folder each time, as a
 * checkout elsewhere would be: bundles are memoised per entry path within a process.
 */
function copyOfSources(edit: (root: string) => void = () => {}): string {
  const root = path.join(work, `copy-${++copies}`);
  const folders = new Set(['functions', ...BUNDLED.map((f) => f.split('/')[0])]);
  for (const folder of folders) fs.cpSync(path.join(ROOT, folder), path.join(root, folder), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, file), path.join(root, file));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  edit(root);
  return root;
}

/** The migration's trigger as a synth writes it, for the migration entry of the sources under `root`. */
function triggerOf(root: string): string {
  const stack = new TerraformStack(Testing.app(), 'test');
  const database = new MysqlDatabase(stack, 'db', { name: 'hits-test', vpcId: 'vpc-1', subnetIds: ['a', 'b'], monitoringIntervalSeconds: 0 });
  new DatabaseMigration(stack, 'migration', { functionName: 'hits-test-migrate', entry: path.join(root, ENTRY), database, vpcId: 'vpc-1', subnetIds: ['a', 'b'] });
  return single(JSON.parse(Testing.synth(stack)) as StackJson, 'aws_lambda_invocation').triggers.migrations;
}

/** A change that reaches the bundle whatever the file holds: a top-level statement, which esbuild keeps (a side effect). */
const probe = (file: string) => `\n(globalThis as Record<string, unknown>).__migrationTriggerProbe = ${JSON.stringify(file)};\n`;
const appendStatement = (root: string, file: string) => fs.appendFileSync(path.join(root, file), probe(file));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the migration trigger follows the deployed bundle', () => {
  let base: string;
  beforeAll(() => {
    base = triggerOf(ROOT);
  });

  test('the bundle reads the migrations, the tenant provisioning and shared lib files: the files a hand-kept list forgot', () => {
    expect(BUNDLED).toEqual(expect.arrayContaining([ENTRY, 'functions/migrate/migrations.ts', 'functions/migrate/tenants.ts']));
    expect(BUNDLED.some((f) => f.startsWith('functions/lib/'))).toBe(true);
  });

  test('every synthesized data stack carries it, and a copy of the sources anywhere else gives the same: no machine path in it', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    // Every invocation: the direct arm's own instance, when there is one, runs the same bundle under the same rule.
    for (const env of environmentsUnderTest()) for (const [, invocation] of resources(env.data, 'aws_lambda_invocation')) expect(invocation.triggers.migrations).toBe(base);
    expect(triggerOf(copyOfSources())).toBe(base);
  });

  test('changing a tenant grant in functions/migrate/tenants.ts changes the trigger', () => {
    const grant = 'GRANT SELECT, INSERT, UPDATE ON ??.items';
    expect(fs.readFileSync(path.join(ROOT, 'functions/migrate/tenants.ts'), 'utf8')).toContain(grant);
    const edited = copyOfSources((root) => {
      const file = path.join(root, 'functions/migrate/tenants.ts');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(grant, 'GRANT SELECT ON ??.items'));
    });
    expect(triggerOf(edited)).not.toBe(base);
  });

  test('editing a file the migration does not bundle (functions/hits/app.ts) leaves the trigger as it is', () => {
    const unrelated = 'functions/hits/app.ts';
    expect(BUNDLED).not.toContain(unrelated);
    expect(triggerOf(copyOfSources((root) => appendStatement(root, unrelated)))).toBe(base);
  });

  test('a checkout with CRLF line endings (git on Windows) gives the same trigger: no re-run for nothing', () => {
    const crlf = copyOfSources((root) => {
      for (const file of BUNDLED) fs.writeFileSync(path.join(root, file), fs.readFileSync(path.join(root, file), 'utf8').replace(/\r?\n/g, '\r\n'));
    });
    expect(triggerOf(crlf)).toBe(base);
  });

  describe('bundled with one input changed', () => {
    let edited: string | undefined;
    let rebuilds: BuildContext;
    beforeAll(async () => {
      rebuilds = await context({
        ...bundleOptions(MIGRATE_ENTRY),
        plugins: [{
          name: 'edit-one-input',
          setup(build) {
            build.onLoad({ filter: /\.ts$/ }, (args) => {
              const file = path.relative(ROOT, args.path).split(path.sep).join('/');
              return file === edited ? { contents: fs.readFileSync(args.path, 'utf8') + probe(file), loader: 'ts' } : undefined;
            });
          },
        }],
      });
    });
    afterAll(() => rebuilds.dispose());
    const bundleHash = async (file?: string) => {
      edited = file;
      return sha256((await rebuilds.rebuild()).outputFiles![0].text);
    };

    test('unchanged, it is the trigger: the hash of the bundle', async () => {
      expect(await bundleHash()).toBe(base);
    });

    test.each(BUNDLED.filter((f) => f.endsWith('.ts')))('editing %s changes the trigger', async (file) => {
      expect(await bundleHash(file)).not.toBe(base);
    });
  });
});
