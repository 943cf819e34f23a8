// The README's example runs as written (its @virtio/* imports pointed at the sources).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('README example writes and reads back a block through the SCSI disk', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const src = (pkg: string, p = 'index.ts') => JSON.stringify(fileURLToPath(new URL(`../../${pkg}/src/${p}`, import.meta.url)));
  const dir = mkdtempSync(join(tmpdir(), 'scsi-readme-'));
  try {
    const file = join(dir, 'example.mts');
    const code = example!
      .replace("from '@virtio/ring'", `from ${src('ring')}`)
      .replace("from '@virtio/core/testing'", `from ${src('core', 'testing/index.ts')}`)
      .replace("from '@virtio/blk'", `from ${src('blk')}`)
      .replace("from '@virtio/scsi'", `from ${src('scsi')}`);
    writeFileSync(file, code);
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 30_000,
    });
    expect(output).toBe('response 0, status 0: hello, virtio-scsi\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
