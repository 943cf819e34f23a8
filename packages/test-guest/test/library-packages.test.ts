// Library packages of a Debian program: a soname found neither in the listed packages nor on
// the host comes from the dependencies of the package that needs it (policy name first),
// transitively; apt's `depends` output is parsed; a recorded resolution needs no apt.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseDepends } from '../src/debian/apt.js';
import { candidateOrder, policyPackageName, resolvePackagedLibraries, type PackageSource } from '../src/guest/library-packages.js';
import { resolveDebianProgram } from '../src/guest/programs.js';

const work = mkdtempSync(join(tmpdir(), 'tg-libpkg-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

const LIB = '/usr/lib/x86_64-linux-gnu';
const host = (name: string): string | undefined => [`/lib/x86_64-linux-gnu/${name}`, `/usr/lib/x86_64-linux-gnu/${name}`, `/bin/${name}`, `/usr/bin/${name}`].find((p) => existsSync(p));
// Real ELF files of this host stand in for the packages' files: mount needs libmount and
// libselinux; libmount needs libblkid and libselinux; libselinux needs libpcre2-8.
const files = {
  mount: host('mount'),
  libmount: host('libmount.so.1'),
  libblkid: host('libblkid.so.1'),
  libselinux: host('libselinux.so.1'),
  libpcre: host('libpcre2-8.so.0'),
  libc: host('libc.so.6'),
};

let n = 0;
function packageRoot(pkg: string, content: Record<string, string>): string {
  const root = join(work, `${pkg}-${n++}`);
  for (const [path, src] of Object.entries(content)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    copyFileSync(src, join(root, path));
  }
  return root;
}

/** A package source over fixed packages; records what was unpacked. */
function fakeSource(packages: Record<string, { depends: string[]; files?: Record<string, string> }>): PackageSource & { unpacked: string[] } {
  const unpacked: string[] = [];
  return {
    unpacked,
    depends: async (pkg) => packages[pkg]?.depends ?? [],
    unpack: async (pkg) => {
      unpacked.push(pkg);
      return packageRoot(pkg, packages[pkg]?.files ?? {});
    },
  };
}

describe('Debian library package names', () => {
  it('maps sonames to the names of the library packaging policy', () => {
    expect(policyPackageName('librados.so.2')).toBe('librados2');
    expect(policyPackageName('libnl-3.so.200')).toBe('libnl-3-200');
    expect(policyPackageName('libboost_thread.so.1.74.0')).toBe('libboost-thread1.74.0');
    expect(policyPackageName('libstdc++.so.6')).toBe('libstdc++6');
    expect(policyPackageName('libpcre2-8.so.0')).toBe('libpcre2-8-0');
    expect(policyPackageName('libfoo.so')).toBeUndefined();
  });

  it('orders candidates: policy name, then same stem, then other libraries; never non-library packages', () => {
    const deps = ['adduser', 'libc6', 'librbd1', 'python3', 'librados-dev', 'librados2', 'zlib1g'];
    expect(candidateOrder('librados.so.2', deps)).toEqual(['librados2', 'librados-dev', 'libc6', 'librbd1']);
    expect(candidateOrder('libz.so.1', deps)).toEqual(['libc6', 'librbd1', 'librados-dev', 'librados2', 'zlib1g']);
  });

  it('parses apt-cache depends: Depends and PreDepends with alternatives, no virtual packages or their providers', () => {
    const out = 'iperf3\n  PreDepends: init-system-helpers\n  Depends: libc6\n  Depends: libiperf0\n |Depends: debconf\n  Depends: <debconf-2.0>\n    cdebconf\n    debconf\n  Recommends: foo\n';
    expect(parseDepends(out)).toEqual(['init-system-helpers', 'libc6', 'libiperf0', 'debconf']);
  });
});

describe.skipIf(Object.values(files).some((f) => f === undefined))('library resolution from package dependencies', () => {
  const f = files as Record<keyof typeof files, string>;
  // Only libc is "on the host": everything else must come from packages.
  const hostDir = packageRoot('host', { 'libc.so.6': f.libc });

  it('fetches a missing soname from the dependencies of the package that needs it, transitively, policy name first', async () => {
    const source = fakeSource({
      mount: { depends: ['adduser', 'libmount1', 'libselinux1', 'libc6'] },
      libmount1: { depends: ['libblkid1', 'libselinux1', 'libc6'], files: { [`${LIB}/libmount.so.1`]: f.libmount } },
      libblkid1: { depends: ['libc6'], files: { [`${LIB}/libblkid.so.1`]: f.libblkid } },
      libselinux1: { depends: ['libpcre2-8-0', 'libc6'], files: { [`/lib/x86_64-linux-gnu/libselinux.so.1`]: f.libselinux } },
      'libpcre2-8-0': { depends: ['libc6'], files: { [`${LIB}/libpcre2-8.so.0`]: f.libpcre } },
    });
    const program = { package: 'mount', root: packageRoot('mount', { '/bin/mount': f.mount }), path: '/bin/mount' };
    const r = await resolvePackagedLibraries(program, [], source, [hostDir]);
    expect(source.unpacked).toEqual(['libmount1', 'libblkid1', 'libselinux1', 'libpcre2-8-0']);
    expect(r.packages).toEqual(['libmount1', 'libblkid1', 'libselinux1', 'libpcre2-8-0']);
    const paths = r.files.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining([`${LIB}/libmount.so.1`, `${LIB}/libblkid.so.1`, '/lib/x86_64-linux-gnu/libselinux.so.1', `${LIB}/libpcre2-8.so.0`, join(hostDir, 'libc.so.6')]));
    expect(r.files.find((x) => x.path === `${LIB}/libblkid.so.1`)?.source).toMatch(/libblkid1-\d+\/usr\/lib\//);
    expect(r.libraryDirs).toHaveLength(4);
  });

  it('uses a listed library package without asking for dependencies, and the host before any dependency', async () => {
    const source = fakeSource({ mount: { depends: ['libmount1', 'libselinux1'] } });
    const listed = [
      { package: 'libmount1', root: packageRoot('libmount1', { [`${LIB}/libmount.so.1`]: f.libmount }) },
      { package: 'libblkid1', root: packageRoot('libblkid1', { [`${LIB}/libblkid.so.1`]: f.libblkid }) },
    ];
    const hostWithSelinux = packageRoot('host2', { 'libc.so.6': f.libc, 'libselinux.so.1': f.libselinux, 'libpcre2-8.so.0': f.libpcre });
    const program = { package: 'mount', root: packageRoot('mount', { '/bin/mount': f.mount }), path: '/bin/mount' };
    const r = await resolvePackagedLibraries(program, listed, source, [hostWithSelinux]);
    expect(source.unpacked).toEqual([]);
    expect(r.packages).toEqual(['libmount1', 'libblkid1']);
    expect(r.files.find((x) => x.path.endsWith('libselinux.so.1'))?.path).toBe(join(hostWithSelinux, 'libselinux.so.1'));
  });

  it('names the library and the package when no dependency holds it, and never unpacks non-library packages', async () => {
    const source = fakeSource({ mount: { depends: ['adduser', 'python3', 'libmount1'] }, libmount1: { depends: [] } });
    const program = { package: 'mount', root: packageRoot('mount', { '/bin/mount': f.mount }), path: '/bin/mount' };
    await expect(resolvePackagedLibraries(program, [], source, [hostDir])).rejects.toThrow(/libmount\.so\.1 is in no package of mount's dependencies/);
    expect(source.unpacked).toEqual(['libmount1']);
  });

  it('resolveDebianProgram: a recorded resolution is used from the cache without apt', async () => {
    const debian = join(work, 'cache/debian');
    const place = (dir: string, content: Record<string, string>) => {
      for (const [path, src] of Object.entries(content)) {
        mkdirSync(dirname(join(debian, dir, 'root', path)), { recursive: true });
        copyFileSync(src, join(debian, dir, 'root', path));
      }
    };
    place('mount_2.38-1', { '/bin/mount': f.mount });
    place('libmount1_2.38-1', { [`${LIB}/libmount.so.1`]: f.libmount });
    place('libblkid1_2.38-1', { [`${LIB}/libblkid.so.1`]: f.libblkid });
    writeFileSync(join(debian, 'extra-packages.json'), JSON.stringify({ mount: '2.38-1', libmount1: '2.38-1', libblkid1: '2.38-1' }));
    writeFileSync(join(debian, 'library-packages.json'), JSON.stringify({ 'mount=2.38-1/bin/mount': ['libmount1', 'libblkid1'] }));
    process.env.PATH = '/nonexistent';
    const r = await resolveDebianProgram({ package: 'mount', path: '/bin/mount' }, { cacheDir: join(work, 'cache') });
    expect(r.executable).toBe(join(debian, 'mount_2.38-1/root/bin/mount'));
    expect(r.files.find((x) => x.path === `${LIB}/libblkid.so.1`)?.source).toBe(join(debian, 'libblkid1_2.38-1/root', LIB, 'libblkid.so.1'));
    expect(r.libraryDirs).toEqual([join(debian, 'libmount1_2.38-1/root', LIB), join(debian, 'libblkid1_2.38-1/root', LIB)]);
  });
});
