/**
 * A small AML encoder (ACPI 6.5 section 20, "ACPI Machine Language Specification"): each
 * function returns the bytes of one term. Only what the VMM's DSDT needs.
 */
export type Aml = Uint8Array;

const ROOT_CHAR = 0x5c;
const PARENT_PREFIX = 0x5e;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
export const ZERO_OP = 0x00;
export const ONE_OP = 0x01;
export const ONES_OP = 0xff;
export const BYTE_PREFIX = 0x0a;
export const WORD_PREFIX = 0x0b;
export const DWORD_PREFIX = 0x0c;
export const STRING_PREFIX = 0x0d;
export const QWORD_PREFIX = 0x0e;
export const NAME_OP = 0x08;
export const SCOPE_OP = 0x10;
export const BUFFER_OP = 0x11;
export const PACKAGE_OP = 0x12;
export const METHOD_OP = 0x14;
export const RETURN_OP = 0xa4;
export const EXT_OP_PREFIX = 0x5b;
export const DEVICE_OP = 0x82;

/** Concatenates byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A NameSeg: 1-4 characters [A-Z0-9_] (first not a digit), padded with '_'. */
export function nameSeg(seg: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new RangeError(`invalid AML NameSeg "${seg}"`);
  return new TextEncoder().encode(seg.padEnd(4, '_'));
}

/** A NameString: optional `\` root or `^` parent prefixes, then dot-separated NameSegs. */
export function nameString(path: string): Uint8Array {
  let i = 0;
  const prefix: number[] = [];
  if (path[0] === '\\') {
    prefix.push(ROOT_CHAR);
    i = 1;
  } else {
    while (path[i] === '^') {
      prefix.push(PARENT_PREFIX);
      i++;
    }
  }
  const rest = path.slice(i);
  const segs = rest === '' ? [] : rest.split('.').map(nameSeg);
  if (segs.length === 0) return Uint8Array.from([...prefix, 0x00]);
  if (segs.length === 1) return concat(Uint8Array.from(prefix), segs[0]);
  if (segs.length === 2) return concat(Uint8Array.from([...prefix, DUAL_NAME_PREFIX]), ...segs);
  return concat(Uint8Array.from([...prefix, MULTI_NAME_PREFIX, segs.length]), ...segs);
}

/**
 * PkgLength (section 20.2.4) for a body of `bodyLength` bytes: the encoded length counts
 * itself. One byte up to 63, else a lead byte (count of following bytes in bits 7-6, low
 * nibble in bits 3-0) and 1-3 bytes.
 */
export function pkgLength(bodyLength: number): Uint8Array {
  if (bodyLength + 1 < 0x40) return Uint8Array.of(bodyLength + 1);
  for (let extra = 1; extra <= 3; extra++) {
    const total = bodyLength + 1 + extra;
    if (total < 2 ** (4 + 8 * extra)) {
      const out = new Uint8Array(1 + extra);
      out[0] = (extra << 6) | (total & 0xf);
      for (let b = 0; b < extra; b++) out[1 + b] = (total >>> (4 + 8 * b)) & 0xff;
      return out;
    }
  }
  throw new RangeError(`AML package of ${bodyLength} bytes is too long`);
}

/** An integer with the shortest encoding: ZeroOp, OneOp, Byte/Word/DWord/QWord prefix. */
export function integer(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`AML integer ${v} out of range`);
  if (v === 0n) return Uint8Array.of(ZERO_OP);
  if (v === 1n) return Uint8Array.of(ONE_OP);
  const sized = (prefix: number, bytes: number) => {
    const out = new Uint8Array(1 + bytes);
    out[0] = prefix;
    for (let i = 0; i < bytes; i++) out[1 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  if (v <= 0xffn) return sized(BYTE_PREFIX, 1);
  if (v <= 0xffffn) return sized(WORD_PREFIX, 2);
  if (v <= 0xffffffffn) return sized(DWORD_PREFIX, 4);
  return sized(QWORD_PREFIX, 8);
}

/** A String: StringPrefix, ASCII characters, NUL. */
export function string(text: string): Uint8Array {
  if (!/^[\x01-\x7f]*$/.test(text)) throw new RangeError('AML strings are ASCII without NUL');
  return concat(Uint8Array.of(STRING_PREFIX), new TextEncoder().encode(text), Uint8Array.of(0));
}

/** EISA ID compression ("PNP0A08" -> 0x080AD041) as a DWord integer, like ASL's EisaId(). */
export function eisaId(id: string): Uint8Array {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new RangeError(`invalid EISA ID "${id}"`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const h = (i: number) => parseInt(id[i], 16);
  const bytes = [(c(0) << 2) | (c(1) >> 3), ((c(1) & 7) << 5) | c(2), (h(3) << 4) | h(4), (h(5) << 4) | h(6)];
  return Uint8Array.of(DWORD_PREFIX, ...bytes);
}

/** Name(path, object). */
export function name(path: string, object: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(NAME_OP), nameString(path), object);
}

/** Scope(path) { terms }. */
export function scope(path: string, ...terms: Uint8Array[]): Uint8Array {
  const body = concat(nameString(path), ...terms);
  return concat(Uint8Array.of(SCOPE_OP), pkgLength(body.length), body);
}

/** Device(path) { terms }. */
export function device(path: string, ...terms: Uint8Array[]): Uint8Array {
  const body = concat(nameString(path), ...terms);
  return concat(Uint8Array.of(EXT_OP_PREFIX, DEVICE_OP), pkgLength(body.length), body);
}

/** Method(path, argCount, NotSerialized) { terms }. */
export function method(path: string, argCount: number, ...terms: Uint8Array[]): Uint8Array {
  if (argCount < 0 || argCount > 7) throw new RangeError('AML methods take 0-7 arguments');
  const body = concat(nameString(path), Uint8Array.of(argCount), ...terms);
  return concat(Uint8Array.of(METHOD_OP), pkgLength(body.length), body);
}

/** Return(value). */
export function ret(value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(RETURN_OP), value);
}

/** Package() { elements } (at most 255 elements). */
export function pkg(...elements: Uint8Array[]): Uint8Array {
  if (elements.length > 255) throw new RangeError('AML Package holds at most 255 elements');
  const body = concat(Uint8Array.of(elements.length), ...elements);
  return concat(Uint8Array.of(PACKAGE_OP), pkgLength(body.length), body);
}

/** Buffer() { bytes }, the size given as an integer. */
export function buffer(bytes: Uint8Array): Uint8Array {
  const body = concat(integer(bytes.length), bytes);
  return concat(Uint8Array.of(BUFFER_OP), pkgLength(body.length), body);
}
