/** struct virtio_spi_transfer_head (spec 5.21.6.1): encoding, decoding and the device's parameter check. */
import type { SpiConfig } from './config.js';
import {
  VIRTIO_SPI_CPHA,
  VIRTIO_SPI_CPOL,
  VIRTIO_SPI_CS_HIGH,
  VIRTIO_SPI_HEAD_BITS_PER_WORD,
  VIRTIO_SPI_HEAD_CHIP_SELECT_ID,
  VIRTIO_SPI_HEAD_CS_CHANGE,
  VIRTIO_SPI_HEAD_CS_CHANGE_DELAY_INACTIVE_NS,
  VIRTIO_SPI_HEAD_CS_DELAY_HOLD_NS,
  VIRTIO_SPI_HEAD_CS_SETUP_NS,
  VIRTIO_SPI_HEAD_FREQ,
  VIRTIO_SPI_HEAD_MODE,
  VIRTIO_SPI_HEAD_RX_NBITS,
  VIRTIO_SPI_HEAD_TX_NBITS,
  VIRTIO_SPI_HEAD_WORD_DELAY_NS,
  VIRTIO_SPI_MF_SUPPORT_CPHA_0,
  VIRTIO_SPI_MF_SUPPORT_CPHA_1,
  VIRTIO_SPI_MF_SUPPORT_CPOL_0,
  VIRTIO_SPI_MF_SUPPORT_CPOL_1,
  VIRTIO_SPI_MF_SUPPORT_CS_HIGH,
  VIRTIO_SPI_MF_SUPPORT_LOOPBACK,
  VIRTIO_SPI_MF_SUPPORT_LSB_FIRST,
  VIRTIO_SPI_MODE_LOOP,
  VIRTIO_SPI_MODE_LSB_FIRST,
  VIRTIO_SPI_NBITS_DUAL,
  VIRTIO_SPI_NBITS_OCTAL,
  VIRTIO_SPI_NBITS_QUAD,
  VIRTIO_SPI_TRANSFER_HEAD_SIZE,
} from './protocol.js';

/** The transfer parameters, field by field (times in ns, frequency in Hz). */
export interface SpiTransferHead {
  readonly chipSelectId: number;
  readonly bitsPerWord: number;
  /** 1: deassert chip select after this transfer (then assert it again for the next). */
  readonly csChange: number;
  /** 0 or 1: SINGLE; 2: DUAL; 4: QUAD; 8: OCTAL. */
  readonly txNbits: number;
  readonly rxNbits: number;
  /** VIRTIO_SPI_CPHA | _CPOL | _CS_HIGH | _MODE_LSB_FIRST | _MODE_LOOP. */
  readonly mode: number;
  readonly freq: number;
  readonly wordDelayNs: number;
  readonly csSetupNs: number;
  readonly csDelayHoldNs: number;
  readonly csChangeDelayInactiveNs: number;
}

/** Writes `h` as a 32-byte struct virtio_spi_transfer_head (reserved bytes zero). */
export function encodeTransferHead(h: SpiTransferHead): Uint8Array {
  const b = new Uint8Array(VIRTIO_SPI_TRANSFER_HEAD_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(VIRTIO_SPI_HEAD_CHIP_SELECT_ID, h.chipSelectId);
  v.setUint8(VIRTIO_SPI_HEAD_BITS_PER_WORD, h.bitsPerWord);
  v.setUint8(VIRTIO_SPI_HEAD_CS_CHANGE, h.csChange);
  v.setUint8(VIRTIO_SPI_HEAD_TX_NBITS, h.txNbits);
  v.setUint8(VIRTIO_SPI_HEAD_RX_NBITS, h.rxNbits);
  v.setUint32(VIRTIO_SPI_HEAD_MODE, h.mode, true);
  v.setUint32(VIRTIO_SPI_HEAD_FREQ, h.freq, true);
  v.setUint32(VIRTIO_SPI_HEAD_WORD_DELAY_NS, h.wordDelayNs, true);
  v.setUint32(VIRTIO_SPI_HEAD_CS_SETUP_NS, h.csSetupNs, true);
  v.setUint32(VIRTIO_SPI_HEAD_CS_DELAY_HOLD_NS, h.csDelayHoldNs, true);
  v.setUint32(VIRTIO_SPI_HEAD_CS_CHANGE_DELAY_INACTIVE_NS, h.csChangeDelayInactiveNs, true);
  return b;
}

/** Reads a 32-byte struct virtio_spi_transfer_head. */
export function decodeTransferHead(b: Uint8Array): SpiTransferHead {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    chipSelectId: v.getUint8(VIRTIO_SPI_HEAD_CHIP_SELECT_ID),
    bitsPerWord: v.getUint8(VIRTIO_SPI_HEAD_BITS_PER_WORD),
    csChange: v.getUint8(VIRTIO_SPI_HEAD_CS_CHANGE),
    txNbits: v.getUint8(VIRTIO_SPI_HEAD_TX_NBITS),
    rxNbits: v.getUint8(VIRTIO_SPI_HEAD_RX_NBITS),
    mode: v.getUint32(VIRTIO_SPI_HEAD_MODE, true),
    freq: v.getUint32(VIRTIO_SPI_HEAD_FREQ, true),
    wordDelayNs: v.getUint32(VIRTIO_SPI_HEAD_WORD_DELAY_NS, true),
    csSetupNs: v.getUint32(VIRTIO_SPI_HEAD_CS_SETUP_NS, true),
    csDelayHoldNs: v.getUint32(VIRTIO_SPI_HEAD_CS_DELAY_HOLD_NS, true),
    csChangeDelayInactiveNs: v.getUint32(VIRTIO_SPI_HEAD_CS_CHANGE_DELAY_INACTIVE_NS, true),
  };
}

