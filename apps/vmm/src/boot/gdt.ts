/**
 * The boot GDT for the 64-bit boot protocol: the kernel requires __BOOT_CS = 0x10 and
 * __BOOT_DS = 0x18. Entries: 0 null, 1 null, 2 flat 64-bit code, 3 flat data, 4 a 32-bit TSS
 * (base 0, present; only so TR holds a valid descriptor).
 */
export const GDT_ENTRIES: readonly bigint[] = [
  0n,
  0n,
  0x00af9b000000ffffn, // code: present, DPL0, exec/read, accessed, L=1, G=1
  0x00cf93000000ffffn, // data: present, DPL0, read/write, accessed, D/B=1, G=1
  0x00808b0000000067n, // TSS: present, 32-bit busy TSS, limit 0x67
];
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
export const BOOT_TSS = 0x20;

/** The GDT's bytes (8 per entry, little-endian). */
export function gdtBytes(): Uint8Array {
  const bytes = new Uint8Array(GDT_ENTRIES.length * 8);
  const dv = new DataView(bytes.buffer);
  GDT_ENTRIES.forEach((e, i) => dv.setBigUint64(i * 8, e, true));
  return bytes;
}

/** A kvm_segment's fields, decoded from a GDT descriptor (what KVM_SET_SREGS wants). */
export interface Segment {
  base: number;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
}

/** Decodes GDT entry `index` into the kvm_segment that the hidden part of a segment register holds. */
export function segmentFromGdt(index: number): Segment {
  const e = GDT_ENTRIES[index];
  const lo = Number(e & 0xffffffffn);
  const hi = Number(e >> 32n);
  const g = (hi >>> 23) & 1;
  const rawLimit = (lo & 0xffff) | (hi & 0xf0000);
  return {
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0,
    limit: g ? ((rawLimit << 12) | 0xfff) >>> 0 : rawLimit,
    selector: index * 8,
    type: (hi >>> 8) & 0xf,
    present: (hi >>> 15) & 1,
    dpl: (hi >>> 13) & 3,
    db: (hi >>> 22) & 1,
    s: (hi >>> 12) & 1,
    l: (hi >>> 21) & 1,
    g,
    avl: (hi >>> 20) & 1,
  };
}
