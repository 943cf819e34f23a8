import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestGuest, type TestGuest } from '../guest/build.js';
import { parseVmmtest, type VmmtestReport } from '../guest/vmmtest.js';
import { runWhereKvmWorks } from '../run/where.js';
import type { RunResult } from '../run/types.js';

/** Size of the scratch virtio-blk image of a reference run, bytes. */
export const PROBE_DISK_BYTES = 16 << 20;

/**
 * QEMU arguments (after the executable) that boot the test guest with KVM and the four
 * reference virtio devices on PCI: virtio-blk on `disk` (raw), virtio-net (user networking,
 * needs no host set-up), virtio-console (a virtconsole port on a null chardev) and virtio-rng.
 */
export function qemuGuestArgs(guest: TestGuest, checks: readonly string[], disk: string): string[] {
  return [
    ...['-enable-kvm', '-cpu', 'host', '-m', '1G', '-smp', '1', '-nographic', '-no-reboot'],
    ...['-kernel', guest.kernel, '-initrd', guest.initrd, '-append', guest.cmdline(checks)],
    ...['-drive', `file=${disk.replace(/,/g, ',,')},format=raw,if=virtio`],
    ...['-nic', 'user,model=virtio-net-pci'],
    ...['-device', 'virtio-serial-pci', '-chardev', 'null,id=vcon0', '-device', 'virtconsole,chardev=vcon0'],
    ...['-device', 'virtio-rng-pci'],
  ];
}

/** Options of {@link qemuProbe}. */
export interface QemuProbeOptions {
  /** Checks to run (default ["boot", "probe"]). */
  readonly checks?: readonly string[];
  /** Bound of the whole run, ms (default 240 000). */
  readonly timeoutMs?: number;
  /** Run with the guest console on this terminal (for the `shell` check); no report is parsed. */
  readonly interactive?: boolean;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Result of {@link qemuProbe}: the run (mode, status, output) and the parsed VMMTEST report. */
export interface QemuProbeResult {
  readonly run: RunResult;
  readonly report: VmmtestReport;
  /** The qemu-system-x86_64 command that ran. */
  readonly argv: readonly string[];
}

/**
 * The known-good baseline: boots the test guest under `qemu-system-x86_64 -enable-kvm -cpu host`
 * (inside the nested rig where this host's KVM cannot run a stock kernel) with virtio-blk, net,
 * console and rng, runs the checks and returns the parsed `VMMTEST` results.
 * @throws Error only when the test guest cannot be built; run failures are in `run`.
 */
export async function qemuProbe(opts: QemuProbeOptions = {}): Promise<QemuProbeResult> {
  const guest = await buildTestGuest({ cacheDir: opts.cacheDir, log: opts.log });
  const dir = mkdtempSync(join(tmpdir(), 'virtio-qemu-probe-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, new Uint8Array(PROBE_DISK_BYTES));
    const argv = ['qemu-system-x86_64', ...qemuGuestArgs(guest, opts.checks ?? ['boot', 'probe'], disk)];
    const run = await runWhereKvmWorks(argv, {
      timeoutMs: opts.timeoutMs ?? 240_000,
      interactive: opts.interactive,
      writableDirs: [dir],
      cacheDir: opts.cacheDir,
    });
    return { run, report: parseVmmtest(run.stdout), argv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
