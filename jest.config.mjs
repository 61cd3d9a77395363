// Jest runs in ESM mode (Nest 12 ships ESM only): start it with `npm test`, which adds
// --experimental-vm-modules. The library is mapped to its sources so tests need no build.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^nestjs-zookeeper$': '<rootDir>/libs/zookeeper/src/index.ts',
    '^nestjs-zookeeper/testing$': '<rootDir>/libs/zookeeper/src/testing/index.ts',
    '^nestjs-zookeeper/health$': '<rootDir>/libs/zookeeper/src/health/index.ts',
    '^nestjs-zookeeper/transport$': '<rootDir>/libs/zookeeper/src/transport/index.ts',
    '^nestjs-zookeeper/dashboard$': '<rootDir>/libs/zookeeper/src/dashboard/index.ts',
    '^nestjs-zookeeper/config$': '<rootDir>/libs/zookeeper/src/config/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  roots: ['<rootDir>/test', '<rootDir>/libs', '<rootDir>/apps'],
  testMatch: ['**/*.spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
