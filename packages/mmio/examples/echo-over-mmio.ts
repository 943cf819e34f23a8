import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { initializeDevice } from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { MmioTransport, probeMmio } from '@virtio/mmio';

// 256 KiB of guest memory; the driver allocates its rings from the upper half.
const memory = new FlatGuestMemory(new Uint8Array(0x40000));
const device = new MmioTransport(new EchoDevice(), {
  memory,
  interruptLine: (asserted) => console.log('irq', asserted ? 'up' : 'down'),
});

// The driver side sees the device through its registers (a VMM would trap guest MMIO here).
const probe = probeMmio(device);
if (!probe.ok) throw new Error(probe.reason);
const dev = initializeDevice(probe.transport, {
  memory,
  allocator: new BumpAllocator(0x20000, 0x20000),
  wantedFeatures: 0n,
  queues: [{ index: 0 }],
});

memory.write(0x1000, new TextEncoder().encode('hello'));
dev.queues[0]!.add([{ addr: 0x1000, len: 5 }], [{ addr: 0x2000, len: 5 }], 'req-1');
dev.kick(0); // QueueNotify -> the echo device copies and interrupts
console.log(dev.handleInterrupt()); // reads InterruptStatus, writes InterruptACK
const used = dev.queues[0]!.reap();
const out = new Uint8Array(used!.len);
memory.read(0x2000, out);
console.log(used!.token, new TextDecoder().decode(out)); // req-1 hello
