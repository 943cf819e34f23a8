/** The SPI controller's capabilities: struct virtio_spi_config (spec 5.21.4). */
import {
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
  VIRTIO_SPI_CONFIG_SIZE,
  VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED,
  VIRTIO_SPI_MF_SUPPORT_CPHA_0,
  VIRTIO_SPI_MF_SUPPORT_CPHA_1,
  VIRTIO_SPI_MF_SUPPORT_CPOL_0,
  VIRTIO_SPI_MF_SUPPORT_CPOL_1,
  VIRTIO_SPI_NBITS_DUAL,
  VIRTIO_SPI_NBITS_OCTAL,
  VIRTIO_SPI_NBITS_QUAD,
} from './protocol.js';

/** struct virtio_spi_config, field by field (times in ns, frequency in Hz). */
export interface SpiConfig {
  /** Number of chip selects, 1..255. */
  readonly csMaxNumber: number;
  /** Whether cs_change = 1 (toggle chip select after a transfer) is supported. */
  readonly csChangeSupported: boolean;
  /** VIRTIO_SPI_NBITS_DUAL | _QUAD | _OCTAL supported for writing (SINGLE always is). */
  readonly txNbitsSupported: number;
  /** The same for reading. */
  readonly rxNbitsSupported: number;
  /** Bit n set: bits_per_word n+1 supported; 0: any. */
  readonly bitsPerWordMask: number;
  /** VIRTIO_SPI_MF_SUPPORT_* bits; at least one CPHA and one CPOL setting. */
  readonly modeFuncSupported: number;
  /** Highest clock rate, Hz; 0: no limit. */
  readonly maxFreqHz: number;
  /** Longest word delay, ns; 0: word delays unsupported. */
  readonly maxWordDelayNs: number;
  /** Longest delay after chip select assertion, ns; 0: unsupported. */
  readonly maxCsSetupNs: number;
  /** Longest delay before chip select deassertion, ns; 0: unsupported. */
  readonly maxCsHoldNs: number;
  /** Longest delay after chip select deassertion, ns; 0: unsupported. */
  readonly maxCsInactiveNs: number;
}

/** A plain controller: 4 chip selects, SINGLE only, 8-bit words, mode 0 only, no delays, no clock limit. */
export const SPI_DEFAULT_CONFIG: SpiConfig = {
  csMaxNumber: 4,
  csChangeSupported: true,
  txNbitsSupported: 0,
  rxNbitsSupported: 0,
  bitsPerWordMask: 1 << 7,
  modeFuncSupported: VIRTIO_SPI_MF_SUPPORT_CPHA_0 | VIRTIO_SPI_MF_SUPPORT_CPOL_0,
  maxFreqHz: 0,
  maxWordDelayNs: 0,
  maxCsSetupNs: 0,
  maxCsHoldNs: 0,
  maxCsInactiveNs: 0,
};

const NBITS = VIRTIO_SPI_NBITS_DUAL | VIRTIO_SPI_NBITS_QUAD | VIRTIO_SPI_NBITS_OCTAL;
const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** @throws RangeError for a configuration the spec does not allow (reserved bits, no CPHA/CPOL setting, fields out of range) */
export function validateSpiConfig(c: SpiConfig): void {
  if (!Number.isInteger(c.csMaxNumber) || c.csMaxNumber < 1 || c.csMaxNumber > 0xff) throw new RangeError(`spi: csMaxNumber ${c.csMaxNumber} outside 1..255`);
  for (const [name, v] of [['txNbitsSupported', c.txNbitsSupported], ['rxNbitsSupported', c.rxNbitsSupported]] as const) {
    if (!Number.isInteger(v) || (v & ~NBITS) !== 0) throw new RangeError(`spi: ${name} 0x${v.toString(16)} sets reserved bits`);
  }
  const mf = c.modeFuncSupported;
  if (!u32(mf) || mf > 0x7f) throw new RangeError(`spi: modeFuncSupported 0x${mf.toString(16)} sets reserved bits`);
  if ((mf & (VIRTIO_SPI_MF_SUPPORT_CPHA_0 | VIRTIO_SPI_MF_SUPPORT_CPHA_1)) === 0) throw new RangeError('spi: modeFuncSupported supports no CPHA setting');
  if ((mf & (VIRTIO_SPI_MF_SUPPORT_CPOL_0 | VIRTIO_SPI_MF_SUPPORT_CPOL_1)) === 0) throw new RangeError('spi: modeFuncSupported supports no CPOL setting');
  for (const v of [c.bitsPerWordMask, c.maxFreqHz, c.maxWordDelayNs, c.maxCsSetupNs, c.maxCsHoldNs, c.maxCsInactiveNs]) {
    if (!u32(v)) throw new RangeError(`spi: configuration value ${v} is not a le32`);
  }
}

