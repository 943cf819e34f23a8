// Device conformance (spec 5.21.4, 5.21.6), observed byte by byte through a hand-written driver.
import { describe, expect, it } from 'vitest';
import {
  encodeTransferHead,
  SPI_DEFAULT_CONFIG,
  SPI_EEPROM_READ,
  SPI_EEPROM_WRITE,
  SpiConfigSpace,
  VIRTIO_SPI_CONFIG_BITS_PER_WORD_MASK,
  VIRTIO_SPI_CONFIG_CS_CHANGE_SUPPORTED,
  VIRTIO_SPI_CONFIG_CS_MAX_NUMBER,
  VIRTIO_SPI_CONFIG_MAX_CS_HOLD_NS,
  VIRTIO_SPI_CONFIG_MAX_CS_INACTIVE_NS,
  VIRTIO_SPI_CONFIG_MAX_CS_SETUP_NS,
  VIRTIO_SPI_CONFIG_MAX_FREQ_HZ,
  VIRTIO_SPI_CONFIG_MAX_WORD_DELAY_NS,
  VIRTIO_SPI_CONFIG_MODE_FUNC_SUPPORTED,
  VIRTIO_SPI_CONFIG_RX_NBITS_SUPPORTED,
  VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED,
  VIRTIO_SPI_CPHA,
  VIRTIO_SPI_CPOL,
  VIRTIO_SPI_CS_HIGH,
  VIRTIO_SPI_MF_SUPPORT_CPHA_0,
  VIRTIO_SPI_MF_SUPPORT_CPHA_1,
  VIRTIO_SPI_MF_SUPPORT_CPOL_1,
  VIRTIO_SPI_MF_SUPPORT_LOOPBACK,
  VIRTIO_SPI_MODE_LOOP,
  VIRTIO_SPI_MODE_LSB_FIRST,
  VIRTIO_SPI_NBITS_QUAD,
  VIRTIO_SPI_PARAM_ERR,
  VIRTIO_SPI_TRANS_ERR,
  VIRTIO_SPI_TRANS_OK,
  type SpiConfig,
  type SpiTransferHead,
} from '../src/index.js';
import { rawRig } from './harness.js';

const HEAD: SpiTransferHead = {
  chipSelectId: 0, bitsPerWord: 8, csChange: 0, txNbits: 0, rxNbits: 0, mode: 0, freq: 1_000_000,
  wordDelayNs: 0, csSetupNs: 0, csDelayHoldNs: 0, csChangeDelayInactiveNs: 0,
};
const head = (h: Partial<SpiTransferHead> = {}) => encodeTransferHead({ ...HEAD, ...h });

const RICH: SpiConfig = {
  csMaxNumber: 2,
  csChangeSupported: false,
  txNbitsSupported: VIRTIO_SPI_NBITS_QUAD,
  rxNbitsSupported: 0,
  bitsPerWordMask: (1 << 7) | (1 << 15),
  modeFuncSupported: VIRTIO_SPI_MF_SUPPORT_CPHA_0 | VIRTIO_SPI_MF_SUPPORT_CPHA_1 | VIRTIO_SPI_MF_SUPPORT_CPOL_1 | VIRTIO_SPI_MF_SUPPORT_LOOPBACK,
  maxFreqHz: 10_000_000,
  maxWordDelayNs: 100,
  maxCsSetupNs: 200,
  maxCsHoldNs: 0,
  maxCsInactiveNs: 400,
};

