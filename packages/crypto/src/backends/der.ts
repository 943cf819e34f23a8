/**
 * A minimal DER reader for the PKCS#1 RSA keys of the AKCIPHER service (RFC 8017 appendix A.1):
 * a SEQUENCE of INTEGERs. Every length is bounded by the input; malformed input throws.
 */

/** The INTEGERs of a DER SEQUENCE that spans all of `der`, as non-negative bigints. @throws RangeError for malformed DER */
export function derIntegerSequence(der: Uint8Array): bigint[] {
  let pos = 0;
  const header = (tag: number): number => {
    if (pos + 2 > der.length || der[pos] !== tag) throw new RangeError('crypto: malformed DER');
    pos++;
    let len = der[pos++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || pos + n > der.length) throw new RangeError('crypto: malformed DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[pos++];
    }
    if (len > der.length - pos) throw new RangeError('crypto: DER length beyond the key');
    return len;
  };
  const end = header(0x30) + pos;
  if (end !== der.length) throw new RangeError('crypto: bytes after the DER sequence');
  const out: bigint[] = [];
  while (pos < end) {
    const len = header(0x02);
    if (len === 0 || (der[pos] & 0x80) !== 0) throw new RangeError('crypto: a negative or empty DER INTEGER');
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(der[pos + i]);
    pos += len;
    out.push(v);
  }
  return out;
}
