// One config, five tiers (README, "Tests"). scripts/test.mjs selects the tier with QNET_TEST_TIER.
import fs from 'node:fs';

const libs = fs.readdirSync(new URL('./libs', import.meta.url));
const tier = process.env.QNET_TEST_TIER ?? 'unit';
const match = {
  unit: [
    '<rootDir>/apps/**/*.spec.ts',
    '<rootDir>/libs/**/*.spec.ts',
    '<rootDir>/test/unit/**/*.test.ts',
  ],
  integration: ['<rootDir>/test/integration/**/*.test.ts'],
  fuzz: ['<rootDir>/test/fuzz/**/*.test.ts'],
  dataplane: ['<rootDir>/test/dataplane/**/*.test.ts'],
  system: ['<rootDir>/test/system/**/*.test.ts'],
}[tier];

const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    [`^@qnet/(${libs.join('|')})$`]: '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: match,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['reflect-metadata'],
  testTimeout: tier === 'unit' ? 10_000 : 120_000,
  maxWorkers: tier === 'unit' ? '50%' : 1,
};
