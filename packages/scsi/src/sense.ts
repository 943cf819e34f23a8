/** Fixed-format sense data (SPC-4 4.4.3): 18 bytes, response code 70h (current error). */

/** Bytes of fixed-format sense data this package produces. */
export const FIXED_SENSE_SIZE = 18;

/** Builds fixed-format sense data with `key`, `asc` and `ascq`. */
export function fixedSense(key: number, asc: number, ascq: number): Uint8Array {
  const s = new Uint8Array(FIXED_SENSE_SIZE);
  s[0] = 0x70;
  s[2] = key & 0x0f;
  s[7] = FIXED_SENSE_SIZE - 8;
  s[12] = asc;
  s[13] = ascq;
  return s;
}

/** The sense key, asc and ascq of fixed- or descriptor-format sense data (undefined when too short). */
export function parseSense(s: Uint8Array): { key: number; asc: number; ascq: number } | undefined {
  const code = s[0] & 0x7f;
  if ((code === 0x70 || code === 0x71) && s.length >= 14) return { key: s[2] & 0x0f, asc: s[12], ascq: s[13] };
  if ((code === 0x72 || code === 0x73) && s.length >= 4) return { key: s[1] & 0x0f, asc: s[2], ascq: s[3] };
  return undefined;
}
