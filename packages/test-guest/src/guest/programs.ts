import { join } from 'node:path';
import { fetchExtraPackages } from '../debian/extra.js';
import type { FetchOptions } from '../debian/packages.js';
import { DEFAULT_LIBRARY_DIRS, sharedLibraries } from '../libs/ldd.js';
import type { ExtraFile } from './initramfs.js';

/** A program taken from a Debian package (not from the host), with the packages of its libraries. */
export interface DebianProgram {
  /** Package holding the program, e.g. "util-linux". */
  readonly package: string;
  /** Path inside the package and the guest, e.g. "/sbin/blkdiscard". */
  readonly path: string;
  /** Packages searched first for its shared libraries (the host's library directories come after). */
  readonly libraryPackages?: readonly string[];
}

/** util-linux's blkdiscard (busybox's has no -z, i.e. BLKZEROOUT), used by the `blk` check. */
export const DEFAULT_DEBIAN_PROGRAMS: readonly DebianProgram[] = [
  { package: 'util-linux', path: '/sbin/blkdiscard', libraryPackages: ['libblkid1'] },
];

/**
 * The initramfs files of `programs`: each program from its unpacked Debian package (fetched and
 * cached like the kernel) and, ldd-style, the shared libraries it needs — from its library
 * packages when they hold them (same path in the guest as in the package), else the host's.
 * @throws Error when a package cannot be fetched or a library is found nowhere.
 */
export async function debianProgramFiles(programs: readonly DebianProgram[], opts: FetchOptions = {}): Promise<ExtraFile[]> {
  const files = new Map<string, ExtraFile>();
  for (const program of programs) {
    const [main, ...libs] = await fetchExtraPackages([program.package, ...(program.libraryPackages ?? [])], opts);
    const source = join(main.root, program.path);
    files.set(program.path, { path: program.path, source, mode: 0o755 });
    const roots = libs.map((l) => l.root);
    const searchDirs = [...roots.flatMap((r) => DEFAULT_LIBRARY_DIRS.map((d) => join(r, d))), ...DEFAULT_LIBRARY_DIRS];
    for (const lib of sharedLibraries(source, searchDirs)) {
      const root = roots.find((r) => lib.startsWith(`${r}/`));
      const path = root ? lib.slice(root.length) : lib;
      files.set(path, { path, source: lib, mode: 0o755 });
    }
  }
  return [...files.values()];
}
