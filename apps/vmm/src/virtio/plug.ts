/**
 * Puts a VirtioDevice on the machine's buses: as a virtio-pci function (modern, MSI-X; the
 * transport's interrupts go to KVM as MSI messages, or INTx while MSI-X is off) or as a
 * virtio-mmio device (version 2) in a window the DSDT describes as LNRO0005, its interrupt an
 * edge-triggered IOAPIC pin.
 */
import type { VirtioDevice, VirtioTransportState } from '@virtio/core';
import { MmioTransport } from '@virtio/mmio';
import { PciTransport } from '@virtio/pci';
import type { GuestMemory } from '@virtio/ring';
import type { Platform } from '../machine/platform.js';
import type { PciFunctionContext } from '../pci/function.js';
import type { TransportKind } from './options.js';

/** A device as plugged: its transport's state, where it sits (for logs) and its transport. */
export interface PluggedDevice {
  readonly state: VirtioTransportState;
  readonly where: string;
  readonly transport: PciTransport | MmioTransport;
}

/** What plugging needs from the machine. */
export interface PlugTarget {
  readonly platform: Platform;
  readonly memory: GuestMemory;
  /** Drives an IOAPIC pin (GSI). */
  irqLine(gsi: number, level: boolean): void;
}

/**
 * Plugs `device` on `kind`.
 * @throws PciBusError (no free slot, BAR window exhausted) or RangeError (no free virtio-mmio slot).
 */
export function plugVirtio(target: PlugTarget, device: VirtioDevice, kind: TransportKind): PluggedDevice {
  return kind === 'pci' ? plugPci(target, device) : plugMmio(target, device);
}

function plugPci(target: PlugTarget, device: VirtioDevice): PluggedDevice {
  let ctx: PciFunctionContext | undefined;
  const transport = new PciTransport(device, {
    memory: target.memory,
    interrupt: {
      msi: (_vector, addressLo, _addressHi, data) => ctx?.signalMsi(addressLo, data),
      intx: (asserted) => ctx?.setIntx(asserted),
    },
  });
  const slot = target.platform.pci.plug({
    configRead: (offset, width) => transport.configRead(offset, width as 1 | 2 | 4),
    configWrite: (offset, width, value) => transport.configWrite(offset, width as 1 | 2 | 4, value),
    bars: transport.bars,
    barRead: (index, offset, width) => transport.barRead(index, offset, width as 1 | 2 | 4),
    barWrite: (index, offset, width, value) => transport.barWrite(index, offset, width as 1 | 2 | 4, value),
    attach: (c) => (ctx = c),
  });
  return { state: transport.state, where: `pci 00:${slot.toString(16).padStart(2, '0')}.0`, transport };
}

function plugMmio(target: PlugTarget, device: VirtioDevice): PluggedDevice {
  const slot = target.platform.mmioSlots.take();
  // The pin is edge-triggered (the DSDT says so): a rising InterruptStatus is one pulse.
  const transport = new MmioTransport(device, {
    memory: target.memory,
    interruptLine: (asserted) => {
      if (!asserted) return;
      target.irqLine(slot.gsi, true);
      target.irqLine(slot.gsi, false);
    },
  });
  if (transport.regionSize > slot.size) throw new RangeError(`virtio-mmio device needs ${transport.regionSize} bytes, the window has ${slot.size}`);
  target.platform.mmio.register(slot.base, slot.size, transport, `virtio-mmio ${device.deviceId}`);
  return { state: transport.state, where: `mmio 0x${slot.base.toString(16)} gsi ${slot.gsi}`, transport };
}
