import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readDynamicInfo } from '../elf/elf.js';

/** The dynamic loader's default search directories on Debian x86-64 (after RUNPATH). */
export const DEFAULT_LIBRARY_DIRS: readonly string[] = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
];

/**
 * Like `ldd`: the host paths of the program interpreter and every shared library `program`
 * needs, transitively, found from the ELF DT_NEEDED entries through DT_RUNPATH/DT_RPATH
 * ($ORIGIN expanded) and then `searchDirs`. A static program needs nothing ([]).
 * @throws Error naming a library that is found nowhere; ElfError for a malformed file.
 */
export function sharedLibraries(program: string, searchDirs: readonly string[] = DEFAULT_LIBRARY_DIRS): string[] {
  const found = new Map<string, string>();
  const result: string[] = [];
  const visit = (file: string): void => {
    const info = readDynamicInfo(readFileSync(file));
    if (info.interpreter && !result.includes(info.interpreter)) {
      if (!existsSync(info.interpreter)) throw new Error(`${file}: interpreter ${info.interpreter} not found`);
      result.push(info.interpreter);
      // The loaded interpreter satisfies a DT_NEEDED of its soname (libc needs ld-linux).
      found.set(basename(info.interpreter), info.interpreter);
    }
    const origin = dirname(file);
    const dirs = [...info.runpath.map((d) => d.replace(/\$\{?ORIGIN\}?/g, origin)), ...searchDirs];
    for (const soname of info.needed) {
      if (found.has(soname)) continue;
      const path = soname.includes('/') ? soname : dirs.map((d) => join(d, soname)).find((p) => existsSync(p));
      if (!path || !existsSync(path)) throw new Error(`${file}: shared library ${soname} not found in ${dirs.join(':')}`);
      found.set(soname, path);
      result.push(path);
      visit(path);
    }
  };
  visit(program);
  return result;
}
