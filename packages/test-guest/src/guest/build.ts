import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinChecks } from '../checks/index.js';
import type { CheckDefinition } from '../checks/check.js';
import { cacheRoot } from '../debian/cache.js';
import { fetchGuestPackages, type GuestPackages } from '../debian/packages.js';
import { sharedLibraries } from '../libs/ldd.js';
import { testGuestInit } from './init.js';
import { buildInitramfs, type ExtraFile } from './initramfs.js';
import { DEFAULT_DEBIAN_PROGRAMS, debianProgramFiles, type DebianProgram } from './programs.js';

/**
 * Modules the test guest loads by default: both virtio transports, the common devices, ext4
 * with crc32c (the `blk` check's filesystem), and the drivers of the `scsi` (with sd), `vsock`,
 * `balloon`, `input` (with evdev), `crypto` (with AF_ALG skcipher) and `pmem` (with nd_pmem) checks.
 */
export const DEFAULT_GUEST_MODULES: readonly string[] = [
  'virtio',
  'virtio_ring',
  'virtio_pci',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_mmio',
  'virtio_blk',
  'virtio_net',
  'virtio_console',
  'virtio-rng',
  'rng-core',
  'ext4',
  'crc32c_generic',
  'virtio_scsi',
  'sd_mod',
  'vmw_vsock_virtio_transport',
  'virtio_balloon',
  'evdev',
  'virtio_input',
  'virtio_crypto',
  'algif_skcipher',
  'virtio_pmem',
  'nd_pmem',
];

/** Options of {@link buildTestGuest}. */
export interface TestGuestOptions {
  /** Modules to load (dependencies added); default {@link DEFAULT_GUEST_MODULES}. */
  readonly modules?: readonly string[];
  /** Extra files in the initramfs. */
  readonly extraFiles?: readonly ExtraFile[];
  /** Host programs copied in with their shared libraries (e.g. /usr/bin/fio). */
  readonly programs?: readonly string[];
  /** Programs from Debian packages (fetched and cached like the kernel); default {@link DEFAULT_DEBIAN_PROGRAMS}. */
  readonly debianPrograms?: readonly DebianProgram[];
  /** Checks added to the built-in boot, probe and shell (same name replaces a built-in). */
  readonly checks?: readonly CheckDefinition[];
  /** Cache directory (default `${XDG_CACHE_HOME:-~/.cache}/virtio-ts`). */
  readonly cacheDir?: string;
  /** Ask apt for newer packages even when the cache is complete. */
  readonly refresh?: boolean;
  /** Progress lines (downloads, builds). */
  readonly log?: (line: string) => void;
}

/** A built test guest: cached files and the command line that selects its checks. */
export interface TestGuest {
  /** Path of the kernel bzImage (Debian linux-image-6.1.0-N-amd64-unsigned). */
  readonly kernel: string;
  /** Path of the gzip-compressed newc initramfs. */
  readonly initrd: string;
  /** Kernel release, e.g. "6.1.0-56-amd64". */
  readonly release: string;
  /** Names of the checks the guest carries. */
  readonly checks: readonly string[];
  /**
   * Kernel command line: serial console on ttyS0, quiet, reboot (i.e. exit with -no-reboot)
   * on panic, and `vmmtest=<checks>`.
   */
  cmdline(checks: readonly string[]): string;
}

/** Kernel command line of a test guest run of `checks` (console=ttyS0). */
export function testGuestCmdline(checks: readonly string[]): string {
  return `console=ttyS0 quiet panic=-1 vmmtest=${checks.join(',')}`;
}

/**
 * Builds (or finds in the cache) the test guest: Debian's 6.1 kernel and an initramfs of
 * busybox-static, the modules, the Debian programs (util-linux's blkdiscard) and /init running the checks named on the command line
 * (`VMMTEST {json}` lines on the console, then poweroff). The initramfs is cached under a
 * hash of everything it is made of, so a second call returns at once without apt.
 * @throws Error when packages cannot be fetched or a module/file/program is missing.
 */
export async function buildTestGuest(opts: TestGuestOptions = {}): Promise<TestGuest> {
  const packages = await fetchGuestPackages(opts);
  const programFiles = await debianProgramFiles(opts.debianPrograms ?? DEFAULT_DEBIAN_PROGRAMS, opts);
  const byName = new Map<string, CheckDefinition>();
  for (const c of [...builtinChecks, ...(opts.checks ?? [])]) byName.set(c.name, c);
  const checks = [...byName.values()];
  const initrd = cachedInitramfs(packages, {
    modules: opts.modules ?? DEFAULT_GUEST_MODULES,
    init: testGuestInit(checks),
    extraFiles: [...programFiles, ...(opts.extraFiles ?? [])],
    programs: opts.programs,
    cacheDir: opts.cacheDir,
    log: opts.log,
  });
  return {
    kernel: packages.kernel.vmlinuz,
    initrd,
    release: packages.kernel.release,
    checks: checks.map((c) => c.name),
    cmdline: testGuestCmdline,
  };
}

/** Inputs of {@link cachedInitramfs}. */
export interface CachedInitramfsSpec {
  readonly modules: readonly string[];
  readonly init: string;
  readonly extraFiles?: readonly ExtraFile[];
  readonly programs?: readonly string[];
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/**
 * Returns the path of an initramfs for `spec`, building it only when no image with the same
 * inputs (package versions, modules, /init, file and program contents) is cached.
 */
export function cachedInitramfs(packages: GuestPackages, spec: CachedInitramfsSpec): string {
  const hash = createHash('sha256');
  const feed = (s: string | Uint8Array): void => {
    hash.update(typeof s === 'string' ? s : Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    hash.update('\0');
  };
  feed('initramfs-v1');
  for (const s of [packages.kernel.package, packages.kernel.version, packages.busybox.version, ...spec.modules, spec.init]) feed(s);
  for (const f of spec.extraFiles ?? []) {
    feed(f.path);
    feed(String(f.mode ?? ''));
    feed(f.source !== undefined ? readFileSync(f.source) : (f.data ?? ''));
  }
  for (const p of spec.programs ?? []) for (const file of [p, ...sharedLibraries(p)]) feed(readFileSync(file));
  const dir = join(spec.cacheDir ?? cacheRoot(), 'initramfs');
  const path = join(dir, `initrd-${packages.kernel.release}-${hash.digest('hex').slice(0, 16)}.cpio.gz`);
  if (existsSync(path)) return path;
  spec.log?.(`building ${path}`);
  const { image } = buildInitramfs({ packages, ...spec });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${path}.${process.pid}`, image);
  renameSync(`${path}.${process.pid}`, path);
  return path;
}
