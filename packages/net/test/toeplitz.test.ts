// The Toeplitz hash against Microsoft's published RSS verification vectors ("Verifying the RSS
// Hash Calculation"), with the key of the spec's and Microsoft's examples.
import { describe, expect, it } from 'vitest';
import { Toeplitz } from '../src/rss/toeplitz.js';
import { ip4, ip6, IPV4_VECTORS, IPV6_VECTORS, MS_KEY, port } from './rss-vectors.js';

describe('Toeplitz hash', () => {
  const t = new Toeplitz();
  t.setKey(MS_KEY);

  it.each(IPV4_VECTORS)('IPv4 %s:%d -> %s:%d', (src, sp, dst, dp, ipOnly, withTcp) => {
    expect(t.hash(Uint8Array.from([...ip4(src), ...ip4(dst)]))).toBe(ipOnly);
    expect(t.hash(Uint8Array.from([...ip4(src), ...ip4(dst), ...port(sp), ...port(dp)]))).toBe(withTcp);
  });

  it.each(IPV6_VECTORS)('IPv6 %s:%d -> %s:%d', (src, sp, dst, dp, ipOnly, withTcp) => {
    expect(t.hash(Uint8Array.from([...ip6(src), ...ip6(dst)]))).toBe(ipOnly);
    expect(t.hash(Uint8Array.from([...ip6(src), ...ip6(dst), ...port(sp), ...port(dp)]))).toBe(withTcp);
  });

  it('a key shorter than 40 bytes is padded with zero bits; changing the key changes the hash', () => {
    const short = new Toeplitz();
    short.setKey(MS_KEY.subarray(0, 8));
    // Input bit 0 set: the first 32 key bits.
    expect(short.hash(Uint8Array.of(0x80))).toBe(0x6d5a56da);
    // The last input byte of a 36-byte input uses key bytes 35..39, all zero for this key.
    const input = new Uint8Array(36);
    input[35] = 0xff;
    expect(short.hash(input)).toBe(0);
    expect(t.hash(input)).not.toBe(0);
  });
});
