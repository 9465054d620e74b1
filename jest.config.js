/**
 * Tests in three tiers, chosen by directory (jest projects: `jest --selectProjects <tier>`):
 * - fast: configuration, modules, stacks, policy, change-review units, pure function units. No services,
 *   no child processes of note; every set of environments is synthesized once per run (support/synth.ts).
 *   The daily loop: `npm run test:fast`.
 * - services: the functions and migrations against a real MariaDB and memcached started on loopback.
 * - e2e: whole programs run as a user runs them: a fork of the project, local mode (with a browser), the
 *   change review with real Terraform, the cdktf CLI, the app command's determinism.
 * A test file belongs to the first tier whose paths match it; anything not listed under services or e2e is
 * fast, so a new suite runs somewhere by default. `npm test` runs every tier.
 */
const fs = require('fs');
const path = require('path');

/** Paths relative to the repository root; a trailing slash means the whole directory. */
const TIERS = {
  services: ['__tests__/functions/', '__tests__/migrate/', '__tests__/tenants/'],
  e2e: [
    '__tests__/fork/',
    '__tests__/local/',
    '__tests__/load/local.test.ts',
    '__tests__/load/run.test.ts',
    '__tests__/review/compare.test.ts',
    '__tests__/review/plan.test.ts',
    '__tests__/review/synth-review.test.ts',
    '__tests__/stacks/cli.test.ts',
    '__tests__/stacks/determinism.test.ts',
  ],
};
/** Files under a services directory that start no service: they run with the fast tier. */
const PURE_UNITS = ['__tests__/functions/units.test.ts', '__tests__/functions/token-minter.test.ts', '__tests__/tenants/units.test.ts'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A testPathIgnorePatterns entry (a regular expression on the absolute path) for one listed path. */
const pattern = (p) => `^${escape(path.join(__dirname, p))}${p.endsWith('/') ? '' : '$'}`;
/** A testMatch glob for one listed path. */
const glob = (p) => `<rootDir>/${p}${p.endsWith('/') ? '**/*.test.ts' : ''}`;

const common = {
  rootDir: __dirname,
  // Tests live in __tests__/, and beside a tool that has its own (tools/).
  roots: ['__tests__', 'tools'].filter((dir) => fs.existsSync(path.join(__dirname, dir))).map((dir) => `<rootDir>/${dir}`),
  testEnvironment: '<rootDir>/__tests__/support/environment.ts',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // One timeout for every tier (jest-circus reads only the global one): stacks synthesize the app the first
  // time a set is asked for, service tests start MariaDB and memcached; both are slow to set up, not to run.
  // End-to-end suites set longer ones where they need them.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'fast',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        ...TIERS.e2e.map(pattern),
        // A services directory, except the pure units in it.
        ...TIERS.services.map((dir) => {
          const units = PURE_UNITS.filter((u) => u.startsWith(dir)).map((u) => `${escape(u.slice(dir.length))}$`);
          return units.length ? `${pattern(dir)}(?!${units.join('|')})` : pattern(dir);
        }),
      ],
      globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
      globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'services',
      testMatch: TIERS.services.map(glob),
      testPathIgnorePatterns: ['/node_modules/', ...PURE_UNITS.map(pattern)],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: TIERS.e2e.map(glob),
    },
  ],
};
