// Driver conformance (spec 5.21.6): what our SpiDriver puts on the ring, and what it takes back.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_F_VERSION_1, type ActivateContext, type VirtioDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { ChainWriter, FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import {
  decodeTransferHead,
  SPI_DEFAULT_CONFIG,
  SPI_EEPROM_READ,
  SpiConfigSpace,
  SpiDriver,
  SpiTransferError,
  VIRTIO_SPI_CONFIG_SIZE,
  VIRTIO_SPI_DEVICE_ID,
  VIRTIO_SPI_PARAM_ERR,
  VIRTIO_SPI_TRANS_ERR,
  VIRTIO_SPI_TRANSFER_HEAD_SIZE,
} from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

/** A device that fills every rx_buf with 0xab and answers with the next scripted result. */
class ScriptedSpiDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_SPI_DEVICE_ID;
  readonly deviceFeatures = featureMask(VIRTIO_F_VERSION_1);
  readonly numQueues = 1;
  readonly configSize = VIRTIO_SPI_CONFIG_SIZE;
  readonly results: number[] = [];
  readonly #config = new SpiConfigSpace(SPI_DEFAULT_CONFIG);
  #ctx: ActivateContext | undefined;
  queueMaxSize(): number {
    return 16;
  }
  readConfig(o: number, w: 1 | 2 | 4): number {
    return this.#config.read(o, w);
  }
  writeConfig(): void {}
  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
  }
  reset(): void {
    this.#ctx = undefined;
  }
  queueNotify(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[0];
    if (!ctx || !q) return;
    let c;
    while ((c = q.pop()) !== null) {
      const w = new ChainWriter(ctx.memory, c.writable);
      w.write(new Uint8Array(c.writableLength - 1).fill(0xab));
      w.writeU8(this.results.shift() ?? 0);
      q.push(c, w.written);
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(0);
  }
}

describe.each(VARIANTS)('SPI driver conformance over $name', ({ features }) => {
  const run = async <T>(p: Promise<T>) => {
    await settle();
    return p;
  };

  it('[spi.drv.1] a half-duplex read sends head, rx_buf, result in that order', async () => {
    const t = rig({ features });
    await run(t.driver.write(0, Uint8Array.of(SPI_EEPROM_READ, 0, 5)));
    expect([...(await run(t.driver.read(0, 2, { csChange: 1 })))]).toEqual([5, 6]);
    const c = t.popped[1];
    expect([c.chain.readableLength, c.chain.readable.length]).toEqual([VIRTIO_SPI_TRANSFER_HEAD_SIZE, 1]);
    expect(c.chain.writable.map((s) => s.len)).toEqual([2, 1]);
    expect(c.chain.writable[0].addr + 2).toBe(c.chain.writable[1].addr);
    expect(decodeTransferHead(c.request).csChange).toBe(1);
  });

  it('[spi.drv.2] a half-duplex write sends head, tx_buf, result in that order', async () => {
    const t = rig({ features });
    await run(t.driver.write(0, Uint8Array.of(2, 0, 0, 9, 9), { csChange: 1 }));
    const c = t.popped[0];
    expect(c.chain.readable.map((s) => s.len)).toEqual([VIRTIO_SPI_TRANSFER_HEAD_SIZE, 5]);
    expect([...c.request.subarray(VIRTIO_SPI_TRANSFER_HEAD_SIZE)]).toEqual([2, 0, 0, 9, 9]);
    expect(c.chain.writable.map((s) => s.len)).toEqual([1]);
    expect(t.eeprom.contents[0]).toBe(9);
  });

  it('[spi.drv.3] [spi.drv.4] a full-duplex transfer sends head, tx_buf, rx_buf, result, tx and rx of one size', async () => {
    const t = rig({ features });
    const rx = await run(t.driver.exchange(0, Uint8Array.of(SPI_EEPROM_READ, 0, 7, 0, 0), { csChange: 1 }));
    expect([...rx]).toEqual([0xff, 0xff, 0xff, 7, 8]);
    const c = t.popped[0];
    expect(c.chain.readable.map((s) => s.len)).toEqual([VIRTIO_SPI_TRANSFER_HEAD_SIZE, 5]);
    expect(c.chain.writable.map((s) => s.len)).toEqual([5, 1]);
    expect(() => t.driver.transfer({ chipSelect: 0, tx: Uint8Array.of(1, 2), rxLength: 3 })).toThrow(RangeError);
    expect(t.popped).toHaveLength(1);
  });
});

describe('SPI driver against a scripted device', () => {
  it('[spi.drv.5] never uses rx_buf when the result is not VIRTIO_SPI_TRANS_OK', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const device = new ScriptedSpiDevice();
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const driver = SpiDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, 0xf0000) });
    transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
    expect(driver.config).toEqual(SPI_DEFAULT_CONFIG);
    device.results.push(VIRTIO_SPI_TRANS_ERR, VIRTIO_SPI_PARAM_ERR);
    const [a, b, c] = await Promise.allSettled([driver.read(0, 4), driver.exchange(0, Uint8Array.of(1, 2)), driver.read(0, 2), settle()]);
    expect(a.status === 'rejected' && a.reason).toEqual(new SpiTransferError(VIRTIO_SPI_TRANS_ERR));
    expect(b.status === 'rejected' && (b.reason as SpiTransferError).result).toBe(VIRTIO_SPI_PARAM_ERR);
    expect(c).toEqual({ status: 'fulfilled', value: Uint8Array.of(0xab, 0xab) });
  });
});
