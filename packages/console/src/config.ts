/**
 * struct virtio_console_config (spec 5.3.4), read and written by offset and width:
 *   0: le16 cols   2: le16 rows   4: le32 max_nr_ports   8: le32 emerg_wr (write-only)
 */

export const CONSOLE_CONFIG_COLS = 0;
export const CONSOLE_CONFIG_ROWS = 2;
export const CONSOLE_CONFIG_MAX_NR_PORTS = 4;
export const CONSOLE_CONFIG_EMERG_WR = 8;
/** Size of struct virtio_console_config, in bytes. */
export const CONSOLE_CONFIG_SIZE = 12;

export class ConsoleConfigSpace {
  cols = 0;
  rows = 0;
  readonly #dv = new DataView(new ArrayBuffer(CONSOLE_CONFIG_SIZE));

  constructor(readonly maxNrPorts: number) {}

  /** Reads `width` bytes at `offset` (inside the space), little-endian. `emerg_wr` reads as 0. */
  read(offset: number, width: 1 | 2 | 4): number {
    const dv = this.#dv;
    dv.setUint16(CONSOLE_CONFIG_COLS, this.cols, true);
    dv.setUint16(CONSOLE_CONFIG_ROWS, this.rows, true);
    dv.setUint32(CONSOLE_CONFIG_MAX_NR_PORTS, this.maxNrPorts, true);
    dv.setUint32(CONSOLE_CONFIG_EMERG_WR, 0, true);
    if (width === 1) return dv.getUint8(offset);
    if (width === 2) return dv.getUint16(offset, true);
    return dv.getUint32(offset, true);
  }

  /**
   * A driver write. Only `emerg_wr` is writable: a write of any width starting at its offset
   * yields the lower byte written (spec 5.3.5.1); everything else is read-only.
   * @returns the emergency byte, or -1 when the write was not to `emerg_wr`
   */
  write(offset: number, value: number): number {
    return offset === CONSOLE_CONFIG_EMERG_WR ? value & 0xff : -1;
  }
}
