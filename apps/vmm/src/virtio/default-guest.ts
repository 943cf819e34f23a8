/**
 * The default guest of `virtio-vmm run` with no arguments: the test guest with a disk (an ext4
 * image made once in the cache directory), a network card on a TAP device when the host
 * allows one, the virtio console as its shell (hvc0) and an entropy device.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, ftruncateSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CheckDefinition } from '@virtio/test-guest';

/** Size of the default disk image, bytes. */
export const DEFAULT_DISK_BYTES = 256 * 2 ** 20;
/** The TAP device the default guest asks for (`optional`: skipped with a note where not permitted). */
export const DEFAULT_NET = 'tap=vmmtap0,optional';

/** Where the default disk lives: `$VIRTIO_TS_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/virtio-ts`, under vmm/. */
export function defaultDiskDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.VIRTIO_TS_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virtio-ts');
  return join(root, 'vmm');
}

/**
 * Makes the default disk at first use: a sparse raw image formatted with the host's
 * mkfs.ext4 when it has one (e2fsprogs), else left empty for the guest to format.
 * Returns its path and a note for the user when it was just created.
 */
export function ensureDefaultDisk(dir = defaultDiskDir()): { path: string; note?: string } {
  const path = join(dir, 'disk.img');
  if (existsSync(path)) return { path };
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  ftruncateSync(fd, DEFAULT_DISK_BYTES);
  closeSync(fd);
  const mkfs = spawnSync('mkfs.ext4', ['-F', '-q', '-L', 'vmmdisk', tmp], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/sbin:/usr/sbin` } });
  spawnSync('mv', ['-f', tmp, path]);
  return mkfs.status === 0
    ? { path, note: `made the default disk ${path} (ext4, ${DEFAULT_DISK_BYTES >> 20} MiB): mount /dev/vda in the guest` }
    : { path, note: `made the default disk ${path} (empty, ${DEFAULT_DISK_BYTES >> 20} MiB; no mkfs.ext4 here): format it in the guest with mke2fs /dev/vda` };
}

/**
 * An interactive busybox shell on the virtio console: /init waits for hvc0 (virtio_console is a
 * module, loaded by /init after the kernel chose /dev/console) and gives it a controlling tty.
 * `setsid -c` makes hvc0 (stdin) the controlling tty; cttyhack would not: hvc0 answers no
 * TIOCGSERIAL, so cttyhack falls back to the kernel console (ttyS0) and the shell read COM1.
 */
export const hvcShellCheck: CheckDefinition = {
  name: 'hvcshell',
  description: 'an interactive busybox shell on hvc0; exit to power off',
  shell: String.raw`i=0; while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /dev/hvc0 ] || { vmmtest_result false '"error":"no /dev/hvc0"'; return; }
echo "virtio-vmm default guest: shell on hvc0 (virtio console). /dev/vda is the disk; type exit to power off" > /dev/hvc0
setsid -c sh </dev/hvc0 >/dev/hvc0 2>&1
vmmtest_result true "\"status\":$?"`,
};
