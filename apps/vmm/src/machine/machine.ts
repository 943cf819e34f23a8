import { Worker } from 'node:worker_threads';
import { allocateGuestRam, type GuestRam, kick, Kvm, type Vm } from '@virtio/kvm';
import { buildAcpi } from '../acpi/build.js';
import { buildE820 } from '../boot/e820.js';
import { ACPI_TABLES_ADDR, ACPI_TABLES_END, MIN_MEMORY, ramRegions } from '../boot/layout.js';
import { loadLinux, MemoryTooSmallError } from '../boot/loader.js';
import { dispatch } from '../bus/dispatch.js';
import { adjustCpuid } from '../vcpu/cpuid.js';
import { bootMsrs } from '../vcpu/boot-state.js';
import { Channel } from '../vcpu/channel.js';
import type { VcpuMessage, VcpuStop, VcpuWorkerData } from '../vcpu/messages.js';
import { PanicDetector } from './panic-detector.js';
import { Platform } from './platform.js';

/** Intel-only KVM scratch areas, placed in the hole below 4 GiB (harmless on AMD). */
const TSS_ADDR = 0xfffb_d000;
const IDENTITY_MAP_ADDR = 0xfffb_c000;
/** Largest vCPU count (the MADT and the LAPIC IDs use 8 bits). */
export const MAX_CPUS = 254;

/** How to build a machine. `memory` in bytes; `output` receives guest console bytes. */
export interface MachineOptions {
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly cmdline: string;
  readonly memory: number;
  readonly cpus: number;
  readonly output: (bytes: Uint8Array) => void;
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
  readonly #panic: PanicDetector;
  readonly #lowRamSize: number;
  #out = new Uint8Array(4096);
  #outLength = 0;
  #flushScheduled = false;
  #threads: VcpuThread[] = [];
  #result?: MachineResult;
  #finished!: (r: MachineResult) => void;
  readonly #done = new Promise<MachineResult>((resolve) => (this.#finished = resolve));

  /**
   * Opens /dev/kvm, creates the VM and its RAM, loads the kernel and builds the ACPI tables.
   * @throws KvmError when /dev/kvm cannot be used; BootImageError for a bad kernel;
   *   MemoryTooSmallError when RAM is too small; RangeError for a bad vCPU count.
   */
  constructor(opts: MachineOptions) {
    if (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > MAX_CPUS) throw new RangeError(`--cpus must be 1-${MAX_CPUS}`);
    if (opts.memory < MIN_MEMORY) throw new MemoryTooSmallError(`memory too small: at least ${MIN_MEMORY / 2 ** 20} MiB is needed`);
    this.#opts = opts;
    this.#panic = new PanicDetector((line) => {
      this.#flush();
      setTimeout(() => this.finish({ status: 1, reason: `guest ${line}` }), 500).unref();
    });
    this.platform = new Platform({
      serialOutput: (b) => this.#console(b),
      irqLine: (gsi, level) => this.#vm.irqLine(gsi, level),
      signalMsi: (address, data) => void this.#vm.signalMsi({ address, data }),
      powerOff: () => this.finish({ status: 0, reason: 'guest powered off' }),
      reset: () => this.finish({ status: 0, reason: 'guest rebooted' }),
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

  /** Guest-visible RAM below the PCI hole (guest-physical 0 ..), as bytes. */
  lowRam(): Uint8Array {
    return this.#ram.bytes(0, this.#lowRamSize);
  }

  #console(byte: number): void {
    this.#panic.push(byte);
    this.#out[this.#outLength++] = byte;
    if (this.#outLength === this.#out.length) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#outLength === 0) return;
    this.#opts.output(this.#out.slice(0, this.#outLength));
    this.#outLength = 0;
  }

  /** Ends the run with `result` (the first call wins): stops every vCPU through the kick path. */
  finish(result: MachineResult): void {
    if (this.#result) return;
    this.#result = result;
    for (const t of this.#threads) this.#stopThread(t);
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
   * Loads the guest, starts one worker per vCPU and serves their device accesses until the
   * guest powers off, reboots, panics or faults, or finish() is called. Resolves after
   * every worker has ended.
   */
  async run(): Promise<MachineResult> {
    const regions = ramRegions(this.#opts.memory);
    const acpi = buildAcpi(this.platform.acpiOptions(this.#opts.cpus), ACPI_TABLES_ADDR, ACPI_TABLES_END);
    const low = this.lowRam();
    low.set(acpi.bytes, acpi.base);
    const loaded = loadLinux({ lowRam: low, kernel: this.#opts.kernel, initrd: this.#opts.initrd, cmdline: this.#opts.cmdline, e820: buildE820(regions), rsdpAddr: acpi.rsdpAddr });
    const supported = this.#kvm.supportedCpuid();
    for (let i = 0; i < this.#opts.cpus; i++) {
      const channel = new Channel();
      const data: VcpuWorkerData = {
        index: i,
        vcpuFd: this.#vm.createVcpu(i),
        mmapSize: this.#vm.vcpuMmapSize,
        cpuid: adjustCpuid(supported, i, this.#opts.cpus),
        msrs: bootMsrs(),
        boot: i === 0 ? loaded : undefined,
        channel: channel.sab,
      };
      this.#threads.push(this.#startWorker(data, channel));
    }
    await Promise.all(this.#threads.map((t) => t.exited));
    this.#flush();
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
      } else this.#onStop(data.index, m.stop);
    });
    worker.on('error', (e) => this.finish({ status: 1, reason: `vCPU ${data.index} failed: ${e.message}` }));
    worker.on('exit', () => {
      exited();
      this.finish({ status: 1, reason: `vCPU ${data.index} ended` });
    });
    void this.#serve(channel);
    return t;
  }

  async #serve(channel: Channel): Promise<void> {
    const { pio, mmio } = this.platform;
    while (!this.#result) {
      await channel.nextRequest();
      if (channel.stopRequested) return;
      dispatch(channel.access(), pio, mmio);
      channel.complete();
    }
  }

  #onStop(index: number, stop: VcpuStop): void {
    switch (stop.kind) {
      case 'stopped':
        return;
      case 'poweroff':
        return this.finish({ status: 0, reason: 'guest powered off' });
      case 'reset':
        return this.finish({ status: 0, reason: 'guest rebooted' });
      case 'triple-fault':
        return this.finish({ status: 1, reason: `guest triple fault on vCPU ${index} (KVM_EXIT_SHUTDOWN)` });
      case 'crash':
        return this.finish({ status: 1, reason: `guest crashed on vCPU ${index}: ${stop.detail}` });
      case 'error':
        return this.finish({ status: 1, reason: stop.detail });
    }
  }
}
