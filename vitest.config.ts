import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of the slow files wait on child processes (the lab, vigil run, etcd, vcsim), not on
    // the CPU; vitest's default on a 2-core machine is a single worker.
    maxWorkers: 3,
    // A 3-member etcd cluster for the replicated-mode tests (test/etcd/global-setup.ts).
    globalSetup: ['test/etcd/global-setup.ts'],
  },
});
