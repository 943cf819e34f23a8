import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NET, ensureDefaultDisk, hvcShellCheck } from '../virtio/default-guest.js';
import { KvmError } from '@virtio/kvm';
import { MIN_MEMORY, parseMemorySize } from '../boot/layout.js';
import { BootImageError } from '../boot/setup-header.js';
import { MemoryTooSmallError } from '../boot/loader.js';
import { Machine, MAX_CPUS } from '../machine/machine.js';
import { attachConsole } from './console.js';
import { CliError, readInput, readKernel } from './load-files.js';
import { accessSync, constants, statSync } from 'node:fs';
import { PciBusError } from '../pci/bus.js';
import { type DeviceThreads, startDeviceThreads } from '../virtio/device-host.js';
import type { VirtioSpecs } from '../virtio/devices.js';
import {
  combineEdits,
  NO_EDITS,
  parseBalloon,
  parseConsole,
  parseCrypto,
  parseDefaultTransport,
  parseDisk,
  parseFeatures,
  parseInput,
  parseNet,
  parsePmem,
  parseRing,
  parseRng,
  parseScsi,
  parseVsock,
} from '../virtio/options.js';
import { deviceCount } from '../virtio/devices.js';

/** RAM the devices can reach (guest memory below the PCI hole). */
const LOW_RAM_LIMIT = 3 * 2 ** 30;

/** Options of `virtio-vmm run` as commander parses them. */
export interface RunOptions {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  memory: string;
  cpus: string;
  direct?: boolean;
  stats?: boolean;
  disk?: string[];
  net?: string[];
  console?: string | true;
  rng?: string | true;
  scsi?: string[];
  vsock?: string;
  balloon?: string | true;
  input?: string[];
  crypto?: string | true;
  pmem?: string[];
  ring?: string;
  features?: string;
  transport?: string;
}

/** The virtio device options, as given, for a re-run inside the rig. */
function deviceArgv(opts: RunOptions): string[] {
  const argv: string[] = [];
  for (const d of opts.disk ?? []) argv.push('--disk', d);
  for (const n of opts.net ?? []) argv.push('--net', n);
  if (opts.console !== undefined) argv.push(opts.console === true ? '--console' : `--console=${opts.console}`);
  if (opts.rng !== undefined) argv.push(opts.rng === true ? '--rng' : `--rng=${opts.rng}`);
  for (const s of opts.scsi ?? []) argv.push('--scsi', s);
  if (opts.vsock !== undefined) argv.push('--vsock', opts.vsock);
  if (opts.balloon !== undefined) argv.push(opts.balloon === true ? '--balloon' : `--balloon=${opts.balloon}`);
  for (const i of opts.input ?? []) argv.push('--input', i);
  if (opts.crypto !== undefined) argv.push(opts.crypto === true ? '--crypto' : `--crypto=${opts.crypto}`);
  for (const p of opts.pmem ?? []) argv.push('--pmem', p);
  if (opts.ring !== undefined) argv.push('--ring', opts.ring);
  if (opts.features !== undefined) argv.push('--features', opts.features);
  if (opts.transport !== undefined) argv.push('--transport', opts.transport);
  return argv;
}

/** Parses the device options. @throws CliError for malformed ones. */
function deviceSpecs(opts: RunOptions): VirtioSpecs {
  const transport = parseDefaultTransport(opts.transport);
  const ring = opts.ring === undefined ? NO_EDITS : parseRing(opts.ring);
  return {
    disks: (opts.disk ?? []).map((d) => parseDisk(d, transport)),
    nets: (opts.net ?? []).map((n) => parseNet(n, transport)),
    console: opts.console === undefined ? undefined : parseConsole(opts.console, transport),
    rng: opts.rng === undefined ? undefined : parseRng(opts.rng, transport),
    scsi: (opts.scsi ?? []).map((s) => parseScsi(s, transport)),
    vsock: opts.vsock === undefined ? undefined : parseVsock(opts.vsock, transport),
    balloon: opts.balloon === undefined ? undefined : parseBalloon(opts.balloon, transport),
    inputs: (opts.input ?? []).map((i) => parseInput(i, transport)),
    crypto: opts.crypto === undefined ? undefined : parseCrypto(opts.crypto, transport),
    pmem: (opts.pmem ?? []).map((p) => parsePmem(p, transport)),
    features: combineEdits(ring, parseFeatures(opts.features ?? '')),
  };
}

/** The guest's check run when `run` boots the test guest with no kernel given (and device options given). */
export const DEFAULT_GUEST_CHECKS = ['shell'];
/** The default guest's check (no arguments at all): the shell on hvc0. */
export const DEFAULT_GUEST_VIRTIO_CHECKS = [hvcShellCheck.name];

function hasDevices(s: VirtioSpecs): boolean {
  return deviceCount(s) > 0;
}

