// Jest runs in ESM mode (NODE_OPTIONS=--experimental-vm-modules, see package.json) because
// @octokit/rest and @kubernetes/client-node are ESM-only; ts-jest only transpiles (tsc type-checks).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { isolatedModules: true }, diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/support/quiet-runtime.ts', '<rootDir>/test/support/guard-setup.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Tests start real servers; two cores, so at most two files at a time.
  maxWorkers: 2,
  testTimeout: 120_000,
  verbose: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
