import { buffer, concat } from './aml.js';

/**
 * ACPI resource descriptors (ACPI 6.5 section 6.4) for _CRS buffers. Each returns the
 * descriptor's bytes; `resourceTemplate` appends the End Tag and wraps them in a Buffer.
 */

/** ResourceTemplate() { descriptors } — a Buffer ending with the End Tag (0x79, checksum 0). */
export function resourceTemplate(...descriptors: Uint8Array[]): Uint8Array {
  return buffer(concat(...descriptors, Uint8Array.of(0x79, 0x00)));
}

/** Memory32Fixed(ReadWrite|ReadOnly, base, length): large item 0x86, 12 bytes. */
export function memory32Fixed(base: number, length: number, writable = true): Uint8Array {
  const out = new Uint8Array(12);
  const dv = new DataView(out.buffer);
  out[0] = 0x86;
  dv.setUint16(1, 9, true);
  out[3] = writable ? 1 : 0;
  dv.setUint32(4, base, true);
  dv.setUint32(8, length, true);
  return out;
}

/** Options of an Extended Interrupt descriptor. */
export interface InterruptOptions {
  readonly edge: boolean;
  readonly activeLow: boolean;
  readonly shared: boolean;
}

/** Interrupt(ResourceConsumer, edge/level, high/low, shared/exclusive) { gsi }: large item 0x89. */
export function extendedInterrupt(gsi: number, opts: InterruptOptions): Uint8Array {
  const out = new Uint8Array(9);
  const dv = new DataView(out.buffer);
  out[0] = 0x89;
  dv.setUint16(1, 6, true);
  out[3] = 0x01 | (opts.edge ? 0x02 : 0) | (opts.activeLow ? 0x04 : 0) | (opts.shared ? 0x08 : 0);
  out[4] = 1;
  dv.setUint32(5, gsi, true);
  return out;
}

/** IRQNoFlags() { irq }: small item 0x22, an edge-triggered, active-high ISA IRQ (0-15). */
export function irqNoFlags(irq: number): Uint8Array {
  if (!(irq >= 0 && irq < 16)) throw new RangeError(`ISA IRQ ${irq} out of range`);
  return Uint8Array.of(0x22, (1 << irq) & 0xff, (1 << irq) >> 8);
}

/** IO(Decode16, min, max, alignment, length): small item 0x47, 8 bytes. */
export function io(min: number, max: number, alignment: number, length: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  out[0] = 0x47;
  out[1] = 1;
  dv.setUint16(2, min, true);
  dv.setUint16(4, max, true);
  out[6] = alignment;
  out[7] = length;
  return out;
}

/** Resource types of the address space descriptors. */
export const ADDRESS_MEMORY = 0;
export const ADDRESS_IO = 1;
export const ADDRESS_BUS = 2;

/**
 * A Word (16-bit, item 0x88) or DWord (32-bit, item 0x87) address space descriptor produced
 * by a bridge: MinFixed, MaxFixed, PosDecode, ResourceProducer; translation 0.
 * typeFlags: for memory bit0 = ReadWrite, bits 1-2 cacheability; for I/O 3 = EntireRange.
 */
export function addressSpace(kind: 'word' | 'dword', resourceType: number, typeFlags: number, min: number, max: number): Uint8Array {
  const size = kind === 'word' ? 2 : 4;
  const out = new Uint8Array(6 + 5 * size);
  const dv = new DataView(out.buffer);
  out[0] = kind === 'word' ? 0x88 : 0x87;
  dv.setUint16(1, out.length - 3, true);
  out[3] = resourceType;
  out[4] = 0x0c; // MaxFixed | MinFixed, PosDecode, producer
  out[5] = typeFlags;
  const put = (i: number, v: number) => (size === 2 ? dv.setUint16(6 + i * 2, v, true) : dv.setUint32(6 + i * 4, v, true));
  put(0, 0); // granularity
  put(1, min);
  put(2, max);
  put(3, 0); // translation offset
  put(4, max - min + 1);
  return out;
}
