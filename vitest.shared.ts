// Shared vitest configuration: every package resolves @virtio/* to the source of its
// sibling packages, so tests never need a build first.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@virtio\/([a-z0-9-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@virtio\/([a-z0-9-]+)\/([a-z0-9-]+)$/, replacement: `${packages}$1/src/$2/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
  },
});
