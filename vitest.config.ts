import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import TierSequencer from './test/support/sequencer.ts';

const require = createRequire(import.meta.url);

export default defineConfig({
  // One graphql instance: Vite would pick graphql's ESM build for our imports and the CJS one for its dependents.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Files run one after another in each worker process, which imports the server once: the imports
    // took about as long as the tests. Files restore what they change in the process (env, timers).
    isolate: false,
    sequence: { sequencer: TierSequencer },
  },
});
