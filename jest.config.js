'use strict';
// One jest run covers every package's unit tests and the black-box tests in test/.
// @swc/jest strips types (fast); `npm run typecheck` is what checks them.
// @warren/* resolves to sources, so tests never need a build first.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  moduleNameMapper: { '^@warren/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testTimeout: 20000,
};
