// Hostile packets and commands against the parsers added for RSS, hashing, hdr_len and
// DATA_VALID: random frames (with IPv4 / IPv6 / tunnel-looking prefixes) and random
// RSS_CONFIG / HASH_CONFIG / coalescing / statistics commands never throw, report in range,
// and are answered VIRTIO_NET_OK or VIRTIO_NET_ERR.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import {
  NET_CONTROL_EXTRA_FEATURES,
  NET_DRIVER_FEATURES,
  VIRTIO_NET_CTRL_HASH_TUNNEL,
  VIRTIO_NET_CTRL_MQ,
  VIRTIO_NET_CTRL_NOTF_COAL,
  VIRTIO_NET_CTRL_STATS,
  VIRTIO_NET_ERR,
  VIRTIO_NET_HASH_TYPE_ALL,
  VIRTIO_NET_OK,
} from '../src/index.js';
import { verifyTransportChecksum } from '../src/checksum.js';
import { headersLength } from '../src/hdrlen.js';
import { PacketHasher } from '../src/rss/packet-hash.js';
import { VIRTIO_NET_HASH_TUNNEL_TYPE_ALL } from '../src/rss/tunnel.js';
import { rawCommand, rig } from './harness.js';
import { MS_KEY } from './rss-vectors.js';

/** Random frames whose first bytes look like Ethernet + IPv4 / IPv6 / VLAN, to reach deep into the parsers. */
const frame = fc
  .tuple(
    fc.constantFrom([0x08, 0x00, 0x45], [0x08, 0x00, 0x4f], [0x86, 0xdd, 0x60], [0x81, 0x00, 0, 1, 0x08, 0x00, 0x45], [0x88, 0xb5]),
    fc.uint8Array({ minLength: 0, maxLength: 160 }),
    fc.integer({ min: 0, max: 255 }),
  )
  .map(([prefix, rest, proto]) => {
    const f = new Uint8Array(12 + prefix.length + rest.length);
    f.set(prefix, 12);
    f.set(rest, 12 + prefix.length);
    // The protocol / next header byte, where it would be.
    if (f.length > 23 && prefix[2] === 0x45) f[23] = proto;
    if (f.length > 20 && prefix[2] === 0x60) f[20] = proto;
    return f;
  });

describe('hostile packets', () => {
  it('hashing, hdr_len and checksum verification never throw; reports and lengths stay in range', () => {
    const h = new PacketHasher();
    h.toeplitz.setKey(MS_KEY);
    h.hashTypes = VIRTIO_NET_HASH_TYPE_ALL;
    fc.assert(
      fc.property(frame, fc.boolean(), (f, tunnels) => {
        h.tunnelTypes = tunnels ? VIRTIO_NET_HASH_TUNNEL_TYPE_ALL : 0;
        const report = h.compute(f);
        expect(report).toBeGreaterThanOrEqual(0);
        expect(report).toBeLessThanOrEqual(9);
        expect(h.value >>> 0).toBe(h.value);
        const len = headersLength(f);
        expect(len >= 0 && len <= f.length).toBe(true);
        expect([-1, 0, 1]).toContain(verifyTransportChecksum(f));
      }),
      { numRuns: 2000 },
    );
  });

  it('random frames through a device with RSS and hash reporting: delivered or dropped, never a reset', async () => {
    const r = rig({ queuePairs: 2, driverFeatures: NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES, vnetHeader: true });
    expect(await r.driver.configureRss({ hashTypes: VIRTIO_NET_HASH_TYPE_ALL, key: MS_KEY, indirectionTable: [0, 1, 1, 0] })).toBe(true);
    fc.assert(
      fc.property(frame, (f) => {
        r.callback.deliver(f.length < 14 ? new Uint8Array(14) : f);
      }),
      { numRuns: 300 },
    );
    expect(r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(0);
  });
});

describe('hostile commands', () => {
  it('random RSS, hash, tunnel, coalescing and statistics commands are answered OK or ERR', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_HASH_TUNNEL),
        fc.integer({ min: 0, max: 4 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: 1, max: 200 }),
        (cls, cmd, data, writable) => {
          const r = rig({ queuePairs: 2, driverFeatures: NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES, queueSize: 8 });
          const ack = rawCommand(r, 4, Uint8Array.from([cls, cmd, ...data]), writable);
          expect([VIRTIO_NET_OK, VIRTIO_NET_ERR]).toContain(r.memory.readU8(ack));
          expect(r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
