/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  // Stacks synthesize the whole app; service tests start MariaDB and memcached. Both are slow to set up, not to run.
  testTimeout: 60000,
  maxWorkers: 2,
};