describe('SPI configuration', () => {
  it('[spi.dev.1] every field of struct virtio_spi_config is set before the driver reads it', () => {
    const t = rawRig({ device: { config: RICH } });
    const r = (o: number, w: 1 | 4) => t.transport.readConfig(o, w);
    expect([
      r(VIRTIO_SPI_CONFIG_CS_MAX_NUMBER, 1), r(VIRTIO_SPI_CONFIG_CS_CHANGE_SUPPORTED, 1), r(VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED, 1),
      r(VIRTIO_SPI_CONFIG_RX_NBITS_SUPPORTED, 1), r(VIRTIO_SPI_CONFIG_BITS_PER_WORD_MASK, 4), r(VIRTIO_SPI_CONFIG_MODE_FUNC_SUPPORTED, 4),
      r(VIRTIO_SPI_CONFIG_MAX_FREQ_HZ, 4), r(VIRTIO_SPI_CONFIG_MAX_WORD_DELAY_NS, 4), r(VIRTIO_SPI_CONFIG_MAX_CS_SETUP_NS, 4),
      r(VIRTIO_SPI_CONFIG_MAX_CS_HOLD_NS, 4), r(VIRTIO_SPI_CONFIG_MAX_CS_INACTIVE_NS, 4),
    ]).toEqual([2, 0, VIRTIO_SPI_NBITS_QUAD, 0, 0x8080, RICH.modeFuncSupported, 10_000_000, 100, 200, 0, 400]);
    // The default configuration is complete too, and a configuration the spec forbids is refused.
    expect(new SpiConfigSpace(SPI_DEFAULT_CONFIG).read(VIRTIO_SPI_CONFIG_CS_MAX_NUMBER, 1)).toBe(4);
    expect(() => new SpiConfigSpace({ ...RICH, modeFuncSupported: VIRTIO_SPI_MF_SUPPORT_CPHA_0 })).toThrow(RangeError);
    expect(() => new SpiConfigSpace({ ...RICH, txNbitsSupported: 8 })).toThrow(RangeError);
    expect(() => new SpiConfigSpace({ ...RICH, csMaxNumber: 0 })).toThrow(RangeError);
  });
});

