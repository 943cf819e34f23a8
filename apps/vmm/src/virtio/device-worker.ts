/**
 * The device thread: owns every virtio device and its transport (virtio-pci or virtio-mmio)
 * over its own view of guest RAM. It processes queues when the ioeventfd poller marks them
 * notified, serves register accesses forwarded by the main thread, runs the backends' I/O on
 * its event loop, and interrupts the guest itself: MSI-X messages with KVM_SIGNAL_MSI, INTx
 * with KVM_IRQ_LINE, virtio-mmio pins by writing the pin's irqfd. The vCPU threads never run
 * JavaScript for a notification or an interrupt.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventFd, GuestRam, Vm } from '@virtio/kvm';
import { MmioTransport } from '@virtio/mmio';
import { PciTransport } from '@virtio/pci';
import { FlatGuestMemory } from '@virtio/ring';
import { createDevices, openDisks, openTaps } from './devices.js';
import { NotifySet } from './notify-set.js';
import { createOtherDevices } from './other-devices.js';
import { RegOp, type RegRequest, serveRegisters } from './register-channel.js';
import type { DeviceReport, DeviceThreadData, FromDeviceThread, ToDeviceThread } from './device-messages.js';

const data = workerData as DeviceThreadData;
const port = parentPort!;
const post = (m: FromDeviceThread) => port.postMessage(m);
const log = (line: string) => post({ type: 'log', line });

/** Per device: how it interrupts the guest, set by the main thread's `wire` message. */
interface Wiring {
  irq?: EventFd;
  intxGsi?: number;
}

async function main(): Promise<void> {
  const ram = GuestRam.fromAddress(BigInt(data.ram.address), data.ram.size);
  const memory = new FlatGuestMemory(ram.bytes(0, data.ram.size));
  const vm = new Vm(data.vmFd, data.vcpuMmapSize);
  const disks = await openDisks(data.specs.disks);
  const { nets, taps } = openTaps(data.specs.nets, log);
  const made = createDevices({ ...data.specs, nets }, { disks, taps }, data.consoleFd);
  const others = await createOtherDevices(data.specs, data.specs.features, data.pmem, log);
  await others.start();
  const all = [...made.devices, ...others.devices];
  const wiring: Wiring[] = all.map(() => ({}));
  const transports = all.map(({ device, transport }, i) => {
    const w = wiring[i];
    if (transport === 'mmio') {
      // The pin is edge-triggered (the DSDT says so): a rising InterruptStatus is one pulse.
      return new MmioTransport(device, { memory, interruptLine: (asserted) => void (asserted && w.irq?.write(1)) });
    }
    return new PciTransport(device, {
      memory,
      interrupt: {
        msi: (_vector, lo, hi, msiData) => void vm.signalMsi({ address: hi * 2 ** 32 + lo, data: msiData }),
        intx: (asserted) => w.intxGsi !== undefined && vm.irqLine(w.intxGsi, asserted),
      },
    });
  });
  const reports: DeviceReport[] = transports.map((t) =>
    t instanceof MmioTransport
      ? { kind: 'mmio', deviceId: t.device.deviceId, numQueues: t.device.numQueues, regionSize: t.regionSize }
      : {
          kind: 'pci',
          deviceId: t.state.device.deviceId,
          numQueues: t.state.device.numQueues,
          bars: t.bars.map((b) => ({ index: b.index, size: b.size, is64: b.is64 })),
          notify: t.notifyRegions().map((r) => ({ queue: r.queue, bar: r.bar, offset: r.offset, width: r.width })),
        },
  );

  const handle = (r: RegRequest): number => {
    const t = transports[r.dev];
    if (t === undefined) return 0xffffffff;
    const width = r.width as 1 | 2 | 4;
    if (t instanceof MmioTransport) {
      if (r.op === RegOp.MmioRead) return t.read(r.offset, width);
      if (r.op === RegOp.MmioWrite) t.write(r.offset, width, r.value);
      return 0;
    }
    switch (r.op) {
      case RegOp.PciConfigRead:
        return t.configRead(r.offset, width);
      case RegOp.PciConfigWrite:
        t.configWrite(r.offset, width, r.value);
        return 0;
      case RegOp.PciBarRead:
        return t.barRead(r.bar, r.offset, width);
      case RegOp.PciBarWrite:
        t.barWrite(r.bar, r.offset, width, r.value);
        return 0;
      case RegOp.PciBarAddress:
        return t.barAddress(r.bar) ?? 0;
      default:
        return 0;
    }
  };

  const notify = new NotifySet(data.notify);
  const serveNotifications = async () => {
    let seen = notify.count;
    for (;;) {
      for (let dev = 0; dev < transports.length; dev++) {
        let mask = notify.take(dev);
        const t = transports[dev];
        while (mask !== 0) {
          const q = 31 - Math.clz32(mask);
          mask &= ~(1 << q);
          if (t instanceof MmioTransport) t.notifyQueue(q);
          else t.queueNotify(q);
        }
      }
      seen = await notify.next(seen);
    }
  };

  port.on('message', (m: ToDeviceThread) => {
    if (m.type === 'wire') {
      m.devices.forEach((w, i) => {
        if (w.irqFd !== undefined) wiring[i].irq = new EventFd(w.irqFd);
        wiring[i].intxGsi = w.intxGsi;
      });
      void serveNotifications();
      post({ type: 'wired' });
    } else if (m.type === 'input') {
      made.console?.push(m.bytes);
    }
  });
  // The main thread plugs the devices (BAR assignment goes through these registers) before wiring.
  void serveRegisters(data.registers, handle);
  post({ type: 'ready', devices: reports });
}

main().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
