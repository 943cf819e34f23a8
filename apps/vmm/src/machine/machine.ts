import { Worker } from 'node:worker_threads';
import { allocateGuestRam, type GuestRam, kick, Kvm, type Vm } from '@virtio/kvm';
import { buildAcpi } from '../acpi/build.js';
import { buildE820 } from '../boot/e820.js';
import { RESET_PORT, RESET_VALUE } from '../acpi/tables.js';
import { ACPI_TABLES_ADDR, MIN_MEMORY, ramRegions } from '../boot/layout.js';
import { RESET_VECTOR_ADDR, resetStub } from '../boot/reset-vector.js';
import { loadLinux, MemoryTooSmallError } from '../boot/loader.js';
import { dispatch } from '../bus/dispatch.js';
import { adjustCpuid } from '../vcpu/cpuid.js';
import { bootMsrs } from '../vcpu/boot-state.js';
import { type Access, Channel, serveSlice } from '../vcpu/channel.js';
import type { VcpuMessage, VcpuStop, VcpuWorkerData } from '../vcpu/messages.js';
import { ExitStats } from './exit-stats.js';
import { ConsoleWriter } from '../devices/console-writer.js';
import { Platform } from './platform.js';

/** Intel-only KVM scratch areas, placed in the hole below 4 GiB (harmless on AMD). */
const TSS_ADDR = 0xfffb_d000;
const IDENTITY_MAP_ADDR = 0xfffb_c000;
/** How long the main thread serves device accesses before its event loop runs again (ms). */
const SERVE_SLICE_MS = 20;
/** Largest vCPU count (the MADT and the LAPIC IDs use 8 bits). */
export const MAX_CPUS = 254;

/** How to build a machine. `memory` in bytes; `output` receives guest console bytes. */
export interface MachineOptions {
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly cmdline: string;
  readonly memory: number;
  readonly cpus: number;
  /** File descriptor guest console output is written to (default 1, stdout). */
  readonly consoleFd?: number;
  /** Count device accesses for `stats()`. */
  readonly stats?: boolean;
}

/** How a run ended: the process exit status and a one-line reason. */
export interface MachineResult {
  readonly status: number;
  readonly reason: string;
}

interface VcpuThread {
  readonly worker: Worker;
  readonly channel: Channel;
  thread?: bigint;
  runAddress?: bigint;
  exited: Promise<void>;
}

/**
 * An x86-64 KVM machine booting Linux: guest RAM split around the 3-4 GiB PCI hole, the
 * in-kernel irqchip (PIC, IOAPIC, LAPICs) and PIT, ACPI tables, the platform devices, and
 * one worker thread per vCPU running KVM_RUN. Device accesses from the workers are served
 * here on the main thread (one device model, no locks).
 */
export class Machine {
  readonly platform: Platform;
  readonly #kvm: Kvm;
  readonly #vm: Vm;
  readonly #ram: GuestRam;
  readonly #opts: MachineOptions;
  readonly #lowRamSize: number;
  /** Device access counts (only with `stats: true`). */
  readonly stats?: ExitStats;
  #threads: VcpuThread[] = [];
  readonly #doorbell = Channel.doorbell();
  #result?: MachineResult;
  #panicLine?: string;
  readonly #beforeRamClose: (() => Promise<void>)[] = [];

  /**
   * Opens /dev/kvm and creates the VM: its RAM slots, the in-kernel irqchip and PIT, and the
   * platform's device model. Plug devices into `platform` before run().
   * @throws KvmError when /dev/kvm cannot be used; MemoryTooSmallError below MIN_MEMORY;
   *   RangeError for a bad vCPU count.
   */
  constructor(opts: MachineOptions) {
    if (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > MAX_CPUS) throw new RangeError(`--cpus must be 1-${MAX_CPUS}`);
    if (opts.memory < MIN_MEMORY) throw new MemoryTooSmallError(`memory too small: at least ${MIN_MEMORY / 2 ** 20} MiB is needed`);
    this.#opts = opts;
    if (opts.stats) this.stats = new ExitStats();
    const out = new ConsoleWriter(opts.consoleFd ?? 1);
    this.platform = new Platform({
      serialOutput: (b) => out.byte(b),
      irqLine: (gsi, level) => this.#vm.irqLine(gsi, level),
      signalMsi: (address, data) => void this.#vm.signalMsi({ address, data }),
      powerOff: () => this.finish({ status: 0, reason: 'guest powered off' }),
      reset: () => this.#reset(),
    });
    const regions = ramRegions(opts.memory);
    this.#kvm = Kvm.open();
    this.#vm = this.#kvm.createVm();
    this.#ram = allocateGuestRam(opts.memory);
    regions.forEach((r, slot) =>
      this.#vm.setUserMemoryRegion({ slot, guestPhysAddr: r.guestAddr, size: r.size, hostAddress: this.#ram.hostAddress + BigInt(r.offset) }),
    );
    this.#vm.setTssAddr(TSS_ADDR);
    this.#vm.setIdentityMapAddr(IDENTITY_MAP_ADDR);
    this.#vm.createIrqchip();
    this.#vm.createPit2();
    this.#lowRamSize = regions[0].size;
  }

  /**
   * Runs `hook` when the run ends, after the vCPUs stopped and before guest RAM is unmapped:
   * threads with their own view of guest RAM (device threads) must end there.
   */
  beforeRamClose(hook: () => Promise<void>): void {
    this.#beforeRamClose.push(hook);
  }

  /** The KVM VM (for ioeventfd/irqfd bindings; its fd can be wrapped on another thread). */
  get vm(): Vm {
    return this.#vm;
  }

