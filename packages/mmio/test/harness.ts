// MMIO test set-up: an EchoDevice behind MmioTransport in flat guest memory, its interrupt
// line recorded, and a register spy that logs every access the driver side makes.
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { EchoDevice, type EchoDeviceOptions } from '@virtio/core/testing';
import { MmioTransport, type MmioRegisters, type MmioTransportOptions } from '@virtio/mmio';

export const MEM_SIZE = 0x40000;
export const RING_BASE = 0x20000;

export function mmio(echo: EchoDeviceOptions = {}, opts: Partial<MmioTransportOptions> = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new EchoDevice(echo);
  const line: boolean[] = [];
  const transport = new MmioTransport(device, { memory, interruptLine: (a) => line.push(a), ...opts });
  const allocator = new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE);
  return { memory, device, transport, state: transport.state, line, allocator };
}

export interface Access {
  readonly op: 'r' | 'w';
  readonly offset: number;
  readonly width: number;
  readonly value: number;
}

/** Records every register access passing through. */
export class RegisterSpy implements MmioRegisters {
  readonly log: Access[] = [];
  constructor(readonly inner: MmioRegisters) {}
  read(offset: number, width: 1 | 2 | 4): number {
    const value = this.inner.read(offset, width);
    this.log.push({ op: 'r', offset, width, value });
    return value;
  }
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.log.push({ op: 'w', offset, width, value });
    this.inner.write(offset, width, value);
  }
}
