import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_CHECKS } from '../checks/index.js';
import { NET_DEFAULTS } from '../checks/net.js';
import { buildTestGuest, type TestGuest } from '../guest/build.js';
import { parseVmmtest, type VmmtestReport } from '../guest/vmmtest.js';
import { runWhereKvmWorks } from '../run/where.js';
import type { RunResult } from '../run/types.js';
import { blkImageFacts, type BlkImageFacts } from '../verify/blk.js';
import { PEER_PLACEHOLDERS, peerScript, type PeerConfig, type PeerRecord } from './peer.js';

/** Size of the writable disk of a {@link qemuRun}, bytes. */
export const RUN_DISK_BYTES = 16 << 20;
/** Size of the read-only disk of a {@link qemuRun}, bytes. */
export const RUN_RO_DISK_BYTES = 1 << 20;

/**
 * QEMU arguments (after the executable) for the device checks: KVM, virtio-blk on `disk`
 * (discard=unmap) and read-only on `roDisk`, virtio-net on user networking (the guest's
 * 10.0.2.2 is the host's 127.0.0.1), a virtconsole on a Unix socket chardev the peer listens on,
 * virtio-rng. The command line carries {@link PEER_PLACEHOLDERS} for the net ports and socket.
 */
export function qemuCheckArgs(guest: TestGuest, checks: readonly string[], disk: string, roDisk: string, netBytes: number): string[] {
  const params = `vmmtest.net_up=${PEER_PLACEHOLDERS.up} vmmtest.net_down=${PEER_PLACEHOLDERS.down} vmmtest.net_bytes=${netBytes}`;
  const file = (p: string): string => p.replace(/,/g, ',,');
  return [
    ...['-enable-kvm', '-cpu', 'host', '-m', '1G', '-smp', '1', '-nographic', '-no-reboot'],
    ...['-kernel', guest.kernel, '-initrd', guest.initrd, '-append', `${guest.cmdline(checks)} ${params}`],
    ...['-drive', `file=${file(disk)},format=raw,if=virtio,discard=unmap`],
    ...['-drive', `file=${file(roDisk)},format=raw,if=virtio,readonly=on`],
    ...['-nic', 'user,model=virtio-net-pci'],
    ...['-device', 'virtio-serial-pci', '-chardev', `socket,id=vcon0,path=${PEER_PLACEHOLDERS.console}`, '-device', 'virtconsole,chardev=vcon0'],
    ...['-device', 'virtio-rng-pci'],
  ];
}

/** Options of {@link qemuRun}. */
export interface QemuRunOptions {
  /** Checks to run, in order (default {@link DEVICE_CHECKS}). */
  readonly checks?: readonly string[];
  /** Bytes of each `net` stream (default NET_DEFAULTS.bytes); a multiple of 65536. */
  readonly netBytes?: number;
  /** Bound of the whole run, ms (default 300 000). */
  readonly timeoutMs?: number;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Result of {@link qemuRun}. */
export interface QemuRunResult {
  readonly run: RunResult;
  readonly report: VmmtestReport;
  /** The host side's record (streams, console lines, QEMU's exit); undefined when the peer never finished. */
  readonly peer?: PeerRecord;
  /** The writable disk image read back after the run; undefined without a `blk` result. */
  readonly blkImage?: BlkImageFacts;
  /** The QEMU command (with placeholders) the peer ran. */
  readonly argv: readonly string[];
}

/**
 * Runs the device checks against QEMU's devices in one boot, where KVM works (inside the
 * nested rig here): a Node peer (see peerScript) serves the `net` streams and the `console`
 * replies and runs QEMU; afterwards the disk image is read back for the `blk` result.
 * @throws Error only when the test guest cannot be built; run failures are in `run`.
 */
export async function qemuRun(opts: QemuRunOptions = {}): Promise<QemuRunResult> {
  const checks = opts.checks ?? DEVICE_CHECKS;
  const netBytes = opts.netBytes ?? NET_DEFAULTS.bytes;
  if (!Number.isSafeInteger(netBytes) || netBytes <= 0 || netBytes % 65536 !== 0) throw new Error(`qemuRun: netBytes ${netBytes} is not a positive multiple of 65536`);
  const guest = await buildTestGuest({ cacheDir: opts.cacheDir, log: opts.log });
  const dir = mkdtempSync(join(tmpdir(), 'virtio-qemu-run-'));
  try {
    const disk = join(dir, 'disk.img');
    const roDisk = join(dir, 'ro.img');
    writeFileSync(disk, new Uint8Array(RUN_DISK_BYTES));
    writeFileSync(roDisk, new Uint8Array(RUN_RO_DISK_BYTES));
    const argv = ['qemu-system-x86_64', ...qemuCheckArgs(guest, checks, disk, roDisk, netBytes)];
    const config: PeerConfig = { command: argv, bytes: netBytes, out: join(dir, 'peer.json') };
    writeFileSync(join(dir, 'peer.json.in'), JSON.stringify(config));
    writeFileSync(join(dir, 'peer.mjs'), peerScript());
    const run = await runWhereKvmWorks(['node', join(dir, 'peer.mjs'), join(dir, 'peer.json.in')], {
      timeoutMs: opts.timeoutMs ?? 300_000,
      writableDirs: [dir],
      cacheDir: opts.cacheDir,
    });
    const report = parseVmmtest(run.stdout);
    const peer = existsSync(config.out) ? (JSON.parse(readFileSync(config.out, 'utf8')) as PeerRecord) : undefined;
    const blk = report.results.find((r) => r.check === 'blk');
    const blkImage = blk && typeof blk.data_sector === 'number' ? blkImageFacts(disk, blk) : undefined;
    return { run, report, peer, blkImage, argv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
