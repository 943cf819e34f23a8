// The README's example runs as written (its import pointed at this package's sources).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeKvm } from './helpers/guest.js';

describeKvm('README', () => {
  it('runs the real-mode "hi" example and prints hi', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'kvm-readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, example!.replace("from '@virtio/kvm'", `from ${JSON.stringify(source)}`));
      const output = execFileSync(process.execPath, ['--import', 'tsx', file], {
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        timeout: 30_000,
      });
      expect(output).toBe('hi\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
