// Microsoft's published RSS verification vectors ("Verifying the RSS Hash Calculation") and the
// key of their example (also the spec's and DPDK's test key).

export const MS_KEY = Uint8Array.from(
  '6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa'.match(/../g)!.map((h) => parseInt(h, 16)),
);

export const ip4 = (s: string): number[] => s.split('.').map(Number);
export function ip6(s: string): number[] {
  const [head, tail = ''] = s.split('::');
  const words = (x: string): number[] => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = s.includes('::') ? [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  return all.flatMap((w) => [w >>> 8, w & 0xff]);
}
export const port = (p: number): number[] => [p >>> 8, p & 0xff];

/** [source, source port, destination, destination port, IP-only hash, IP + TCP hash] */
export const IPV4_VECTORS: readonly [string, number, string, number, number, number][] = [
  ['66.9.149.187', 2794, '161.142.100.80', 1766, 0x323e8fc2, 0x51ccc178],
  ['199.92.111.2', 14230, '65.69.140.83', 4739, 0xd718262a, 0xc626b0ea],
  ['24.19.198.95', 12898, '12.22.207.184', 38024, 0xd2d0a5de, 0x5c2b394a],
  ['38.27.205.30', 48228, '209.142.163.6', 2217, 0x82989176, 0xafc7327f],
  ['153.39.163.191', 44251, '202.188.127.2', 1303, 0x5d1809c5, 0x10e828a2],
];

export const IPV6_VECTORS: readonly [string, number, string, number, number, number][] = [
  ['3ffe:2501:200:1fff::7', 2794, '3ffe:2501:200:3::1', 1766, 0x2cc18cd5, 0x40207d3d],
  ['3ffe:501:8::260:97ff:fe40:efab', 14230, 'ff02::1', 4739, 0x0f0c461c, 0xdde51bbf],
  ['3ffe:1900:4545:3:200:f8ff:fe21:67cf', 44251, 'fe80::200:f8ff:fe21:67cf', 38024, 0x4b61e985, 0x02d1feef],
];

