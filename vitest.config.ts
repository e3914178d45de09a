import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A 3-member etcd cluster for the replicated-mode tests (test/etcd/global-setup.ts).
    globalSetup: ['test/etcd/global-setup.ts'],
  },
});
