import { describe, expect, it } from 'vitest';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import type { DriverQueue } from '@virtio/ring';
import { CallbackEntropySource, PatternEntropySource } from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

const needsReset = (t: ReturnType<typeof rig>) => (t.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;

/** Exposes a chain the way a hostile driver would, behind our driver's back. */
function expose(t: ReturnType<typeof rig>, out: { addr: number; len: number }[], inSegs: { addr: number; len: number }[]) {
  const q = t.driver.device.queues[0] as DriverQueue;
  expect(q.add(out, inSegs, 'hostile')).toBe(true);
  t.driver.device.kick(0);
}

describe.each(VARIANTS)('adversarial requestq chains over $name', ({ features }) => {
  it('a readable-only chain sets DEVICE_NEEDS_RESET and writes nothing', async () => {
    const t = rig({ source: new PatternEntropySource(Uint8Array.of(9)) }, features);
    t.memory.write(0xf0000, new Uint8Array(32).fill(0xaa));
    expose(t, [{ addr: 0xf0000, len: 32 }], []);
    expect(needsReset(t)).toBe(true);
    const back = new Uint8Array(32);
    t.memory.read(0xf0000, back);
    expect(back.every((b) => b === 0xaa)).toBe(true);
    expect(t.device.stats.requests).toBe(0);
  });

  it('a chain mixing readable and writable buffers sets DEVICE_NEEDS_RESET', () => {
    const t = rig({}, features);
    expose(t, [{ addr: 0xf0000, len: 8 }], [{ addr: 0xf0100, len: 8 }]);
    expect(needsReset(t)).toBe(true);
  });

  it('a zero-length writable buffer sets DEVICE_NEEDS_RESET instead of returning no byte', () => {
    const t = rig({}, features);
    expose(t, [], [{ addr: 0xf0000, len: 0 }]);
    expect(needsReset(t)).toBe(true);
    expect(t.device.stats.requests).toBe(0);
  });

  it('after DEVICE_NEEDS_RESET pending requests reject and later notifications do nothing', async () => {
    const t = rig({ source: new PatternEntropySource(Uint8Array.of(9)) }, features);
    expose(t, [{ addr: 0xf0000, len: 4 }], []);
    const p = expect(t.driver.request(8)).rejects.toThrow('needs a reset');
    await settle();
    await p;
    t.transport.notify(0);
    expect(t.device.stats.requests).toBe(0);
  });
});

describe('entropy source failures', () => {
  it('a throwing source sets DEVICE_NEEDS_RESET instead of handing out non-random bytes', async () => {
    const t = rig({
      source: new CallbackEntropySource(() => {
        throw new Error('rng unplugged');
      }),
    });
    const p = expect(t.driver.request(8)).rejects.toThrow('needs a reset');
    await settle();
    await p;
    expect(needsReset(t)).toBe(true);
  });

  it('the device works again after a driver reset and re-initialization', async () => {
    let fail = true;
    const t = rig({
      source: new CallbackEntropySource((d) => {
        if (fail) throw new Error('transient');
        d.fill(7);
      }),
    });
    const p = expect(t.driver.request(8)).rejects.toThrow('needs a reset');
    await settle();
    await p;
    fail = false;
    const { EntropyDriver } = await import('../src/index.js');
    const again = EntropyDriver.initialize(t.transport, { memory: t.memory, allocator: t.allocator });
    t.transport.onInterrupt = () => queueMicrotask(() => again.handleInterrupt());
    const q = again.request(8);
    await settle();
    expect(await q).toEqual(new Uint8Array(8).fill(7));
  });
});
