import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cacheRoot, fetchGuestPackages } from '../src/debian/index.js';

const cache = mkdtempSync(join(tmpdir(), 'tg-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

function touch(path: string, data = ''): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

const kdir = join(cache, 'debian/linux-image-6.1.0-9-amd64-unsigned_6.1.1-1/root');
touch(join(cache, 'debian/packages.json'), JSON.stringify({
  kernel: { package: 'linux-image-6.1.0-9-amd64-unsigned', version: '6.1.1-1' },
  busybox: { package: 'busybox-static', version: '1:1.35.0-4' },
}));
touch(join(kdir, 'boot/vmlinuz-6.1.0-9-amd64'));
mkdirSync(join(kdir, 'lib/modules/6.1.0-9-amd64/kernel'), { recursive: true });
touch(join(cache, 'debian/busybox-static_1_1.35.0-4/root/bin/busybox'));

describe('Debian package cache', () => {
  it('uses a complete cache without running apt at all (offline)', async () => {
    touch(join(cache, 'debian/busybox-static_1_1.35.0-4/applets.txt'), '/bin/sh\n/sbin/insmod\n');
    process.env.PATH = '/nonexistent';
    const p = await fetchGuestPackages({ cacheDir: cache });
    expect(p.kernel).toMatchObject({ release: '6.1.0-9-amd64', vmlinuz: join(kdir, 'boot/vmlinuz-6.1.0-9-amd64') });
    expect(p.busybox.applets).toEqual(['/bin/sh', '/sbin/insmod']);
  });

  it('goes to apt when the cache is incomplete', async () => {
    rmSync(join(cache, 'debian/busybox-static_1_1.35.0-4/applets.txt'));
    process.env.PATH = '/nonexistent';
    await expect(fetchGuestPackages({ cacheDir: cache })).rejects.toThrow(/apt-cache .*failed/);
  });

  it('lives under $XDG_CACHE_HOME/virtio-ts unless VIRTIO_TS_CACHE says otherwise', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/virtio-ts');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x', VIRTIO_TS_CACHE: '/y' })).toBe('/y');
  });
});
