// Programs from Debian packages: taken from the unpacked package, libraries from the library
// packages first (guest path = path in the package), from a complete cache without apt.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { debianProgramFiles } from '../src/guest/programs.js';

const cache = mkdtempSync(join(tmpdir(), 'tg-programs-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

// A real dynamic program and one of its libraries from this host stand in for the packages.
const program = ['/usr/sbin/blkdiscard', '/sbin/blkdiscard'].find((p) => existsSync(p));
const libblkid = ['/usr/lib/x86_64-linux-gnu/libblkid.so.1', '/lib/x86_64-linux-gnu/libblkid.so.1'].find((p) => existsSync(p));

function place(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  copyFileSync(src, dst);
}

describe.skipIf(!program || !libblkid)('Debian programs', () => {
  it('uses cached packages without apt: program and package libraries at their package paths, the rest from the host', async () => {
    const debian = join(cache, 'debian');
    const ul = join(debian, 'util-linux_2.38-1/root');
    const lb = join(debian, 'libblkid1_2.38-1/root');
    place(program!, join(ul, 'sbin/blkdiscard'));
    place(libblkid!, join(lb, 'usr/lib/x86_64-linux-gnu/libblkid.so.1'));
    writeFileSync(join(debian, 'extra-packages.json'), JSON.stringify({ 'util-linux': '2.38-1', libblkid1: '2.38-1' }));
    process.env.PATH = '/nonexistent';
    const files = await debianProgramFiles([{ package: 'util-linux', path: '/sbin/blkdiscard', libraryPackages: ['libblkid1'] }], { cacheDir: cache });
    const byPath = new Map(files.map((f) => [f.path, f.source]));
    expect(byPath.get('/sbin/blkdiscard')).toBe(join(ul, 'sbin/blkdiscard'));
    expect(byPath.get('/usr/lib/x86_64-linux-gnu/libblkid.so.1')).toBe(join(lb, 'usr/lib/x86_64-linux-gnu/libblkid.so.1'));
    const libc = files.find((f) => f.path.endsWith('/libc.so.6'));
    expect(libc?.source).toBe(libc?.path);
  });

  it('goes to apt for a package the cache does not record', async () => {
    process.env.PATH = '/nonexistent';
    await expect(debianProgramFiles([{ package: 'e2fsprogs', path: '/sbin/mke2fs' }], { cacheDir: cache })).rejects.toThrow(/apt-cache|apt-get/);
  });
});
