// A minimal reader for 64-bit little-endian ELF files (x86-64 kernel modules and programs):
// named sections, the program interpreter and the dynamic section's DT_NEEDED/RPATH/RUNPATH.
// Every offset read from the file is bounds-checked.

/** Thrown for a file that is not a well-formed ELF64 little-endian object. */
export class ElfError extends Error {
  override name = 'ElfError';
}

/** What {@link readDynamicInfo} returns about a program or shared library. */
export interface ElfDynamicInfo {
  /** PT_INTERP path (e.g. /lib64/ld-linux-x86-64.so.2), or undefined for a static file. */
  readonly interpreter?: string;
  /** DT_NEEDED sonames, in order. */
  readonly needed: readonly string[];
  /** DT_RUNPATH, else DT_RPATH, split on ":"; "$ORIGIN" left unexpanded. */
  readonly runpath: readonly string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

const decoder = new TextDecoder();

class Elf {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new ElfError('not an ELF file');
    }
    if (bytes[4] !== 2 || bytes[5] !== 1) throw new ElfError('not a 64-bit little-endian ELF file');
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u16(off: number): number {
    this.#check(off, 2);
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    this.#check(off, 4);
    return this.view.getUint32(off, true);
  }
  u64(off: number): number {
    this.#check(off, 8);
    const v = this.view.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`64-bit field at ${off} out of range`);
    return Number(v);
  }
  slice(off: number, len: number): Uint8Array {
    this.#check(off, len);
    return this.bytes.subarray(off, off + len);
  }
  cstring(off: number, limit = this.bytes.length): string {
    this.#check(off, 1);
    let end = off;
    while (end < limit && end < this.bytes.length && this.bytes[end] !== 0) end++;
    return decoder.decode(this.bytes.subarray(off, end));
  }
  #check(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new ElfError(`read of ${len} bytes at ${off} is outside the file (${this.bytes.length} bytes)`);
    }
  }

  *sections(): Generator<{ name: string; offset: number; size: number; type: number }> {
    const shoff = this.u64(0x28);
    const shentsize = this.u16(0x3a);
    const shnum = this.u16(0x3c);
    const shstrndx = this.u16(0x3e);
    if (shoff === 0 || shnum === 0) return;
    if (shentsize < 64) throw new ElfError('bad section header size');
    const strtab = this.u64(shoff + shstrndx * shentsize + 0x18);
    const strsize = this.u64(shoff + shstrndx * shentsize + 0x20);
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      const nameOff = this.u32(sh);
      if (nameOff >= strsize) throw new ElfError(`section ${i} name outside the string table`);
      yield {
        name: this.cstring(strtab + nameOff, strtab + strsize),
        type: this.u32(sh + 4),
        offset: this.u64(sh + 0x18),
        size: this.u64(sh + 0x20),
      };
    }
  }

  *segments(): Generator<{ type: number; offset: number; vaddr: number; filesz: number }> {
    const phoff = this.u64(0x20);
    const phentsize = this.u16(0x36);
    const phnum = this.u16(0x38);
    if (phoff === 0 || phnum === 0) return;
    if (phentsize < 56) throw new ElfError('bad program header size');
    for (let i = 0; i < phnum; i++) {
      const ph = phoff + i * phentsize;
      yield { type: this.u32(ph), offset: this.u64(ph + 8), vaddr: this.u64(ph + 0x10), filesz: this.u64(ph + 0x20) };
    }
  }
}

/**
 * Returns the bytes of the named section (e.g. ".modinfo"), or undefined when absent.
 * @throws ElfError when the file is not ELF64 little-endian or a header points outside it.
 */
export function readSection(file: Uint8Array, name: string): Uint8Array | undefined {
  const elf = new Elf(file);
  for (const s of elf.sections()) {
    if (s.name === name) return s.type === 8 /* SHT_NOBITS */ ? new Uint8Array(0) : elf.slice(s.offset, s.size);
  }
  return undefined;
}

/**
 * Reads the interpreter and the dynamic section of a program or shared library.
 * @throws ElfError when the file is malformed.
 */
export function readDynamicInfo(file: Uint8Array): ElfDynamicInfo {
  const elf = new Elf(file);
  const segments = [...elf.segments()];
  const interp = segments.find((s) => s.type === PT_INTERP);
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  const interpreter = interp ? elf.cstring(interp.offset, interp.offset + interp.filesz) : undefined;
  if (!dynamic) return { interpreter, needed: [], runpath: [] };
  const toOffset = (vaddr: number): number => {
    const load = segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!load) throw new ElfError(`address 0x${vaddr.toString(16)} is in no loaded segment`);
    return load.offset + (vaddr - load.vaddr);
  };
  const needed: number[] = [];
  let strtab = -1;
  let rpath = -1;
  let runpath = -1;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = elf.u64(at);
    const val = elf.u64(at + 8);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) needed.push(val);
    else if (tag === DT_STRTAB) strtab = toOffset(val);
    else if (tag === DT_RPATH) rpath = val;
    else if (tag === DT_RUNPATH) runpath = val;
  }
  if (strtab < 0) {
    if (needed.length) throw new ElfError('DT_NEEDED without DT_STRTAB');
    return { interpreter, needed: [], runpath: [] };
  }
  const str = (off: number): string => elf.cstring(strtab + off);
  const path = runpath >= 0 ? str(runpath) : rpath >= 0 ? str(rpath) : '';
  return { interpreter, needed: needed.map(str), runpath: path ? path.split(':').filter(Boolean) : [] };
}
