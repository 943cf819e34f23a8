// The README's example runs as written (its @virtio/* imports pointed at the sources).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('README example encrypts and decrypts through the device', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const src = (pkg: string, p = 'index.ts') => JSON.stringify(fileURLToPath(new URL(`../../${pkg}/src/${p}`, import.meta.url)));
  const dir = mkdtempSync(join(tmpdir(), 'crypto-readme-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(
      file,
      example!
        .replace("from '@virtio/ring'", `from ${src('ring')}`)
        .replace("from '@virtio/core/testing'", `from ${src('core', 'testing/index.ts')}`)
        .replace("from '@virtio/crypto'", `from ${src('crypto')}`),
    );
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 });
    expect(output).toBe('status 0: hello, virtio-crypto\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
