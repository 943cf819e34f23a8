/** Standard PCI configuration header offsets. */
export const PCI_CFG = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION: 0x08,
  CLASS_PROG: 0x09,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  CAPABILITIES: 0x34,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
} as const;
export const COMMAND_IO = 0x1;
export const COMMAND_MEMORY = 0x2;
export const COMMAND_MASTER = 0x4;

/**
 * A 256-byte type-0 configuration space with a per-byte write mask: bytes whose mask is 0
 * are read-only. Out-of-range or misaligned accesses read as all ones and write nothing.
 */
export class ConfigSpace {
  readonly bytes = new Uint8Array(256);
  readonly writable = new Uint8Array(256);

  read(offset: number, width: number): number {
    if (!aligned(offset, width) || offset + width > 256) return width === 4 ? 0xffffffff : (1 << (width * 8)) - 1;
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.bytes[offset + i];
    return v;
  }

  write(offset: number, width: number, value: number): void {
    if (!aligned(offset, width) || offset + width > 256) return;
    for (let i = 0; i < width; i++) {
      const m = this.writable[offset + i];
      const b = (value >>> (8 * i)) & 0xff;
      this.bytes[offset + i] = (this.bytes[offset + i] & ~m) | (b & m);
    }
  }

  /** Sets a read-only field (setup time). */
  set(offset: number, width: number, value: number): void {
    for (let i = 0; i < width; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }
}

function aligned(offset: number, width: number): boolean {
  return (width === 1 || width === 2 || width === 4) && offset >= 0 && offset % width === 0;
}
