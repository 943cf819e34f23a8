import { describe, expect, it } from 'vitest';
import { CONSOLE_CONFIG_EMERG_WR, MemoryPortBackend, CallbackPortBackend } from '../src/index.js';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory } from '@virtio/ring';
import { ConsoleDevice } from '../src/index.js';
import { enc, rig, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('single-port console over $name', ({ features }) => {
  it('guest output reaches the port backend; host input reaches the guest', async () => {
    const out = new MemoryPortBackend();
    const t = rig({ ports: [{ backend: out }] }, {}, features);
    await t.driver.write(0, enc('hello, host\n'));
    expect(out.text()).toBe('hello, host\n');
    expect(t.device.port(0)!.push(enc('hello, guest'))).toBe(true);
    await settle();
    expect(t.text(0)).toBe('hello, guest');
  });

  it('[console.drv.1] the driver posts only writable receive buffers and readable transmit buffers', async () => {
    const t = rig({ ports: [{ backend: new MemoryPortBackend() }] }, {}, features);
    await Promise.all([t.driver.write(0, enc('abc')), t.driver.write(0, new Uint8Array(5000))]);
    t.device.port(0)!.push(new Uint8Array(10_000));
    await settle();
    const rx = t.popped.filter((c) => c.writable.length > 0);
    const tx = t.popped.filter((c) => c.readable.length > 0);
    expect(rx.length).toBeGreaterThan(0);
    expect(tx.length).toBe(2);
    for (const c of rx) expect(c.readable).toEqual([]);
    for (const c of tx) expect(c.writable).toEqual([]);
    expect(t.needsReset()).toBe(false);
  });

  it('host input beyond the posted receive buffers waits, in order, and drains as buffers come back', async () => {
    const t = rig({ ports: [{ bufferLimit: 4096, highWaterMark: 100 }] }, { receiveBuffers: 2, receiveBufferSize: 16 }, features);
    const port = t.device.port(0)!;
    let drains = 0;
    port.onDrain = () => drains++;
    const input = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    expect(port.push(input)).toBe(false); // 32 bytes fit the guest's buffers, the rest waits
    expect(port.buffered).toBe(1000 - 32);
    for (let i = 0; i < 80 && port.buffered > 0; i++) await settle(1);
    await settle();
    expect(port.buffered).toBe(0);
    expect(Uint8Array.from(t.seen.data.get(0)!)).toEqual(input);
    expect(drains).toBe(1);
    expect(port.droppedBytes).toBe(0);
  });
});

describe('receive buffering bound', () => {
  it('bytes beyond bufferLimit are dropped and counted, never silently', () => {
    const t = rig({ ports: [{ bufferLimit: 64 }] }, { receiveBuffers: 1, receiveBufferSize: 8 });
    const port = t.device.port(0)!;
    port.push(new Uint8Array(100));
    expect(port.buffered).toBe(64);
    expect(port.droppedBytes).toBe(100 - 8 - 64); // 8 went straight into the guest's buffer
  });

  it('input pushed before the driver is live is held and delivered at DRIVER_OK', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const device = new ConsoleDevice();
    device.port(0)!.push(enc('early'));
    const { ConsoleDriver } = await import('../src/index.js');
    const { FreeListAllocator } = await import('@virtio/ring');
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const got: number[] = [];
    const driver = ConsoleDriver.initialize(transport, {
      memory,
      allocator: new FreeListAllocator(0x1000, 0xff000),
      events: { data: (_p, b) => got.push(...b) },
    });
    transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
    driver.handleInterrupt();
    await settle();
    expect(new TextDecoder().decode(Uint8Array.from(got))).toBe('early');
  });
});

describe('console size (VIRTIO_CONSOLE_F_SIZE)', () => {
  it('the driver reads cols and rows; a resize changes the configuration and notifies', async () => {
    const t = rig({ size: { cols: 80, rows: 24 } });
    expect(t.driver.ports.get(0)!.size).toEqual({ cols: 80, rows: 24 });
    const gen = t.transport.configGeneration();
    t.device.resize(132, 43);
    expect(t.transport.configGeneration()).not.toBe(gen);
    await settle();
    expect(t.seen.resizes).toEqual([[0, { cols: 132, rows: 43 }]]);
    expect(t.driver.ports.get(0)!.size).toEqual({ cols: 132, rows: 43 });
  });

  it('without a size the feature is not offered and resize changes nothing the driver sees', async () => {
    const t = rig();
    expect(t.driver.ports.get(0)!.size).toBeUndefined();
    t.device.resize(100, 30);
    await settle();
    expect(t.seen.resizes).toEqual([]);
  });
});

