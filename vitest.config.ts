import { defineConfig } from 'vitest/config';

// GitHub sets CI=true (and .ci/run does): CI then writes the JSON report and measures coverage in the same run,
// so coverage costs no extra suite run; a local `npm test` stays fast unless asked (`npx vitest run --coverage`).
const ci = Boolean(process.env.CI);

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    // End-to-end tests spawn the bundled action and an HTTPS emulator; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // CI reads the counts from the JSON report; people read the default one.
    reporters: ci ? ['default', 'json'] : ['default'],
    outputFile: { json: '.tmp/vitest-results.json' },
    coverage: {
      enabled: ci,
      provider: 'v8',
      // The action's own code. End-to-end tests run dist/ in a child process, which V8 coverage here does not see,
      // so these numbers count what the unit and in-process tests reach.
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Measured 2026-11-23 (178 tests): lines 63.0 %, statements 59.9 %, branches 55.6 %, functions 48.7 %.
      // A few points of slack so a refactor does not fail CI; raise these when the in-process share grows.
      thresholds: { lines: 58, statements: 55, branches: 50, functions: 44 },
    },
  },
});
