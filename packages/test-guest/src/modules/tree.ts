import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleName, readModinfo } from './modinfo.js';
import type { ModuleLookup } from './resolve.js';

const MODULE_FILE = /^(.*)\.ko(\.xz)?$/;

/**
 * The modules of one unpacked kernel (lib/modules/<release>/ of a linux-image package):
 * finds modules by name, reads their modinfo and returns their uncompressed bytes.
 * Debian 12 ships plain .ko files; .ko.xz (newer kernels) is decompressed with `xz -dc`.
 */
export class ModuleTree {
  readonly #dir: string;
  readonly #files = new Map<string, string>();
  readonly #builtin = new Set<string>();

  /** @param dir the lib/modules/<release> directory. @throws Error if it has no kernel/ tree. */
  constructor(dir: string) {
    this.#dir = dir;
    const walk = (rel: string): void => {
      for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
        const path = `${rel}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else {
          const m = MODULE_FILE.exec(entry.name);
          if (m) this.#files.set(moduleName(m[1]), path);
        }
      }
    };
    walk('kernel');
    let builtin = '';
    try {
      builtin = readFileSync(join(dir, 'modules.builtin'), 'utf8');
    } catch {
      // A kernel without built-in modules has no modules.builtin.
    }
    for (const line of builtin.split('\n')) {
      const m = /([^/]+)\.ko$/.exec(line.trim());
      if (m) this.#builtin.add(moduleName(m[1]));
    }
  }

  /** Whether a module (or built-in) of that name exists. */
  has(name: string): boolean {
    const n = moduleName(name);
    return this.#files.has(n) || this.#builtin.has(n);
  }

  /** The module's uncompressed .ko bytes. @throws Error if there is no such module file. */
  read(name: string): Uint8Array {
    const path = this.#files.get(moduleName(name));
    if (!path) throw new Error(`no module file for ${name}`);
    const full = join(this.#dir, path);
    return path.endsWith('.xz') ? execFileSync('xz', ['-dc', full], { maxBuffer: 1 << 30 }) : readFileSync(full);
  }

  /** A lookup for {@link resolveModules}; paths are reported without a compression suffix. */
  lookup = (name: string): ModuleLookup => {
    const n = moduleName(name);
    const path = this.#files.get(n);
    if (path) return { kind: 'module', path: path.replace(/\.xz$/, ''), depends: readModinfo(this.read(n), n).depends };
    return this.#builtin.has(n) ? { kind: 'builtin' } : undefined;
  };
}