function hasDeviceOptions(o: RunOptions): boolean {
  return (
    (o.disk?.length ?? 0) > 0 ||
    (o.net?.length ?? 0) > 0 ||
    o.console !== undefined ||
    o.rng !== undefined ||
    (o.scsi?.length ?? 0) > 0 ||
    o.vsock !== undefined ||
    o.balloon !== undefined ||
    (o.input?.length ?? 0) > 0 ||
    o.crypto !== undefined ||
    (o.pmem?.length ?? 0) > 0
  );
}

/** The default guest's devices: the cached ext4 disk, a TAP card where permitted, hvc0, entropy. */
function withDefaultDevices(o: RunOptions): RunOptions {
  const disk = ensureDefaultDisk();
  if (disk.note) log(disk.note);
  return { ...o, disk: [disk.path], net: [DEFAULT_NET], console: true, rng: true };
}
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
export async function runCommand(given: RunOptions): Promise<number> {
  const defaultGuest = given.kernel === undefined && !hasDeviceOptions(given);
  const opts = defaultGuest ? withDefaultDevices(given) : given;
  let memory: number;
  try {
    memory = parseMemorySize(opts.memory);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (memory < MIN_MEMORY) throw new CliError(`memory too small: ${opts.memory} given, at least ${MIN_MEMORY / 2 ** 20}M is needed`);
  const cpus = parseCpus(opts.cpus);
  const specs = deviceSpecs(opts);
  checkDisks(specs);
  let kernelPath = opts.kernel;
  let initrdPath = opts.initrd;
  let cmdline = opts.cmdline;
  if (kernelPath === undefined) {
    log(`no --kernel: booting the test guest to a busybox shell on ${defaultGuest ? 'the virtio console' : 'COM1'} (Ctrl-A x quits)`);
    const { buildTestGuest } = await import('@virtio/test-guest');
    const guest = await buildTestGuest({ log, checks: [hvcShellCheck] });
    kernelPath = guest.kernel;
    initrdPath ??= guest.initrd;
    cmdline ??= guest.cmdline(defaultGuest ? DEFAULT_GUEST_VIRTIO_CHECKS : DEFAULT_GUEST_CHECKS);
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
    argv.push(...deviceArgv(opts));
    const { runWhereKvmWorks } = await import('@virtio/test-guest');
    const writableDirs = [...specs.disks, ...(specs.scsi ?? [])].filter((d) => !d.readOnly).map((d) => dirname(resolve(d.path)));
    for (const p of specs.pmem ?? []) writableDirs.push(dirname(resolve(p.path)));
    if (specs.vsock?.socket !== undefined) writableDirs.push(dirname(resolve(specs.vsock.socket)));
    const r = await runWhereKvmWorks(argv, { interactive: true, timeoutMs: RIG_SESSION_MS, writableDirs });
    if (r.mode === 'skipped') throw new CliError(r.reason ?? 'no KVM that can run a stock kernel');
    if (r.infraFailure) log(`rig failure: ${r.infraFailure}`);
    return r.status ?? 1;
  }
  if (hasDevices(specs) && memory > LOW_RAM_LIMIT) throw new CliError(`virtio devices need all guest RAM below 3 GiB: use --memory 3G or less`);
  return boot({ kernel, initrd, cmdline, memory, cpus, stats: opts.stats }, specs);
}

/** Checks every --disk image before anything boots: one line for a missing or inaccessible file. */
function checkDisks(specs: VirtioSpecs): void {
  for (const d of [...specs.disks, ...(specs.scsi ?? [])]) {
    try {
      accessSync(d.path, d.readOnly ? constants.R_OK : constants.R_OK | constants.W_OK);
      if (!statSync(d.path).isFile()) throw Object.assign(new Error(), { code: 'not a regular file' });
    } catch (e) {
      throw new CliError(`cannot open disk image ${d.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

async function boot(
  opts: { kernel: Uint8Array; initrd?: Uint8Array; cmdline: string; memory: number; cpus: number; stats?: boolean },
  specs: VirtioSpecs,
): Promise<number> {
  let machine: Machine;
  let devices: DeviceThreads | undefined;
  try {
    machine = new Machine({ ...opts, consoleFd: 1 });
    if (hasDevices(specs)) {
      const d = await startDeviceThreads(machine, specs, 1, log);
      devices = d;
      machine.beforeRamClose(() => d.stop());
    }
  } catch (e) {
    if (e instanceof KvmError || e instanceof BootImageError || e instanceof MemoryTooSmallError || e instanceof RangeError || e instanceof PciBusError) throw new CliError(e.message);
    throw e;
  }
  // The terminal's input goes to hvc0 when the virtio console is the terminal, else to COM1.
  const input = specs.console?.mode === 'tty' && devices ? { receive: (b: Uint8Array) => devices.consoleInput(b) } : machine.platform.serial;
  const restore = attachConsole(input, () => machine.finish({ status: 0, reason: 'stopped from the console (Ctrl-A x)' }));
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
