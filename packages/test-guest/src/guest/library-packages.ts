import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readDynamicInfo } from '../elf/elf.js';
import { DEFAULT_LIBRARY_DIRS } from '../libs/ldd.js';

/** An unpacked package: its name and the directory holding its files (usr/lib/..., lib/...). */
export interface PackageRoot {
  readonly package: string;
  readonly root: string;
}

/** Where library resolution gets packages from: apt and the package cache (fakes in tests). */
export interface PackageSource {
  /** Direct dependencies of `pkg` (Depends, every alternative), in apt's order. */
  depends(pkg: string): Promise<readonly string[]>;
  /** The directory holding `pkg`'s files, downloaded and unpacked when needed. */
  unpack(pkg: string): Promise<string>;
}

/** A file the guest needs: its guest path and the host file it is copied from. */
export interface ResolvedFile {
  readonly path: string;
  readonly source: string;
}

/** Result of {@link resolvePackagedLibraries}. */
export interface ResolvedLibraries {
  /** The interpreter and every shared library, transitively, in load order. */
  readonly files: readonly ResolvedFile[];
  /** Library packages (not the program's own) that supplied at least one file, in order. */
  readonly packages: readonly string[];
  /** Host directories holding the package-supplied libraries (for LD_LIBRARY_PATH on the host). */
  readonly libraryDirs: readonly string[];
}

/**
 * The package name Debian's library packaging policy gives a soname: `libfoo.so.1` →
 * `libfoo1`, `libfoo2.so.0` → `libfoo2-0`, `libboost_thread.so.1.74.0` →
 * `libboost-thread1.74.0` (lower case, `_` as `-`). Undefined for a name without `.so.`.
 */
export function policyPackageName(soname: string): string | undefined {
  const m = /^(.+)\.so\.(.+)$/.exec(soname);
  if (!m) return undefined;
  const stem = m[1].toLowerCase().replace(/_/g, '-');
  return /\d$/.test(stem) ? `${stem}-${m[2]}` : `${stem}${m[2]}`;
}

/**
 * The order in which to look for `soname` among `candidates` (a package's dependencies): the
 * policy name first, then packages whose name starts with the soname's stem, then the other
 * `lib*` packages; packages that are not libraries are never candidates.
 */
export function candidateOrder(soname: string, candidates: readonly string[]): string[] {
  const policy = policyPackageName(soname);
  const stem = soname.replace(/\.so(\..*)?$/, '').toLowerCase().replace(/_/g, '-');
  const rank = (p: string): number => (p === policy ? 0 : p.startsWith(stem) ? 1 : p.startsWith('lib') || p.startsWith(stem.replace(/^lib/, '')) ? 2 : 3);
  return candidates
    .map((p, i) => ({ p, i, r: rank(p) }))
    .filter((c) => c.r < 3)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((c) => c.p);
}

/**
 * Like `ldd` for a program from an unpacked Debian package: the interpreter (the host's) and
 * every shared library the program needs, transitively, looked up through DT_RUNPATH/DT_RPATH
 * ($ORIGIN expanded; absolute directories inside each package first), then each package
 * root's library directories, then the host's. A soname found nowhere is looked for in the
 * dependencies of the package holding the file that needs it (Debian's shlibs put the
 * library's package there): candidates in {@link candidateOrder}, each unpacked through
 * `source` until one holds it. Guest paths are the paths inside the package (the host path for
 * host files).
 * @throws Error naming a library no package and no host directory holds; ElfError for a malformed file.
 */
export async function resolvePackagedLibraries(
  program: PackageRoot & { readonly path: string },
  libraryPackages: readonly PackageRoot[],
  source: PackageSource,
  hostDirs: readonly string[] = DEFAULT_LIBRARY_DIRS,
): Promise<ResolvedLibraries> {
  const roots: PackageRoot[] = [program, ...libraryPackages];
  const tried = new Set(roots.map((r) => r.package));
  const found = new Map<string, string>();
  const files: ResolvedFile[] = [];
  const ownerOf = (file: string): PackageRoot | undefined => roots.find((r) => file.startsWith(`${r.root}/`));
  const locate = (soname: string, file: string, runpath: readonly string[]): string | undefined => {
    if (soname.includes('/')) return existsSync(soname) ? soname : undefined;
    const dirs: string[] = [];
    for (const d of runpath.map((p) => p.replace(/\$\{?ORIGIN\}?/g, dirname(file)))) {
      if (!d.startsWith('/')) continue;
      if (!roots.some((r) => d.startsWith(`${r.root}/`))) dirs.push(...roots.map((r) => join(r.root, d)));
      dirs.push(d);
    }
    for (const r of roots) dirs.push(...DEFAULT_LIBRARY_DIRS.map((d) => join(r.root, d)));
    dirs.push(...hostDirs);
    return dirs.map((d) => join(d, soname)).find((p) => existsSync(p));
  };
  const visit = async (file: string): Promise<void> => {
    const info = readDynamicInfo(readFileSync(file));
    if (info.interpreter && !found.has(basename(info.interpreter))) {
      if (!existsSync(info.interpreter)) throw new Error(`${file}: interpreter ${info.interpreter} not found`);
      files.push({ path: info.interpreter, source: info.interpreter });
      // The loaded interpreter satisfies a DT_NEEDED of its soname (libc needs ld-linux).
      found.set(basename(info.interpreter), info.interpreter);
    }
    for (const soname of info.needed) {
      if (found.has(soname)) continue;
      let path = locate(soname, file, info.runpath);
      const owner = ownerOf(file);
      if (!path && owner) {
        for (const candidate of candidateOrder(soname, (await source.depends(owner.package)).filter((p) => !tried.has(p)))) {
          tried.add(candidate);
          roots.push({ package: candidate, root: await source.unpack(candidate) });
          path = locate(soname, file, info.runpath);
          if (path) break;
        }
      }
      if (!path) throw new Error(`${file}: shared library ${soname} is in no package of ${owner?.package ?? 'the host'}'s dependencies and not on the host`);
      found.set(soname, path);
      const root = ownerOf(path);
      files.push({ path: root ? path.slice(root.root.length) : path, source: path });
      await visit(path);
    }
  };
  await visit(join(program.root, program.path));
  const supplying = roots.slice(1).filter((r) => files.some((f) => f.source.startsWith(`${r.root}/`)));
  return {
    files,
    packages: supplying.map((r) => r.package),
    libraryDirs: [...new Set(files.filter((f) => f.source !== f.path).map((f) => dirname(f.source)))],
  };
}
