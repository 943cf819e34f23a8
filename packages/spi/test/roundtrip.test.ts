// Our SpiDriver against our SpiDevice and a simulated bus, over every ring layout.
import { describe, expect, it } from 'vitest';
import { SPI_EEPROM_RDSR, SPI_EEPROM_READ, SPI_EEPROM_WRITE, SpiDriverError, SpiTransferError, VIRTIO_SPI_PARAM_ERR } from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

const done = async <T>(p: Promise<T>): Promise<T> => {
  for (let i = 0; i < 4; i++) await settle();
  return p;
};

describe.each(VARIANTS)('SPI round trip over $name', ({ features }) => {
  it('writes and reads the EEPROM with command transfers and chip select held between them', async () => {
    const t = rig({ features });
    await done(t.driver.write(0, Uint8Array.of(SPI_EEPROM_WRITE, 0x01, 0x00, 0xca, 0xfe), { csChange: 1 }));
    expect([...t.eeprom.contents.subarray(0x100, 0x102)]).toEqual([0xca, 0xfe]);
    await done(t.driver.write(0, Uint8Array.of(SPI_EEPROM_READ, 0x01, 0x00)));
    expect([...(await done(t.driver.read(0, 3, { csChange: 1 })))]).toEqual([0xca, 0xfe, 0x02]);
    expect([...(await done(t.driver.exchange(0, Uint8Array.of(SPI_EEPROM_RDSR, 0xff), { csChange: 1 })))]).toEqual([0xff, 0]);
  });

  it('many concurrent transfers complete in order; a transfer the controller does not support is refused', async () => {
    const t = rig({ features, driver: { queueSize: 8 } });
    const writes = Array.from({ length: 20 }, (_, i) => t.driver.write(0, Uint8Array.of(SPI_EEPROM_WRITE, 0, i, i + 100), { csChange: 1 }));
    await done(Promise.all(writes));
    expect([...t.eeprom.contents.subarray(0, 20)]).toEqual(Array.from({ length: 20 }, (_, i) => i + 100));
    const [r] = await Promise.allSettled([t.driver.write(0, Uint8Array.of(1), { mode: 1 }), done(Promise.resolve())]);
    expect(r.status === 'rejected' && (r.reason as SpiTransferError).result).toBe(VIRTIO_SPI_PARAM_ERR);
  });

  it('reset rejects pending transfers', async () => {
    const t = rig({ features });
    const p = t.driver.read(0, 1);
    t.driver.reset();
    await expect(p).rejects.toThrow(SpiDriverError);
  });
});
