import { fileURLToPath } from 'node:url';
import { KvmError } from '@virtio/kvm';
import { MIN_MEMORY, parseMemorySize } from '../boot/layout.js';
import { BootImageError } from '../boot/setup-header.js';
import { MemoryTooSmallError } from '../boot/loader.js';
import { Machine, MAX_CPUS } from '../machine/machine.js';
import { attachConsole } from './console.js';
import { CliError, readInput, readKernel } from './load-files.js';

/** Options of `virtio-vmm run` as commander parses them. */
export interface RunOptions {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  memory: string;
  cpus: string;
  direct?: boolean;
  stats?: boolean;
}

/** The guest's check run when `run` boots the test guest with no kernel given. */
export const DEFAULT_GUEST_CHECKS = ['shell'];
/** Bound on a rig re-run of an interactive session (ms). */
const RIG_SESSION_MS = 24 * 3600 * 1000;
const BIN = fileURLToPath(new URL('../../bin/virtio-vmm.mjs', import.meta.url));

function log(line: string): void {
  process.stderr.write(`virtio-vmm: ${line}\n`);
}

/** Parses --cpus. @throws CliError unless 1..MAX_CPUS. */
export function parseCpus(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_CPUS) throw new CliError(`invalid --cpus "${text}" (expected 1-${MAX_CPUS})`);
  return n;
}

/**
 * `virtio-vmm run`: validates the inputs (files, bzImage, memory, vCPUs) first, then boots
 * on this host's KVM, or — when this host's KVM cannot run a stock kernel and --direct is
 * not given — says so in one line and re-runs the same command inside the nested KVM rig.
 * Without --kernel it boots the test guest (built and cached by @virtio/test-guest) to an
 * interactive busybox shell. Returns the exit status.
 */
export async function runCommand(opts: RunOptions): Promise<number> {
  let memory: number;
  try {
    memory = parseMemorySize(opts.memory);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (memory < MIN_MEMORY) throw new CliError(`memory too small: ${opts.memory} given, at least ${MIN_MEMORY / 2 ** 20}M is needed`);
  const cpus = parseCpus(opts.cpus);
  let kernelPath = opts.kernel;
  let initrdPath = opts.initrd;
  let cmdline = opts.cmdline;
  if (kernelPath === undefined) {
    log('no --kernel: booting the test guest to a busybox shell (Ctrl-A x quits)');
    const { buildTestGuest } = await import('@virtio/test-guest');
    const guest = await buildTestGuest({ log });
    kernelPath = guest.kernel;
    initrdPath ??= guest.initrd;
    cmdline ??= guest.cmdline(DEFAULT_GUEST_CHECKS);
  }
  const kernel = readKernel(kernelPath);
  const initrd = initrdPath === undefined ? undefined : readInput('initrd', initrdPath);
  cmdline ??= 'console=ttyS0';

  // @virtio/test-guest is loaded only when needed: under --direct (e.g. inside the rig) the
  // VMM starts without transpiling it.
  const kvm = opts.direct ? undefined : (await import('@virtio/test-guest')).detectKvm();
  if (kvm?.kind === 'pvm') {
    log(`${kvm.reason}; re-running inside the nested KVM rig`);
    const argv = [process.execPath, BIN, 'run', '--direct', '--kernel', kernelPath, '--cmdline', cmdline, '--memory', opts.memory, '--cpus', String(cpus)];
    if (initrdPath !== undefined) argv.push('--initrd', initrdPath);
    if (opts.stats) argv.push('--stats');
    const { runWhereKvmWorks } = await import('@virtio/test-guest');
    const r = await runWhereKvmWorks(argv, { interactive: true, timeoutMs: RIG_SESSION_MS });
    if (r.mode === 'skipped') throw new CliError(r.reason ?? 'no KVM that can run a stock kernel');
    if (r.infraFailure) log(`rig failure: ${r.infraFailure}`);
    return r.status ?? 1;
  }
  return boot({ kernel, initrd, cmdline, memory, cpus, stats: opts.stats });
}

async function boot(opts: { kernel: Uint8Array; initrd?: Uint8Array; cmdline: string; memory: number; cpus: number; stats?: boolean }): Promise<number> {
  let machine: Machine;
  try {
    machine = new Machine({ ...opts, consoleFd: 1 });
  } catch (e) {
    if (e instanceof KvmError || e instanceof BootImageError || e instanceof MemoryTooSmallError || e instanceof RangeError) throw new CliError(e.message);
    throw e;
  }
  const restore = attachConsole(machine.platform.serial, () => machine.finish({ status: 0, reason: 'stopped from the console (Ctrl-A x)' }));
  const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [sig, status] of Object.entries(signals)) process.once(sig, () => machine.finish({ status, reason: `stopped by ${sig}` }));
  try {
    const result = await machine.run();
    restore();
    if (result.reason !== 'guest powered off') log(result.reason);
    if (machine.stats) {
      const { pio, mmio } = machine.platform;
      log(`${machine.stats.total} device accesses; unclaimed: ${pio.unclaimedReads + pio.unclaimedWrites} port, ${mmio.unclaimedReads + mmio.unclaimedWrites} MMIO; most frequent:`);
      for (const line of machine.stats.report()) log(line);
    }
    return result.status;
  } catch (e) {
    restore();
    if (e instanceof BootImageError || e instanceof MemoryTooSmallError) throw new CliError(e.message);
    throw e;
  }
}
