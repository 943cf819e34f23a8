import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as apt from './apt.js';
import { cacheRoot } from './cache.js';

/** An unpacked Debian kernel package. */
export interface KernelPackage {
  readonly package: string;
  readonly version: string;
  /** Kernel release, e.g. "6.1.0-56-amd64" (the lib/modules/ directory name). */
  readonly release: string;
  /** Path of the bzImage (boot/vmlinuz-<release>). */
  readonly vmlinuz: string;
  /** Path of lib/modules/<release>. */
  readonly modulesDir: string;
}

/** The unpacked busybox-static package. */
export interface BusyboxPackage {
  readonly package: string;
  readonly version: string;
  /** Path of the static busybox binary. */
  readonly binary: string;
  /** Applet paths relative to the root (bin/sh, sbin/modprobe, ...), from `busybox --list-full`. */
  readonly applets: readonly string[];
}

/** The Debian packages a guest image is built from. */
export interface GuestPackages {
  readonly kernel: KernelPackage;
  readonly busybox: BusyboxPackage;
}

/** Options of {@link fetchGuestPackages}. */
export interface FetchOptions {
  /** Cache directory (default {@link cacheRoot}). */
  readonly cacheDir?: string;
  /** Ask apt for newer versions even when a complete cache exists. */
  readonly refresh?: boolean;
  /** Log progress (downloads) to this function. */
  readonly log?: (line: string) => void;
}

const KERNEL_PATTERN = '^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$';
const RECORD = 'packages.json';

interface Record {
  kernel: { package: string; version: string };
  busybox: { package: string; version: string };
}

/**
 * Returns Debian's newest 6.1 kernel (linux-image-6.1.0-N-amd64-unsigned) and busybox-static,
 * downloaded with `apt-get download` and unpacked with `dpkg-deb -x` into the cache, keyed by
 * package and version. When the cache already holds the recorded versions, apt is not run at
 * all (offline and instant) unless `refresh` is set. Runs `apt-get update` when apt has no
 * package lists.
 * @throws Error when apt or dpkg-deb fails or no kernel package is available.
 */
export async function fetchGuestPackages(opts: FetchOptions = {}): Promise<GuestPackages> {
  const root = join(opts.cacheDir ?? cacheRoot(), 'debian');
  const recordPath = join(root, RECORD);
  if (!opts.refresh && existsSync(recordPath)) {
    const record = JSON.parse(readFileSync(recordPath, 'utf8')) as Record;
    const packages = fromCache(root, record);
    if (packages) return packages;
  }
  const log = opts.log ?? (() => {});
  let kernels = await apt.searchNames(KERNEL_PATTERN);
  if (kernels.length === 0) {
    log('apt has no package lists: apt-get update');
    await apt.update();
    kernels = await apt.searchNames(KERNEL_PATTERN);
  }
  const abi = (p: string): number => Number(/6\.1\.0-(\d+)-/.exec(p)?.[1] ?? -1);
  const kernel = kernels.sort((a, b) => abi(b) - abi(a))[0];
  if (!kernel) throw new Error('apt knows no linux-image-6.1.0-*-amd64-unsigned package (Debian 12 sources needed)');
  const record: Record = {
    kernel: { package: kernel, version: await versionOf(kernel) },
    busybox: { package: 'busybox-static', version: await versionOf('busybox-static') },
  };
  for (const p of [record.kernel, record.busybox]) await ensureUnpacked(root, p.package, p.version, log);
  const packages = fromCache(root, record);
  if (!packages) throw new Error(`unpacked packages in ${root} are incomplete`);
  writeFileSync(`${recordPath}.${process.pid}`, JSON.stringify(record, null, 2));
  renameSync(`${recordPath}.${process.pid}`, recordPath);
  return packages;
}

async function versionOf(pkg: string): Promise<string> {
  const v = await apt.candidateVersion(pkg);
  if (!v) throw new Error(`apt has no candidate version of ${pkg}`);
  return v;
}

/** Cache directory of one unpacked package version under `root` (debian/). */
export function unpackedDir(root: string, pkg: string, version: string): string {
  return join(root, `${pkg}_${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
}

/** Downloads and unpacks into a private directory, then renames it into place (atomic for concurrent builders). */
export async function ensureUnpacked(root: string, pkg: string, version: string, log: (line: string) => void): Promise<void> {
  const dir = unpackedDir(root, pkg, version);
  if (existsSync(dir)) return;
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    log(`downloading ${pkg} ${version}`);
    await apt.download(`${pkg}=${version}`, work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    await apt.unpack(join(work, deb), join(work, 'root'));
    rmSync(join(work, deb));
    if (pkg === 'busybox-static') {
      const list = execFileSync(join(work, 'root/bin/busybox'), ['--list-full'], { encoding: 'utf8' });
      writeFileSync(join(work, 'applets.txt'), list);
    }
    try {
      renameSync(work, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function fromCache(root: string, record: Record): GuestPackages | undefined {
  const kdir = unpackedDir(root, record.kernel.package, record.kernel.version);
  const bdir = unpackedDir(root, record.busybox.package, record.busybox.version);
  const release = /^linux-image-(.*)-unsigned$/.exec(record.kernel.package)?.[1];
  if (!release) return undefined;
  const kernel: KernelPackage = {
    ...record.kernel,
    release,
    vmlinuz: join(kdir, 'root/boot', `vmlinuz-${release}`),
    modulesDir: join(kdir, 'root/lib/modules', release),
  };
  const binary = join(bdir, 'root/bin/busybox');
  const appletsFile = join(bdir, 'applets.txt');
  if (![kernel.vmlinuz, kernel.modulesDir, binary, appletsFile].every((p) => existsSync(p))) return undefined;
  const applets = readFileSync(appletsFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  return { kernel, busybox: { ...record.busybox, binary, applets } };
}
