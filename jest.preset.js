/** Shared jest settings: TypeScript through ts-jest (transpile only; `tsc -b` type-checks). */
const path = require('node:path');

module.exports = function jestConfig(projectDir, displayName) {
  return {
    displayName,
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(projectDir, 'tsconfig.spec.json'), isolatedModules: true }],
    },
    // Tests read the libraries' sources; workers and the CLI binary run the built output.
    moduleNameMapper: {
      '^@coffer/(contracts|storage|sources|repository)$': path.join(__dirname, 'libs/$1/src/index.ts'),
      '^@coffer/storage/dist/testing$': path.join(__dirname, 'libs/storage/src/testing/index.ts'),
    },
    testTimeout: 120000,
  };
};
