import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as apt from './apt.js';
import { cacheRoot } from './cache.js';
import { ensureUnpacked, unpackedDir, type FetchOptions } from './packages.js';

const RECORD = 'extra-packages.json';

/** An unpacked Debian package beside the kernel and busybox (util-linux, libblkid1, ...). */
export interface UnpackedPackage {
  readonly package: string;
  readonly version: string;
  /** Directory holding the package's files as they would be installed (usr/sbin/..., lib/...). */
  readonly root: string;
}

/**
 * Returns each package of `names` downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`)
 * into the same cache as the kernel, keyed by version. Versions are recorded in
 * `debian/extra-packages.json`: a package whose recorded version is unpacked is used without
 * running apt (offline), unless `refresh` is set.
 * @throws Error when apt has no candidate for a package or download/unpack fails.
 */
export async function fetchExtraPackages(names: readonly string[], opts: FetchOptions = {}): Promise<UnpackedPackage[]> {
  const root = join(opts.cacheDir ?? cacheRoot(), 'debian');
  const recordPath = join(root, RECORD);
  const record: Record<string, string> = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as Record<string, string>) : {};
  const result: UnpackedPackage[] = [];
  let changed = false;
  for (const name of names) {
    let version = opts.refresh ? undefined : record[name];
    if (version === undefined || !existsSync(join(unpackedDir(root, name, version), 'root'))) {
      version = await apt.candidateVersion(name);
      if (!version) {
        opts.log?.('apt has no candidate: apt-get update');
        await apt.update();
        version = await apt.candidateVersion(name);
      }
      if (!version) throw new Error(`apt has no candidate version of ${name}`);
      mkdirSync(root, { recursive: true });
      await ensureUnpacked(root, name, version, opts.log ?? (() => {}));
      record[name] = version;
      changed = true;
    }
    result.push({ package: name, version, root: join(unpackedDir(root, name, version), 'root') });
  }
  if (changed) {
    writeFileSync(`${recordPath}.${process.pid}`, JSON.stringify(record, null, 2));
    renameSync(`${recordPath}.${process.pid}`, recordPath);
  }
  return result;
}
