/**
 * The main thread's side of the device thread: starts it (it opens the backends and builds
 * the devices), places each device on the machine's buses (a PCI function or a virtio-mmio
 * window whose register accesses are forwarded to the device thread), binds every queue's
 * notify address to an ioeventfd and every virtio-mmio pin to an irqfd, and starts the
 * ioeventfd poller thread.
 */
import { Worker } from 'node:worker_threads';
import { EventFd } from '@virtio/kvm';
import { MmioTransport } from '@virtio/mmio';
import { CliError } from '../cli/load-files.js';
import type { Machine } from '../machine/machine.js';
import type { PciFunction } from '../pci/function.js';
import type { DeviceReport, DeviceThreadData, FromDeviceThread, ToDeviceThread } from './device-messages.js';
import { deviceCount, type VirtioSpecs } from './devices.js';
import type { NotifierData } from './notifier.js';
import { NotifySet } from './notify-set.js';
import { mapPmem } from './pmem-memory.js';
import { RegisterClient, RegOp } from './register-channel.js';

/** PCI configuration registers whose writes can move a BAR (BAR0-5, COMMAND). */
const BAR_REGS = { from: 0x10, to: 0x28 } as const;
const PCI_COMMAND = 0x04;

/** The running device threads: console input, and stop. */
export interface DeviceThreads {
  /** Sends terminal input to the virtio console (tty mode). */
  consoleInput(bytes: Uint8Array): void;
  /** Ends the device and poller threads. */
  stop(): Promise<void>;
}

function once<T extends FromDeviceThread['type']>(worker: Worker, type: T): Promise<Extract<FromDeviceThread, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromDeviceThread) => {
      if (m.type === type) {
        worker.off('message', onMessage);
        resolve(m as Extract<FromDeviceThread, { type: T }>);
      } else if (m.type === 'error') {
        worker.off('message', onMessage);
        reject(new CliError(m.message.replace(/^blk: /, '')));
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/**
 * Starts the device thread for `specs` and plugs its devices into `machine` (before run()).
 * @throws CliError when a backend cannot be opened (missing disk image, TAP not permitted),
 *   PciBusError / RangeError when the buses are full.
 */
export async function startDeviceThreads(machine: Machine, specs: VirtioSpecs, consoleFd: number, log: (line: string) => void): Promise<DeviceThreads> {
  const { vm, platform } = machine;
  const registers = new RegisterClient();
  const notify = new NotifySet(deviceCount(specs));
  const ram = machine.lowRamHost;
  const pmem = mapPmem(vm, specs.pmem ?? []);
  const workerData: DeviceThreadData = {
    specs,
    ram: { address: ram.address.toString(), size: ram.size },
    vmFd: vm.fd,
    vcpuMmapSize: vm.vcpuMmapSize,
    consoleFd,
    registers: registers.sab,
    notify: notify.sab,
    pmem: pmem.regions,
  };
  const worker = new Worker(new URL('./device-worker-entry.mjs', import.meta.url), { workerData });
  worker.on('message', (m: FromDeviceThread) => m.type === 'log' && log(m.line));
  let ready: Extract<FromDeviceThread, { type: 'ready' }>;
  try {
    ready = await once(worker, 'ready');
  } catch (e) {
    await worker.terminate();
    pmem.close();
    throw e;
  }
  const queues: NotifierData['queues'][number][] = [];
  const wiring = ready.devices.map((d, dev) => (d.kind === 'mmio' ? plugMmio(d, dev) : plugPci(d, dev)));

  function plugMmio(d: Extract<DeviceReport, { kind: 'mmio' }>, dev: number): { irqFd: number } {
    const slot = platform.mmioSlots.take();
    if (d.regionSize > slot.size) throw new RangeError(`virtio-mmio device needs ${d.regionSize} bytes, the window has ${slot.size}`);
    platform.mmio.register(
      slot.base,
      slot.size,
      {
        read: (offset, width) => registers.call(RegOp.MmioRead, dev, 0, offset, width),
        write: (offset, width, value) => void registers.call(RegOp.MmioWrite, dev, 0, offset, width, value),
      },
      `virtio-mmio device ${d.deviceId}`,
    );
    for (let queue = 0; queue < d.numQueues; queue++) {
      const ev = EventFd.create();
      vm.ioeventfd({ addr: slot.base + MmioTransport.NOTIFY_OFFSET, len: 4, fd: ev.fd, datamatch: queue });
      queues.push({ fd: ev.fd, dev, queue });
    }
    const irq = EventFd.create();
    vm.irqfd({ gsi: slot.gsi, fd: irq.fd });
    return { irqFd: irq.fd };
  }

  function plugPci(d: Extract<DeviceReport, { kind: 'pci' }>, dev: number): { intxGsi: number } {
    // Each queue's ioeventfd sits at its BAR's current address; rebound when the guest moves the BAR.
    const bound = d.notify.map((n) => ({ ...n, fd: EventFd.create().fd, addr: 0 }));
    for (const b of bound) queues.push({ fd: b.fd, dev, queue: b.queue });
    const rebind = () => {
      for (const b of bound) {
        const base = registers.call(RegOp.PciBarAddress, dev, b.bar, 0, 4);
        const addr = base === 0 ? 0 : base + b.offset;
        if (addr === b.addr) continue;
        if (b.addr !== 0) vm.ioeventfd({ addr: b.addr, len: b.width, fd: b.fd, deassign: true });
        if (addr !== 0) vm.ioeventfd({ addr, len: b.width, fd: b.fd });
        b.addr = addr;
      }
    };
    let intxGsi: number | undefined;
    const fn: PciFunction = {
      configRead: (offset, width) => registers.call(RegOp.PciConfigRead, dev, 0, offset, width),
      configWrite: (offset, width, value) => {
        registers.call(RegOp.PciConfigWrite, dev, 0, offset, width, value);
        if ((offset >= BAR_REGS.from && offset < BAR_REGS.to) || offset === PCI_COMMAND) rebind();
      },
      bars: d.bars,
      barRead: (index, offset, width) => registers.call(RegOp.PciBarRead, dev, index, offset, width),
      barWrite: (index, offset, width, value) => void registers.call(RegOp.PciBarWrite, dev, index, offset, width, value),
      attach: (ctx) => (intxGsi = ctx.intxGsi),
    };
    platform.pci.plug(fn);
    return { intxGsi: intxGsi! };
  }

  const stopFd = EventFd.create();
  const send = (m: ToDeviceThread) => worker.postMessage(m);
  const wired = once(worker, 'wired');
  send({ type: 'wire', devices: wiring });
  await wired;
  const notifierData: NotifierData = { queues, stopFd: stopFd.fd, notify: notify.sab };
  const notifier = new Worker(new URL('./notifier-entry.mjs', import.meta.url), { workerData: notifierData });
  return {
    consoleInput: (bytes) => send({ type: 'input', bytes }),
    stop: async () => {
      stopFd.write(1);
      await Promise.all([worker.terminate(), new Promise((resolve) => notifier.once('exit', resolve))]);
      pmem.close();
    },
  };
}
