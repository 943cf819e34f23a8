// Our PCI driver initialises core's EchoDevice behind a PciTransport, with MSI-X, and echoes
// one buffer. Run from packages/pci: npx tsx --tsconfig tsconfig.json examples/echo-over-pci.ts
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { initializeDevice, type VirtioDevice } from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { PciDriverTransport, PciTransport } from '@virtio/pci';

// EchoDevice reports Device ID 0xff, which has no PCI Device ID (0x1040 + ID must stay <= 0x107f):
// present it as 0x3f instead.
const echo = new EchoDevice();
const device = new Proxy(echo, {
  get: (target, key) => {
    if (key === 'deviceId') return 0x3f;
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as VirtioDevice;

const memory = new FlatGuestMemory(new Uint8Array(0x40000));
const pci = new PciTransport(device, {
  memory,
  interrupt: {
    msi: (vector, addressLo, addressHi, data) => console.log(`MSI-X vector ${vector}: write 0x${data.toString(16)} to 0x${addressLo.toString(16)}`),
    intx: (asserted) => console.log('INTA#', asserted ? 'asserted' : 'de-asserted'),
  },
});
console.log('BARs:', pci.layout.bars.map((b) => `BAR${b.index} ${b.contents} ${b.size} bytes`).join(', '));

// The driver reaches the function through the same configRead/barRead calls a VMM forwards.
const driver = new PciDriverTransport(pci);
driver.enableMsix((vector) => ({ addressLo: 0xfee00000, addressHi: 0, data: 0x30 + vector }));
const dev = initializeDevice(driver, {
  memory,
  allocator: new BumpAllocator(0x20000, 0x20000),
  wantedFeatures: 0n,
  queues: [{ index: 0 }],
});
memory.write(0x1000, new TextEncoder().encode('hello'));
dev.queues[0]!.add([{ addr: 0x1000, len: 5 }], [{ addr: 0x2000, len: 5 }], 'req-1');
dev.kick(0); // -> MSI-X vector 1: write 0x31 to 0xfee00000
console.log(driver.takeInterrupt(1)); // { usedBuffer: true, configChange: false }
const used = dev.queues[0]!.reap();
const out = new Uint8Array(used!.len);
memory.read(0x2000, out);
console.log(used!.token, new TextDecoder().decode(out)); // req-1 hello
