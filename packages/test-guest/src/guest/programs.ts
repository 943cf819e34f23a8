import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as apt from '../debian/apt.js';
import { cacheRoot } from '../debian/cache.js';
import { fetchExtraPackages } from '../debian/extra.js';
import type { FetchOptions } from '../debian/packages.js';
import type { ExtraFile } from './initramfs.js';
import { resolvePackagedLibraries, type PackageSource, type ResolvedFile } from './library-packages.js';

/** A program taken from a Debian package (not from the host), with the packages of its libraries. */
export interface DebianProgram {
  /** Package holding the program, e.g. "util-linux". */
  readonly package: string;
  /** Path inside the package and the guest, e.g. "/sbin/blkdiscard". */
  readonly path: string;
  /**
   * Packages searched first for its shared libraries (the host's library directories come
   * after). Libraries found in neither are fetched from the package's dependencies.
   */
  readonly libraryPackages?: readonly string[];
}

/** util-linux's blkdiscard (busybox's has no -z, i.e. BLKZEROOUT), used by the `blk` check. */
export const DEFAULT_DEBIAN_PROGRAMS: readonly DebianProgram[] = [
  { package: 'util-linux', path: '/sbin/blkdiscard', libraryPackages: ['libblkid1'] },
];

/**
 * The I/O benchmark's programs: fio (its libraries — librados2, librbd1, libglusterfs0,
 * libibverbs1, ... — are fetched from its dependencies) and iperf3 (libiperf0, libsctp1).
 * Only a bench guest carries them; the test guest does not.
 */
export const BENCH_DEBIAN_PROGRAMS: readonly DebianProgram[] = [
  { package: 'fio', path: '/usr/bin/fio' },
  { package: 'iperf3', path: '/usr/bin/iperf3' },
];

/** A Debian program resolved on this host: where its files are (see {@link resolveDebianProgram}). */
export interface ResolvedDebianProgram {
  /** Host path of the program inside its unpacked package. */
  readonly executable: string;
  /** The program and its interpreter and libraries: guest path and host source. */
  readonly files: readonly ResolvedFile[];
  /** Host directories of the libraries taken from packages: LD_LIBRARY_PATH to run `executable` on the host. */
  readonly libraryDirs: readonly string[];
}

const RECORD = 'library-packages.json';

/**
 * Fetches `program`'s package and its library packages (cached like the kernel) and resolves
 * its shared libraries ldd-style (see resolvePackagedLibraries): listed library packages
 * first, then the host, then the package's dependencies. The library packages a resolution
 * needed are recorded per program package version in `debian/library-packages.json`, so the
 * next call fetches them from the cache without asking apt.
 * @throws Error when a package cannot be fetched or a library is found nowhere.
 */
export async function resolveDebianProgram(program: DebianProgram, opts: FetchOptions = {}): Promise<ResolvedDebianProgram> {
  const recordPath = join(opts.cacheDir ?? cacheRoot(), 'debian', RECORD);
  const record: Record<string, string[]> = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as Record<string, string[]>) : {};
  const listed = program.libraryPackages ?? [];
  const [main, ...libs] = await fetchExtraPackages([program.package, ...listed], opts);
  const key = `${main.package}=${main.version}${program.path}`;
  const recorded = await fetchExtraPackages((record[key] ?? []).filter((p) => !listed.includes(p)), opts);
  const source: PackageSource = {
    depends: (pkg) => apt.depends(pkg),
    unpack: async (pkg) => (await fetchExtraPackages([pkg], opts))[0].root,
  };
  const resolved = await resolvePackagedLibraries({ ...main, path: program.path }, [...libs, ...recorded], source);
  const needed = resolved.packages.filter((p) => !listed.includes(p));
  if (JSON.stringify(needed) !== JSON.stringify(record[key] ?? [])) {
    const fresh = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as Record<string, string[]>) : {};
    fresh[key] = needed;
    mkdirSync(dirname(recordPath), { recursive: true });
    writeFileSync(`${recordPath}.${process.pid}`, JSON.stringify(fresh, null, 2));
    renameSync(`${recordPath}.${process.pid}`, recordPath);
  }
  const executable = join(main.root, program.path);
  return { executable, files: [{ path: program.path, source: executable }, ...resolved.files], libraryDirs: resolved.libraryDirs };
}

/**
 * The initramfs files of `programs`: each program from its unpacked Debian package (fetched and
 * cached like the kernel) and, ldd-style, the shared libraries it needs (see
 * {@link resolveDebianProgram}; same path in the guest as in the package, host files at their path).
 * @throws Error when a package cannot be fetched or a library is found nowhere.
 */
export async function debianProgramFiles(programs: readonly DebianProgram[], opts: FetchOptions = {}): Promise<ExtraFile[]> {
  const files = new Map<string, ExtraFile>();
  for (const program of programs) {
    for (const f of (await resolveDebianProgram(program, opts)).files) files.set(f.path, { path: f.path, source: f.source, mode: 0o755 });
  }
  return [...files.values()];
}
