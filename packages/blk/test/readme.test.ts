// The README's example runs as written (its @virtio/blk imports pointed at this package's sources).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('README example writes, flushes and reads a sector of a disk image', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const src = (p: string) => JSON.stringify(fileURLToPath(new URL(`../src/${p}`, import.meta.url)));
  const dir = mkdtempSync(join(tmpdir(), 'blk-readme-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(file, example!.replace("from '@virtio/blk/node'", `from ${src('node/index.ts')}`).replace("from '@virtio/blk'", `from ${src('index.ts')}`));
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 30_000,
    });
    expect(output).toBe('2048 sectors, id example-disk: hello, virtio-blk\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
