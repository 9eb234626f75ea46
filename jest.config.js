/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
  // Two cores: one worker per core, each test file with its own database.
  maxWorkers: 2,
  testTimeout: 30000,
  // Each test file is checked to leave no socket, server, child process or timer behind, yet on
  // a busy machine a worker process can take longer than Jest's default 500 ms to wind down and
  // exit by itself (its hashing threads and heap go with it). 5 s still reports a real leak,
  // which never exits. docs/development.md, "Running the tests".
  workerGracefulExitTimeout: 5000,
};
