import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCpio } from '../src/cpio/index.js';
import type { GuestPackages } from '../src/debian/packages.js';
import { buildInitramfs, MODULE_LIST } from '../src/guest/initramfs.js';
import { sharedLibraries } from '../src/libs/index.js';
import { fakeModule } from './fixtures/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'tg-initramfs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const release = '6.1.0-99-amd64';
const modulesDir = join(dir, 'lib/modules', release);
mkdirSync(join(modulesDir, 'kernel/drivers/virtio'), { recursive: true });
writeFileSync(join(modulesDir, 'kernel/drivers/virtio/virtio.ko'), fakeModule('virtio', []));
writeFileSync(join(modulesDir, 'kernel/drivers/virtio/virtio_ring.ko'), fakeModule('virtio_ring', []));
writeFileSync(join(modulesDir, 'kernel/drivers/virtio/virtio_mmio.ko'), fakeModule('virtio_mmio', ['virtio_ring', 'virtio']));
writeFileSync(join(dir, 'busybox'), 'fake busybox');
const packages: GuestPackages = {
  kernel: { package: 'linux-image-x', version: '1', release, vmlinuz: join(dir, 'vmlinuz'), modulesDir },
  busybox: { package: 'busybox-static', version: '1', binary: join(dir, 'busybox'), applets: ['/bin/sh', '/sbin/insmod', '/usr/bin/setsid'] },
};

describe('initramfs', () => {
  const { image, modules } = buildInitramfs({
    packages,
    modules: ['virtio_mmio'],
    init: '#!/bin/sh\necho hi\n',
    extraFiles: [
      { path: '/etc/motd', data: 'welcome\n' },
      { path: '/usr/local/bin/tool', source: join(dir, 'busybox') },
    ],
    programs: ['/bin/ls'],
  });
  const entries = new Map(readCpio(gunzipSync(image)).map((e) => [e.name, e]));
  const text = (name: string): string => new TextDecoder().decode(entries.get(name)?.data);

  it('holds busybox with relative applet links, /init and /dev/console', () => {
    expect(text('bin/busybox')).toBe('fake busybox');
    expect(entries.get('bin/sh')).toMatchObject({ type: 'symlink' });
    expect(text('bin/sh')).toBe('busybox');
    expect(text('sbin/insmod')).toBe('../bin/busybox');
    expect(text('usr/bin/setsid')).toBe('../../bin/busybox');
    expect(entries.get('init')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(text('init')).toBe('#!/bin/sh\necho hi\n');
    expect(entries.get('dev/console')).toMatchObject({ type: 'char', rdevMajor: 5, rdevMinor: 1 });
    expect(entries.get('tmp')).toMatchObject({ type: 'directory', mode: 0o1777 });
  });

  it('holds the requested modules with dependencies, modules.dep and the load order', () => {
    expect(modules.order.map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_mmio']);
    const base = `lib/modules/${release}`;
    expect(entries.get(`${base}/kernel/drivers/virtio/virtio_mmio.ko`)?.data.length).toBeGreaterThan(0);
    expect(text(`${base}/modules.dep`)).toContain(
      'kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    );
    expect(text(MODULE_LIST.slice(1)).trim().split('\n')).toEqual([
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_mmio.ko',
    ]);
  });

  it('holds extra files and programs with their shared libraries at their host paths', () => {
    expect(text('etc/motd')).toBe('welcome\n');
    expect(entries.get('usr/local/bin/tool')).toMatchObject({ mode: 0o755 });
    for (const file of ['/bin/ls', ...sharedLibraries('/bin/ls')]) {
      expect(Buffer.from(entries.get(file.slice(1))?.data ?? []).equals(readFileSync(file))).toBe(true);
    }
  });

  it('lists every parent directory before its contents', () => {
    const names = [...entries.keys()];
    for (const [i, name] of names.entries()) {
      const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : undefined;
      if (parent) expect(names.indexOf(parent)).toBeGreaterThanOrEqual(0);
      if (parent) expect(names.indexOf(parent)).toBeLessThan(i);
    }
  });

  it('refuses a module the kernel does not have', () => {
    expect(() => buildInitramfs({ packages, modules: ['virtio_net'], init: '' })).toThrow(/kernel modules not found: virtio_net/);
  });
});