/** The read-only configuration space, every field set at construction ([spi.dev.1]). */
export class SpiConfigSpace {
  readonly #view = new DataView(new ArrayBuffer(VIRTIO_SPI_CONFIG_SIZE));

  /** @throws RangeError from {@link validateSpiConfig} */
  constructor(c: SpiConfig) {
    validateSpiConfig(c);
    const v = this.#view;
    v.setUint8(VIRTIO_SPI_CONFIG_CS_MAX_NUMBER, c.csMaxNumber);
    v.setUint8(VIRTIO_SPI_CONFIG_CS_CHANGE_SUPPORTED, c.csChangeSupported ? 1 : 0);
    v.setUint8(VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED, c.txNbitsSupported);
    v.setUint8(VIRTIO_SPI_CONFIG_RX_NBITS_SUPPORTED, c.rxNbitsSupported);
    v.setUint32(VIRTIO_SPI_CONFIG_BITS_PER_WORD_MASK, c.bitsPerWordMask, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MODE_FUNC_SUPPORTED, c.modeFuncSupported, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MAX_FREQ_HZ, c.maxFreqHz, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MAX_WORD_DELAY_NS, c.maxWordDelayNs, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MAX_CS_SETUP_NS, c.maxCsSetupNs, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MAX_CS_HOLD_NS, c.maxCsHoldNs, true);
    v.setUint32(VIRTIO_SPI_CONFIG_MAX_CS_INACTIVE_NS, c.maxCsInactiveNs, true);
  }

  /** Reads `width` bytes at `offset` (offset + width <= 32), little-endian. */
  read(offset: number, width: 1 | 2 | 4): number {
    const v = this.#view;
    return width === 1 ? v.getUint8(offset) : width === 2 ? v.getUint16(offset, true) : v.getUint32(offset, true);
  }
}

/** Decodes struct virtio_spi_config from a reader of its fields (the driver side). */
export function readSpiConfig(r: { u8(o: number): number; u32(o: number): number }): SpiConfig {
  return {
    csMaxNumber: r.u8(VIRTIO_SPI_CONFIG_CS_MAX_NUMBER),
    csChangeSupported: r.u8(VIRTIO_SPI_CONFIG_CS_CHANGE_SUPPORTED) !== 0,
    txNbitsSupported: r.u8(VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED),
    rxNbitsSupported: r.u8(VIRTIO_SPI_CONFIG_RX_NBITS_SUPPORTED),
    bitsPerWordMask: r.u32(VIRTIO_SPI_CONFIG_BITS_PER_WORD_MASK),
    modeFuncSupported: r.u32(VIRTIO_SPI_CONFIG_MODE_FUNC_SUPPORTED),
    maxFreqHz: r.u32(VIRTIO_SPI_CONFIG_MAX_FREQ_HZ),
    maxWordDelayNs: r.u32(VIRTIO_SPI_CONFIG_MAX_WORD_DELAY_NS),
    maxCsSetupNs: r.u32(VIRTIO_SPI_CONFIG_MAX_CS_SETUP_NS),
    maxCsHoldNs: r.u32(VIRTIO_SPI_CONFIG_MAX_CS_HOLD_NS),
    maxCsInactiveNs: r.u32(VIRTIO_SPI_CONFIG_MAX_CS_INACTIVE_NS),
  };
}
