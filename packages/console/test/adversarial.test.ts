import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MemoryPortBackend,
  VIRTIO_CONSOLE_DEVICE_ADD,
  VIRTIO_CONSOLE_PORT_OPEN,
  VIRTIO_CONSOLE_PORT_READY,
} from '../src/index.js';
import { enc, rig, settle, VARIANTS } from './harness.js';

const BUF = 0x1f0000; // scratch guest memory below MEM_SIZE, away from the allocator's early blocks

describe.each(VARIANTS)('malformed data chains over $name', ({ features }) => {
  it('a receiveq chain with a device-readable buffer sets DEVICE_NEEDS_RESET', async () => {
    const t = rig({}, { receiveBuffers: 0 }, features);
    t.expose(0, [{ addr: BUF, len: 16 }], [{ addr: BUF + 16, len: 16 }]);
    t.device.port(0)!.push(enc('x'));
    expect(t.needsReset()).toBe(true);
  });

  it('a zero-length receive buffer sets DEVICE_NEEDS_RESET instead of spinning', () => {
    const t = rig({}, { receiveBuffers: 0 }, features);
    t.expose(0, [], [{ addr: BUF, len: 0 }]);
    t.device.port(0)!.push(enc('x'));
    expect(t.needsReset()).toBe(true);
  });

  it('a transmitq chain with a device-writable buffer sets DEVICE_NEEDS_RESET; nothing is output', () => {
    const out = new MemoryPortBackend();
    const t = rig({ ports: [{ backend: out }] }, {}, features);
    t.memory.write(BUF, enc('secret'));
    t.expose(1, [{ addr: BUF, len: 6 }], [{ addr: BUF + 64, len: 8 }]);
    expect(t.needsReset()).toBe(true);
    expect(out.length).toBe(0);
  });

  it('after DEVICE_NEEDS_RESET the device ignores notifications and pending writes reject', async () => {
    const out = new MemoryPortBackend();
    const t = rig({ ports: [{ backend: out }] }, {}, features);
    t.expose(1, [], [{ addr: BUF, len: 8 }]);
    const w = expect(t.driver.write(0, enc('late'))).rejects.toThrow('needs a reset');
    await settle();
    await w;
    expect(out.length).toBe(0);
  });
});

describe.each(VARIANTS)('adversarial control messages over $name', ({ features }) => {
  const opts = { maxPorts: 4, ports: [{ backend: new MemoryPortBackend() }, { name: 'p1' }] };

  it('unknown events, ports out of range or never added, and bad values are ignored and counted', async () => {
    const t = rig(opts, {}, features);
    await settle();
    t.rawControl(0, 99, 0); // unknown event
    t.rawControl(0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1); // port far out of range
    t.rawControl(4, VIRTIO_CONSOLE_PORT_READY, 1); // port == max_nr_ports
    t.rawControl(3, VIRTIO_CONSOLE_PORT_OPEN, 1); // port never added
    t.rawControl(1, VIRTIO_CONSOLE_PORT_OPEN, 7); // value neither 0 nor 1
    t.rawControl(1, VIRTIO_CONSOLE_DEVICE_ADD, 0); // a device-to-driver event from the driver
    await settle();
    expect(t.device.stats.badControl).toBe(6);
    expect(t.needsReset()).toBe(false);
    expect(t.device.port(1)!.guestOpen).toBe(false);
    // The device keeps working.
    t.device.port(0)!.push(enc('still here'));
    await settle();
    expect(t.text(0)).toBe('still here');
  });

  it('a control message shorter than struct virtio_console_control sets DEVICE_NEEDS_RESET', async () => {
    const t = rig(opts, {}, features);
    await settle();
    t.rawControl(0, VIRTIO_CONSOLE_PORT_READY, 1, 6);
    expect(t.needsReset()).toBe(true);
  });

  it('a control message with a device-writable buffer sets DEVICE_NEEDS_RESET', async () => {
    const t = rig(opts, {}, features);
    await settle();
    t.expose(3, [{ addr: BUF, len: 8 }], [{ addr: BUF + 8, len: 8 }]);
    expect(t.needsReset()).toBe(true);
  });

  it('a control receiveq buffer too short for a message sets DEVICE_NEEDS_RESET', async () => {
    const t = rig(opts, { controlBuffers: 0 }, features);
    t.expose(2, [], [{ addr: BUF, len: 4 }]);
    await settle();
    expect(t.needsReset()).toBe(true);
  });

  it('a port name longer than the control buffer is cut and counted', async () => {
    const t = rig({ maxPorts: 2, ports: [{}, { name: 'a-rather-long-port-name' }] }, { controlBufferSize: 12 }, features);
    await settle();
    expect(t.driver.ports.get(1)!.name).toBe('a-ra');
    expect(t.device.stats.truncatedControl).toBe(1);
  });

  it('any sequence of control messages never throws out of the device nor resets it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            id: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(0xffffffff)),
            event: fc.integer({ min: 0, max: 10 }),
            value: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 0xffff })),
          }),
          { maxLength: 30 },
        ),
        async (msgs) => {
          const t = rig(opts, {}, features);
          await settle(1);
          for (const m of msgs) t.rawControl(m.id, m.event, m.value);
          await settle(1);
          expect(t.needsReset()).toBe(false);
          await t.driver.write(0, enc('ok'));
        },
      ),
      { numRuns: 25 },
    );
  });
});