/** Bytes per word on the wire for `bitsPerWord` (1..32): 1, 2 or 4. */
export const bytesPerWord = (bitsPerWord: number): number => (bitsPerWord <= 8 ? 1 : bitsPerWord <= 16 ? 2 : 4);

const nbitsOk = (n: number, supported: number) =>
  n === 0 || n === 1 || (n === 2 && (supported & VIRTIO_SPI_NBITS_DUAL) !== 0) || (n === 4 && (supported & VIRTIO_SPI_NBITS_QUAD) !== 0) || (n === 8 && (supported & VIRTIO_SPI_NBITS_OCTAL) !== 0);

const MODE_BITS = VIRTIO_SPI_CPHA | VIRTIO_SPI_CPOL | VIRTIO_SPI_CS_HIGH | VIRTIO_SPI_MODE_LSB_FIRST | VIRTIO_SPI_MODE_LOOP;

/**
 * Why a transfer's parameters are invalid for a controller `c` (spec 5.21.6.1,
 * VIRTIO_SPI_PARAM_ERR), or null when they are valid. `txLen` / `rxLen` are the buffer sizes in
 * bytes (0 when absent); a full-duplex transfer needs them equal.
 */
export function checkTransfer(c: SpiConfig, h: SpiTransferHead, txLen: number, rxLen: number): string | null {
  if (h.chipSelectId >= c.csMaxNumber) return `chip select ${h.chipSelectId} >= cs_max_number ${c.csMaxNumber}`;
  const bpw = h.bitsPerWord;
  if (bpw < 1 || bpw > 32) return `bits_per_word ${bpw}`;
  if (c.bitsPerWordMask !== 0 && (c.bitsPerWordMask & (1 << (bpw - 1))) === 0) return `bits_per_word ${bpw} not in the mask`;
  if (h.csChange > 1 || (h.csChange === 1 && !c.csChangeSupported)) return `cs_change ${h.csChange}`;
  if (!nbitsOk(h.txNbits, c.txNbitsSupported)) return `tx_nbits ${h.txNbits}`;
  if (!nbitsOk(h.rxNbits, c.rxNbitsSupported)) return `rx_nbits ${h.rxNbits}`;
  const m = h.mode;
  const mf = c.modeFuncSupported;
  if ((m & ~MODE_BITS) !== 0) return `mode 0x${m.toString(16)} sets undefined bits`;
  if ((mf & (m & VIRTIO_SPI_CPHA ? VIRTIO_SPI_MF_SUPPORT_CPHA_1 : VIRTIO_SPI_MF_SUPPORT_CPHA_0)) === 0) return 'CPHA setting unsupported';
  if ((mf & (m & VIRTIO_SPI_CPOL ? VIRTIO_SPI_MF_SUPPORT_CPOL_1 : VIRTIO_SPI_MF_SUPPORT_CPOL_0)) === 0) return 'CPOL setting unsupported';
  if (m & VIRTIO_SPI_CS_HIGH && !(mf & VIRTIO_SPI_MF_SUPPORT_CS_HIGH)) return 'CS_HIGH unsupported';
  if (m & VIRTIO_SPI_MODE_LSB_FIRST && !(mf & VIRTIO_SPI_MF_SUPPORT_LSB_FIRST)) return 'LSB_FIRST unsupported';
  if (m & VIRTIO_SPI_MODE_LOOP && !(mf & VIRTIO_SPI_MF_SUPPORT_LOOPBACK)) return 'LOOP unsupported';
  if (c.maxFreqHz !== 0 && h.freq > c.maxFreqHz) return `freq ${h.freq} > max_freq_hz ${c.maxFreqHz}`;
  if (h.wordDelayNs > c.maxWordDelayNs) return `word_delay_ns ${h.wordDelayNs} > ${c.maxWordDelayNs}`;
  if (h.csSetupNs > c.maxCsSetupNs) return `cs_setup_ns ${h.csSetupNs} > ${c.maxCsSetupNs}`;
  if (h.csDelayHoldNs > c.maxCsHoldNs) return `cs_delay_hold_ns ${h.csDelayHoldNs} > ${c.maxCsHoldNs}`;
  if (h.csChangeDelayInactiveNs > c.maxCsInactiveNs) return `cs_change_delay_inactive_ns ${h.csChangeDelayInactiveNs} > ${c.maxCsInactiveNs}`;
  if (txLen > 0 && rxLen > 0 && txLen !== rxLen) return `full-duplex tx_buf ${txLen} and rx_buf ${rxLen} bytes differ`;
  const word = bytesPerWord(bpw);
  if (txLen % word !== 0 || rxLen % word !== 0) return `buffer not a whole number of ${word}-byte words`;
  return null;
}
