import { readFileSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CpioWriter } from '../cpio/writer.js';
import type { GuestPackages } from '../debian/packages.js';
import { sharedLibraries } from '../libs/ldd.js';
import { modulesDep, resolveModules, type ModuleResolution } from '../modules/resolve.js';
import { ModuleTree } from '../modules/tree.js';

/** A file to put into the initramfs: from a host file (`source`) or literal `data`. */
export interface ExtraFile {
  /** Absolute path inside the guest, e.g. "/etc/motd". */
  readonly path: string;
  /** Host file to copy (symlinks followed). */
  readonly source?: string;
  /** Literal content (used when `source` is absent). */
  readonly data?: string | Uint8Array;
  /** Permission bits (default 0o755 for `source` files, 0o644 for `data`). */
  readonly mode?: number;
}

/** What an initramfs is built from. */
export interface InitramfsSpec {
  readonly packages: GuestPackages;
  /** Modules to include and load at boot; dependencies are added from their modinfo. */
  readonly modules: readonly string[];
  /** The /init script (busybox sh). It loads the modules listed in {@link MODULE_LIST}. */
  readonly init: string;
  readonly extraFiles?: readonly ExtraFile[];
  /** Host programs (static or dynamic) copied to the same path, with the shared libraries they need. */
  readonly programs?: readonly string[];
}

/** Guest path of the file listing module paths (relative to /lib/modules/$(uname -r)) in load order. */
export const MODULE_LIST = '/etc/vmmtest/modules';

/** The built image: gzip-compressed newc cpio, and what went into it. */
export interface BuiltInitramfs {
  readonly image: Uint8Array;
  readonly modules: ModuleResolution;
}

/**
 * Writes a gzip-compressed newc initramfs: busybox-static with its applet links, the kernel
 * modules with their dependencies and a generated modules.dep, {@link MODULE_LIST}, the extra
 * files and programs (with their shared libraries), /dev/console and `spec.init` as /init.
 * @throws Error for a missing module, program, library or extra file.
 */
export function buildInitramfs(spec: InitramfsSpec): BuiltInitramfs {
  const { kernel, busybox } = spec.packages;
  const tree = new ModuleTree(kernel.modulesDir);
  const modules = resolveModules(spec.modules, tree.lookup);
  const files = new Map<string, { data: Uint8Array | string; mode: number } | { link: string }>();
  const dirs = new Set<string>(['dev', 'proc', 'sys', 'tmp', 'run', 'root', 'mnt', 'etc', 'bin', 'sbin', 'usr/bin', 'usr/sbin']);
  const add = (path: string, entry: { data: Uint8Array | string; mode: number } | { link: string }): void => {
    const rel = posix.normalize(path).replace(/^\/+/, '');
    for (let d = dirname(rel); d !== '.' && d !== '/'; d = dirname(d)) dirs.add(d);
    files.set(rel, entry);
  };
  add('/bin/busybox', { data: readFileSync(busybox.binary), mode: 0o755 });
  for (const applet of busybox.applets) {
    const rel = applet.replace(/^\/+/, '');
    if (rel === 'bin/busybox') continue;
    add(rel, { link: posix.relative(dirname(rel), 'bin/busybox') || 'busybox' });
  }
  const modDir = `lib/modules/${kernel.release}`;
  for (const m of modules.order) add(`${modDir}/${m.path}`, { data: tree.read(m.name), mode: 0o644 });
  add(`${modDir}/modules.dep`, { data: modulesDep(modules), mode: 0o644 });
  add(MODULE_LIST, { data: modules.order.map((m) => `${m.path}\n`).join(''), mode: 0o644 });
  for (const program of spec.programs ?? []) {
    for (const file of [program, ...sharedLibraries(program)]) add(file, { data: readFileSync(file), mode: 0o755 });
  }
  for (const f of spec.extraFiles ?? []) {
    if (!posix.isAbsolute(f.path)) throw new Error(`extra file path must be absolute: ${f.path}`);
    if (f.source !== undefined) add(f.path, { data: readFileSync(f.source), mode: f.mode ?? 0o755 });
    else add(f.path, { data: f.data ?? '', mode: f.mode ?? 0o644 });
  }
  add('/init', { data: spec.init, mode: 0o755 });

  const cpio = new CpioWriter();
  for (const d of [...dirs].sort()) cpio.directory(d, d === 'tmp' ? 0o1777 : 0o755);
  cpio.charDevice('dev/console', 5, 1, 0o600);
  for (const [path, entry] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if ('link' in entry) cpio.symlink(path, entry.link);
    else cpio.file(path, entry.data, entry.mode);
  }
  return { image: gzipSync(cpio.finish(), { level: 6 }), modules };
}
