import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Vitest fails the run on any unhandled rejection or uncaught exception (its default); it is
    // spelled out here because "no unhandled rejection escapes" is part of the executor's contract.
    dangerouslyIgnoreUnhandledErrors: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