describe('SPI requestq (device)', () => {
  it('[spi.dev.2] never changes tx_buf, on success and on failure', () => {
    const t = rawRig();
    const data = [SPI_EEPROM_WRITE, 0, 0x10, 1, 2, 3];
    const ok = t.put(data);
    const bad = t.put(data);
    const duplex = t.put(data);
    t.add([t.put(head()), ok], [t.room(1)], 'write');
    t.add([t.put(head({ chipSelectId: 3 })), bad], [t.room(1)], 'bad chip select');
    t.add([t.put(head()), duplex], [t.room(6), t.room(1)], 'full duplex');
    t.kick();
    expect(t.used().map((u) => u.token)).toEqual(['write', 'bad chip select', 'full duplex']);
    expect([t.bytes(ok), t.bytes(bad), t.bytes(duplex)]).toEqual([data, data, data]);
    expect([...t.eeprom.contents.subarray(0x10, 0x13)]).toEqual([1, 2, 3]);
  });

  it('[spi.dev.3] checks every parameter of the head against the configuration: VIRTIO_SPI_PARAM_ERR when one is not valid or not supported', () => {
    const t = rawRig({ device: { config: RICH } });
    const bad: [string, Partial<SpiTransferHead>][] = [
      ['chip select out of range', { chipSelectId: 2 }],
      ['bits_per_word 0', { bitsPerWord: 0 }],
      ['bits_per_word 33', { bitsPerWord: 33 }],
      ['bits_per_word not in the mask', { bitsPerWord: 12 }],
      ['cs_change unsupported', { csChange: 1 }],
      ['cs_change 2', { csChange: 2 }],
      ['tx_nbits 3', { txNbits: 3 }],
      ['tx_nbits DUAL unsupported', { txNbits: 2 }],
      ['rx_nbits QUAD unsupported', { rxNbits: 4 }],
      ['CPOL 0 unsupported', { mode: 0 }],
      ['CS_HIGH unsupported', { mode: VIRTIO_SPI_CPOL | VIRTIO_SPI_CS_HIGH }],
      ['LSB_FIRST unsupported', { mode: VIRTIO_SPI_CPOL | VIRTIO_SPI_MODE_LSB_FIRST }],
      ['undefined mode bit', { mode: VIRTIO_SPI_CPOL | 0x20 }],
      ['freq above max', { mode: VIRTIO_SPI_CPOL, freq: 10_000_001 }],
      ['word delay above max', { mode: VIRTIO_SPI_CPOL, wordDelayNs: 101 }],
      ['cs setup above max', { mode: VIRTIO_SPI_CPOL, csSetupNs: 201 }],
      ['cs hold unsupported', { mode: VIRTIO_SPI_CPOL, csDelayHoldNs: 1 }],
      ['cs inactive above max', { mode: VIRTIO_SPI_CPOL, csChangeDelayInactiveNs: 401 }],
      ['odd length with 16-bit words', { mode: VIRTIO_SPI_CPOL, bitsPerWord: 16 }],
    ];
    const good: [string, Partial<SpiTransferHead>][] = [
      ['baseline', { mode: VIRTIO_SPI_CPOL }],
      ['both CPHA', { mode: VIRTIO_SPI_CPOL | VIRTIO_SPI_CPHA, txNbits: 4, rxNbits: 1 }],
      ['limits', { mode: VIRTIO_SPI_CPOL | VIRTIO_SPI_MODE_LOOP, chipSelectId: 1, freq: 10_000_000, wordDelayNs: 100, csSetupNs: 200, csChangeDelayInactiveNs: 400 }],
    ];
    const used: string[] = [];
    const results = [...bad, ...good].map(([name, h]) => {
      const r = t.room(1);
      t.add([t.put(head(h)), t.put([1, 2, 3])], [r], name);
      t.kick();
      used.push(...t.used().map((u) => u.token));
      return r;
    });
    expect(used).toEqual([...bad, ...good].map(([n]) => n));
    const got = results.map((r) => t.bytes(r)[0]);
    expect(got.slice(0, bad.length)).toEqual(new Array(bad.length).fill(VIRTIO_SPI_PARAM_ERR));
    // Valid heads pass the check: chip select 0 holds the EEPROM (OK), chip select 1 loops back.
    expect(got.slice(bad.length)).toEqual([VIRTIO_SPI_TRANS_OK, VIRTIO_SPI_TRANS_OK, VIRTIO_SPI_TRANS_OK]);
    expect(t.device.stats.paramErr).toBe(bad.length);
  });

  it('[spi.dev.4] a full-duplex transfer with tx_buf and rx_buf of different sizes gets VIRTIO_SPI_PARAM_ERR', () => {
    const t = rawRig();
    const rx = t.room(4);
    const r1 = t.room(1);
    const r2 = t.room(1);
    t.add([t.put(head()), t.put([SPI_EEPROM_READ, 0, 0])], [rx, r1], 'tx 3, rx 4');
    t.add([t.put(head()), t.put([SPI_EEPROM_READ, 0, 0, 0xff])], [t.room(4), r2], 'tx 4, rx 4');
    t.kick();
    expect([t.bytes(r1)[0], t.bytes(r2)[0]]).toEqual([VIRTIO_SPI_PARAM_ERR, VIRTIO_SPI_TRANS_OK]);
    expect(t.bytes(rx)).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it('half-duplex read, write and full duplex with the EEPROM; rx_buf exactly filled; a failing peripheral gets VIRTIO_SPI_TRANS_ERR', () => {
    const t = rawRig();
    const rx = t.room(3);
    const res = t.room(1);
    // One command across transfers while chip select stays asserted: READ 0x0020, then 3 bytes.
    t.add([t.put(head()), t.put([SPI_EEPROM_READ, 0, 0x20])], [t.room(1)], 'command');
    t.add([t.put(head({ csChange: 1 }))], [rx, res], 'read');
    const duplexRx = t.room(5);
    t.add([t.put(head({ csChange: 1 })), t.put([SPI_EEPROM_READ, 0, 0x30, 0, 0])], [duplexRx, t.room(1)], 'duplex');
    const missing = t.room(1);
    t.add([t.put(head({ chipSelectId: 1 })), t.put([1])], [missing], 'nobody at chip select 1');
    t.kick();
    expect(t.used()).toEqual([
      { token: 'command', len: 1 },
      { token: 'read', len: 4 },
      { token: 'duplex', len: 6 },
      { token: 'nobody at chip select 1', len: 1 },
    ]);
    expect(t.bytes(rx)).toEqual([0x20, 0x21, 0x22]);
    expect(t.bytes(res)).toEqual([VIRTIO_SPI_TRANS_OK]);
    expect(t.bytes(duplexRx)).toEqual([0xff, 0xff, 0xff, 0x30, 0x31]);
    expect(t.bytes(missing)).toEqual([VIRTIO_SPI_TRANS_ERR]);
  });
});