describe('emergency write (VIRTIO_CONSOLE_F_EMERG_WRITE)', () => {
  it('[console.dev.1] a write to emerg_wr works on an unconfigured device (status 0, nothing negotiated)', () => {
    const out = new MemoryPortBackend();
    const memory = new FlatGuestMemory(new Uint8Array(0x1000));
    const transport = new LoopbackTransport(new ConsoleDevice({ ports: [{ backend: out }] }), { memory, transport: 'mmio' });
    expect(transport.getStatus()).toBe(0);
    for (const ch of enc('panic!')) transport.writeConfig(CONSOLE_CONFIG_EMERG_WR, 4, ch);
    expect(out.text()).toBe('panic!');
  });

  it('[console.dev.2] only the lower byte written to emerg_wr is output', () => {
    const bytes: number[] = [];
    const memory = new FlatGuestMemory(new Uint8Array(0x1000));
    const transport = new LoopbackTransport(new ConsoleDevice({ emergencyWrite: (b) => bytes.push(b) }), { memory, transport: 'mmio' });
    transport.writeConfig(CONSOLE_CONFIG_EMERG_WR, 4, 0x12345641);
    transport.writeConfig(CONSOLE_CONFIG_EMERG_WR, 1, 0x42);
    transport.writeConfig(CONSOLE_CONFIG_EMERG_WR + 1, 1, 0x43); // not emerg_wr's lower byte
    transport.writeConfig(0, 2, 0x44); // cols is read-only
    expect(bytes).toEqual([0x41, 0x42]);
  });

  it('the driver writes emerg_wr; a device without the feature refuses', () => {
    const out = new MemoryPortBackend();
    const t = rig({ ports: [{ backend: out }] });
    expect(t.driver.emergencyWrite(0x21)).toBe(true);
    expect(out.text()).toBe('!');
    const t2 = rig({ emergencyWrite: false, ports: [{ backend: new CallbackPortBackend(() => undefined) }] });
    expect(t2.driver.emergencyWrite(0x21)).toBe(false);
  });
});

describe.each(VARIANTS.filter((v) => v.name.includes('indirect')))('indirect chains over $name', ({ features }) => {
  it('a transmit chain of several readable buffers through an indirect table is output in order', () => {
    const out = new MemoryPortBackend();
    const t = rig({ ports: [{ backend: out }] }, {}, features);
    t.memory.write(0x1f0000, enc('hel'));
    t.memory.write(0x1f1000, enc('lo, '));
    t.memory.write(0x1f2000, enc('world'));
    // The raw buffer is not the driver's: keep its interrupt handler from reaping it.
    t.transport.onInterrupt = () => {};
    const q = t.driver.device.queues[1]!;
    const segs = [
      { addr: 0x1f0000, len: 3 },
      { addr: 0x1f1000, len: 4 },
      { addr: 0x1f2000, len: 5 },
    ];
    expect(q.add(segs, [], 'raw', { indirect: true })).toBe(true);
    t.driver.device.kick(1);
    expect(out.text()).toBe('hello, world');
  });

  it('host input fills a receive chain of several writable buffers through an indirect table', () => {
    const t = rig({}, { receiveBuffers: 0 }, features);
    // The raw buffer is not the driver's: keep its interrupt handler from reaping it.
    t.transport.onInterrupt = () => {};
    const q = t.driver.device.queues[0]!;
    expect(q.add([], [{ addr: 0x1f0000, len: 2 }, { addr: 0x1f1000, len: 3 }], 'raw', { indirect: true })).toBe(true);
    t.driver.device.kick(0);
    t.device.port(0)!.push(enc('abcdefg'));
    const a = new Uint8Array(2);
    const b = new Uint8Array(3);
    t.memory.read(0x1f0000, a);
    t.memory.read(0x1f1000, b);
    expect(new TextDecoder().decode(a) + new TextDecoder().decode(b)).toBe('abcde');
    expect(t.device.port(0)!.buffered).toBe(2);
  });
});

describe('console reset', () => {
  it('after a device reset host input touches no guest memory and raises no interrupt', async () => {
    const t = rig({}, { receiveBuffers: 1, receiveBufferSize: 8 });
    t.driver.reset();
    const snapshot = new Uint8Array(0x200000);
    t.memory.read(0, snapshot);
    let interrupts = 0;
    t.transport.onInterrupt = () => interrupts++;
    t.device.port(0)!.push(enc('after reset'));
    const now = new Uint8Array(0x200000);
    t.memory.read(0, now);
    expect(now).toEqual(snapshot);
    expect(interrupts).toBe(0);
    expect(t.device.port(0)!.buffered).toBe(11);
  });
});