  /** Guest RAM below the PCI hole: the host address of guest-physical 0 and its size in bytes. */
  get lowRamHost(): { readonly address: bigint; readonly size: number } {
    return { address: this.#ram.hostAddress, size: this.#lowRamSize };
  }

  /** Guest-visible RAM below the PCI hole (guest-physical 0 ..), as bytes. */
  lowRam(): Uint8Array {
    return this.#ram.bytes(0, this.#lowRamSize);
  }

  #onPanic(line: string): void {
    if (this.#panicLine !== undefined) return;
    this.#panicLine = line;
    // A kernel without panic=-1 halts after the panic: give it a moment to print the trace.
    setTimeout(() => this.#reset(), 2000).unref();
  }

  /** Ends the run with `result` (the first call wins): stops every vCPU through the kick path. */
  finish(result: MachineResult): void {
    if (this.#result) return;
    this.#result = result;
    for (const t of this.#threads) this.#stopThread(t);
  }

  /** A guest reset ends the VMM: status 0 ("guest rebooted"), or 1 after a kernel panic. */
  #reset(): void {
    if (this.#panicLine !== undefined) this.finish({ status: 1, reason: `guest ${this.#panicLine}` });
    else this.finish({ status: 0, reason: 'guest rebooted' });
  }

  #stopThread(t: VcpuThread): void {
    t.channel.requestStop();
    if (t.thread === undefined || t.runAddress === undefined) return;
    try {
      kick(t.thread, t.runAddress);
    } catch {
      // The thread has already left KVM_RUN for good.
    }
  }

  /**
   * Builds the ACPI tables, loads the kernel, starts one worker per vCPU and serves their device accesses until the
   * guest powers off, reboots, panics or faults, or finish() is called. Resolves after
   * every worker has ended.
   * @throws BootImageError for a bad kernel or command line; MemoryTooSmallError when the
   *   kernel and initrd do not fit.
   */
  async run(): Promise<MachineResult> {
    const regions = ramRegions(this.#opts.memory);
    const acpi = buildAcpi(this.platform.acpiOptions(this.#opts.cpus), ACPI_TABLES_ADDR, RESET_VECTOR_ADDR);
    const low = this.lowRam();
    low.set(acpi.bytes, acpi.base);
    low.set(resetStub(RESET_PORT, RESET_VALUE), RESET_VECTOR_ADDR);
    const loaded = loadLinux({ lowRam: low, kernel: this.#opts.kernel, initrd: this.#opts.initrd, cmdline: this.#opts.cmdline, e820: buildE820(regions), rsdpAddr: acpi.rsdpAddr });
    const supported = this.#kvm.supportedCpuid();
    for (let i = 0; i < this.#opts.cpus; i++) {
      const channel = new Channel(this.#doorbell);
      const data: VcpuWorkerData = {
        index: i,
        vcpuFd: this.#vm.createVcpu(i),
        mmapSize: this.#vm.vcpuMmapSize,
        cpuid: adjustCpuid(supported, i, this.#opts.cpus),
        msrs: bootMsrs(),
        boot: i === 0 ? loaded : undefined,
        channel: channel.sab,
        doorbell: this.#doorbell,
        vmFd: this.#vm.fd,
        serialState: this.platform.serial.state,
        consoleFd: this.#opts.consoleFd ?? 1,
        pciState: this.platform.pci.sharedState,
      };
      this.#threads.push(this.#startWorker(data, channel));
    }
    await this.#serve();
    await Promise.all(this.#threads.map((t) => t.exited));
    for (const hook of this.#beforeRamClose) await hook();
    this.#ram.close();
    return this.#result ?? { status: 1, reason: 'all vCPUs stopped' };
  }

  #startWorker(data: VcpuWorkerData, channel: Channel): VcpuThread {
    const worker = new Worker(new URL('../vcpu/worker-entry.mjs', import.meta.url), { workerData: data });
    let exited!: () => void;
    const t: VcpuThread = { worker, channel, exited: new Promise<void>((r) => (exited = r)) };
    worker.on('message', (m: VcpuMessage) => {
      if (m.type === 'ready') {
        t.thread = m.thread;
        t.runAddress = m.runAddress;
        if (this.#result) this.#stopThread(t);
      } else if (m.type === 'panic') this.#onPanic(m.line);
      else this.#onStop(data.index, m.stop);
    });
    worker.on('error', (e) => this.finish({ status: 1, reason: `vCPU ${data.index} failed: ${e.message}` }));
    worker.on('exit', () => {
      exited();
      this.finish({ status: 1, reason: `vCPU ${data.index} ended` });
    });
    return t;
  }

  /**
   * Serves the vCPUs' device accesses synchronously in slices of SERVE_SLICE_MS, yielding to
   * the event loop (console input, signals, worker messages) between slices, until the run ends.
   */
  async #serve(): Promise<void> {
    const { pio, mmio } = this.platform;
    const channels = this.#threads.map((t) => t.channel);
    const handle = (access: Access) => {
      this.stats?.record(access);
      dispatch(access, pio, mmio);
    };
    while (!this.#result) {
      serveSlice(channels, handle, SERVE_SLICE_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #onStop(index: number, stop: VcpuStop): void {
    switch (stop.kind) {
      case 'stopped':
        return;
      case 'poweroff':
        return this.finish({ status: 0, reason: 'guest powered off' });
      case 'reset':
        return this.#reset();
      case 'triple-fault':
        return this.finish({ status: 1, reason: `guest triple fault on vCPU ${index} (KVM_EXIT_SHUTDOWN)` });
      case 'crash':
        return this.finish({ status: 1, reason: `guest crashed on vCPU ${index}: ${stop.detail}` });
      case 'error':
        return this.finish({ status: 1, reason: stop.detail });
    }
  }
}
