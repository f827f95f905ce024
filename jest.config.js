// Jest 30 + ts-jest in ESM mode (see ../shared/TOOLCHAIN.md). ts-jest only transpiles; `make check` type-checks.
const tsJest = ['ts-jest', { useESM: true }];

/** @type {import('jest').Config} */
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/helpers/moto-global-setup.mjs',
      globalTeardown: '<rootDir>/tests/helpers/moto-global-teardown.mjs',
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'] },
    {
      ...common,
      displayName: 'stacks',
      testMatch: ['<rootDir>/tests/stacks/**/*.test.ts'],
    },
  ],
  testTimeout: 60_000,
};
