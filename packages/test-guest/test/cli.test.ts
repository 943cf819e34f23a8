import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectKvm } from '../src/kvm/detect.js';

const bin = fileURLToPath(new URL('../bin/virtio-test-guest.mjs', import.meta.url));

describe('virtio-test-guest CLI from source (no build step)', () => {
  it('detect prints this host\'s KVM kind and where commands run', () => {
    const out = execFileSync(process.execPath, [bin, 'detect'], { encoding: 'utf8' });
    expect(out).toContain(`kvm: ${detectKvm().kind}: ${detectKvm().reason}`);
    expect(out).toMatch(/^runs: (direct|rig|skipped)$/m);
  });

  it('lists its commands and rejects unknown ones', () => {
    const help = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    for (const cmd of ['build', 'detect', 'run', 'qemu-probe', 'qemu-checks', 'shell', 'bench']) expect(help).toContain(cmd);
    expect(spawnSync(process.execPath, [bin, 'frobnicate']).status).not.toBe(0);
  });
});
