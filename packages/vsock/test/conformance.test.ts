import { describe, expect, it } from 'vitest';
import { hasFeature } from '@virtio/core';
import {
  negotiatedTypes,
  VIRTIO_VSOCK_F_NO_IMPLIED_STREAM,
  VIRTIO_VSOCK_F_SEQPACKET,
  VIRTIO_VSOCK_F_STREAM,
  VIRTIO_VSOCK_OP_CREDIT_UPDATE,
  VIRTIO_VSOCK_OP_RST,
  VIRTIO_VSOCK_OP_RW,
  VIRTIO_VSOCK_TYPE_SEQPACKET,
  VIRTIO_VSOCK_TYPE_STREAM,
  VMADDR_CID_HOST,
  VsockDevice,
  VsockEndpoint,
  type VsockConnection,
  type VsockHeader,
} from '../src/index.js';
import { GUEST_CID, pattern, rig, settle, VARIANTS } from './harness.js';
import { deliverRaw, header, sendRaw } from './raw.js';

const bit = (n: number) => 1n << BigInt(n);

describe('vsock features', () => {
  it('[vsock.dev.1] the device offers VIRTIO_VSOCK_F_NO_IMPLIED_STREAM; [vsock.drv.1] the driver accepts it', () => {
    const t = rig();
    expect(hasFeature(t.device.deviceFeatures, VIRTIO_VSOCK_F_NO_IMPLIED_STREAM)).toBe(true);
    expect(hasFeature(t.driver.device.features, VIRTIO_VSOCK_F_NO_IMPLIED_STREAM)).toBe(true);
  });

  it('[vsock.dev.2] [vsock.drv.2] with no feature bit negotiated both sides act as if STREAM was', async () => {
    const t = rig({}, 0n, { vsockFeatures: 0n });
    expect(t.driver.device.features & 0b111n).toBe(0n);
    expect(t.driver.types).toEqual({ stream: true, seqpacket: false });
    let accepted = 0;
    t.device.listen(1, () => accepted++);
    await t.driver.connect(VMADDR_CID_HOST, 1);
    expect(accepted).toBe(1);
  });

  it('[vsock.dev.3] [vsock.drv.3] SEQPACKET without NO_IMPLIED_STREAM implies STREAM on both sides', async () => {
    const t = rig({}, 0n, { vsockFeatures: bit(VIRTIO_VSOCK_F_SEQPACKET) });
    expect(t.driver.types).toEqual({ stream: true, seqpacket: true });
    t.device.listen(1, () => {});
    await expect(t.driver.connect(VMADDR_CID_HOST, 1, VIRTIO_VSOCK_TYPE_STREAM)).resolves.toBeDefined();
  });

  it('with NO_IMPLIED_STREAM and only SEQPACKET, stream is refused on both sides', async () => {
    expect(negotiatedTypes(bit(VIRTIO_VSOCK_F_SEQPACKET) | bit(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM))).toEqual({ stream: false, seqpacket: true });
    const t = rig({}, 0n, { vsockFeatures: bit(VIRTIO_VSOCK_F_SEQPACKET) | bit(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM) });
    let accepted = 0;
    t.device.listen(1, () => accepted++);
    await expect(t.driver.connect(VMADDR_CID_HOST, 1)).rejects.toThrow('not negotiated');
    sendRaw(t, header({ dstPort: 1, type: VIRTIO_VSOCK_TYPE_STREAM }));
    await settle();
    expect(accepted).toBe(0);
    expect(hasFeature(t.driver.device.features, VIRTIO_VSOCK_F_STREAM)).toBe(false);
  });
});

describe('vsock configuration', () => {
  it('[vsock.dev.7] guest_cid never holds a reserved CID', () => {
    for (const cid of [0, 1, 2, 0xffffffff, 2 ** 32, 2 ** 53 - 1, -1, 3.5]) {
      expect(() => new VsockDevice({ guestCid: cid }), `cid ${cid}`).toThrow(RangeError);
    }
    const d = new VsockDevice({ guestCid: 0xfffffffe });
    expect(() => d.transportReset(2)).toThrow(RangeError);
    expect(d.guestCid).toBe(0xfffffffe);
    expect([d.readConfig(0, 4), d.readConfig(4, 4)]).toEqual([0xfffffffe, 0]);
  });
});

describe.each(VARIANTS)('vsock conformance over $name', ({ features }) => {
  it('[vsock.dev.4] the tx queue is processed while the rx queue is full, as long as the backlog has room', async () => {
    const t = rig({ backlogPackets: 3 }, features, { rxBuffers: 1 });
    t.irq.on = false; // the driver reaps nothing: the single rx buffer stays used
    for (let i = 0; i < 6; i++) sendRaw(t, header({ srcPort: 100 + i, dstPort: 999 })); // REQUESTs to no listener: each wants an RST reply
    // One reply went into the rx buffer, three wait in the backlog: four tx packets were taken although rx was full.
    expect(t.device.stats.txPackets).toBe(4);
    expect(t.device.backlog).toBe(3);
    t.irq.on = true;
    t.driver.handleInterrupt();
    await settle();
    expect(t.device.stats.txPackets).toBe(6);
    expect(t.device.stats.rxPackets).toBe(6);
  });

  it('[vsock.drv.4] the driver processes rx while the tx ring is full, as long as its backlog has room', async () => {
    const t = rig({}, features, { queueSize: 4 });
    const hostSide: VsockConnection[] = [];
    t.device.listen(1, (c) => hostSide.push(c));
    const guest = await t.driver.connect(VMADDR_CID_HOST, 1);
    const got: number[] = [];
    guest.ondata = (d) => got.push(d.length);
    t.blocked[1] = true; // the device takes no more tx chains: the 4-entry tx ring fills up
    for (let i = 0; i < 8; i++) guest.write(pattern(10));
    expect(t.driver.backlog).toBe(4);
    hostSide[0].write(pattern(100));
    await settle();
    expect(got.reduce((a, b) => a + b, 0)).toBe(100);
    expect(t.driver.backlog).toBeGreaterThanOrEqual(4);
  });

  it('[vsock.dev.5] the device sends RW only within the guest\'s free buffer space', async () => {
    const t = rig({}, features, { bufAlloc: 8192 });
    t.driver.listen(5, () => {});
    const host = await t.device.connect(5);
    t.irq.on = false; // the guest consumes nothing and sends no credit update from here on
    host.write(pattern(100_000));
    await settle();
    expect(host.queuedBytes).toBe(100_000 - 8192);
    expect(host.peerFree).toBe(0);
  });

  it('[vsock.drv.5] the driver sends RW only within the host\'s free buffer space', async () => {
    const t = rig({ bufAlloc: 8192 }, features);
    t.device.listen(5, () => {});
    const guest = await t.driver.connect(VMADDR_CID_HOST, 5);
    t.irq.on = false; // the host's credit updates are never reaped by the guest
    guest.write(pattern(100_000));
    await settle();
    expect(guest.queuedBytes).toBe(100_000 - 8192);
    const rwBytes = t.txHeaders().filter((h) => h.op === VIRTIO_VSOCK_OP_RW).reduce((s, h) => s + h.len, 0);
    expect(rwBytes).toBe(8192);
  });

  it('[vsock.drv.6] every guest packet of a stream flow carries its buf_alloc and fwd_cnt', async () => {
    const t = rig({ bufAlloc: 4096 }, features, { bufAlloc: 32768 });
    let host: VsockConnection | undefined;
    t.device.listen(5, (c) => (host = c));
    const guest = await t.driver.connect(VMADDR_CID_HOST, 5);
    let consumed = 0;
    guest.ondata = (d) => (consumed += d.length);
    host!.write(pattern(50_000));
    guest.write(pattern(20_000));
    for (let i = 0; i < 50 && (host!.queuedBytes > 0 || guest.queuedBytes > 0); i++) await settle(1);
    guest.close();
    await settle();
    const flow = t.txHeaders().filter((h) => h.srcPort === guest.localPort);
    expect(flow.length).toBeGreaterThan(5);
    let last = 0;
    for (const h of flow) {
      expect(h.bufAlloc).toBe(32768);
      expect(h.fwdCnt).toBeGreaterThanOrEqual(last);
      last = h.fwdCnt;
    }
    expect(last).toBe(consumed);
    expect(flow.some((h) => h.op === VIRTIO_VSOCK_OP_CREDIT_UPDATE)).toBe(true);
  });

  it('[vsock.drv.7] guest_cid is the source CID of every guest packet, also after a CID change', async () => {
    const t = rig({}, features);
    t.device.listen(5, () => {});
    await t.driver.connect(VMADDR_CID_HOST, 5);
    t.device.transportReset(77);
    await settle();
    await t.driver.connect(VMADDR_CID_HOST, 5);
    const cids = t.txHeaders().map((h) => h.srcCid);
    expect(cids[0]).toBe(GUEST_CID);
    expect(cids.at(-1)).toBe(77);
    expect(cids.every((c) => c === GUEST_CID || c === 77)).toBe(true);
  });

  it('[vsock.dev.8] the device answers a packet of unknown type with RST', async () => {
    const t = rig({}, features);
    const seen: VsockHeader[] = [];
    // Watch what reaches the guest: the driver RSTs nothing back to an RST, so read the rx buffer directly.
    const rx = t.act.ctx!.queues[0]!;
    const pop = rx.pop.bind(rx);
    rx.pop = () => {
      const c = pop();
      if (c) queueMicrotask(() => {
        const b = new Uint8Array(44);
        t.memory.read(c.writable[0].addr, b);
        seen.push({ ...decode(b) });
      });
      return c;
    };
    sendRaw(t, header({ type: 9, srcPort: 4321, dstPort: 1234 }));
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ op: VIRTIO_VSOCK_OP_RST, srcCid: VMADDR_CID_HOST, dstCid: GUEST_CID, srcPort: 1234, dstPort: 4321, type: 9 });
  });

  it('[vsock.drv.8] the driver answers a packet of unknown type with RST', async () => {
    const t = rig({}, features);
    deliverRaw(t, header({ srcCid: 2, dstCid: GUEST_CID, srcPort: 50, dstPort: 60, type: 0x77, op: VIRTIO_VSOCK_OP_RW }));
    await settle();
    const h = t.txHeaders().at(-1);
    expect(h).toMatchObject({ op: VIRTIO_VSOCK_OP_RST, srcCid: GUEST_CID, dstCid: 2, srcPort: 60, dstPort: 50, type: 0x77 });
  });

  it('[vsock.drv.9] event buffers are replenished: more resets than buffers are all seen', async () => {
    const t = rig({}, features);
    const seen: number[] = [];
    t.driver.ontransportreset = (cid) => seen.push(cid);
    for (let i = 0; i < 10; i++) {
      t.device.transportReset(100 + i);
      await settle(1);
    }
    await settle();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
  });

  it('[vsock.drv.10] [vsock.drv.11] [vsock.drv.12] on TRANSPORT_RESET the driver re-reads guest_cid, shuts connections down, keeps listeners', async () => {
    const t = rig({}, features);
    t.device.listen(5, () => {});
    const accepted: VsockConnection[] = [];
    t.driver.listen(6000, (c) => accepted.push(c));
    const guest = await t.driver.connect(VMADDR_CID_HOST, 5);
    const reasons: string[] = [];
    guest.onclose = (r) => reasons.push(r);
    t.device.transportReset(42);
    await settle();
    expect(t.driver.guestCid).toBe(42);
    expect(guest.state).toBe('closed');
    expect(reasons).toEqual(['reset']);
    expect(t.driver.connections).toHaveLength(0);
    // The listener still works, under the new CID.
    const hostConn = await t.device.connect(6000);
    expect(accepted).toHaveLength(1);
    expect(hostConn.peerCid).toBe(42);
  });
});

describe('vsock endpoint (the shared protocol engine of both sides)', () => {
  function pair(bufAlloc = 4096) {
    const log: { from: string; hdr: VsockHeader }[] = [];
    const q: (() => void)[] = [];
    const mk = (name: string, cid: number, peer: () => VsockEndpoint) =>
      new VsockEndpoint({
        localCid: () => cid,
        transmit: (hdr, payload) => {
          log.push({ from: name, hdr: { ...hdr } });
          const copy = payload.slice();
          q.push(() => peer().receive({ ...hdr }, copy));
        },
        supports: (type) => type === VIRTIO_VSOCK_TYPE_STREAM || type === VIRTIO_VSOCK_TYPE_SEQPACKET,
        bufAlloc,
        maxPayload: 1024,
      });
    const a: VsockEndpoint = mk('a', 2, () => b);
    const b: VsockEndpoint = mk('b', 3, () => a);
    const pump = () => {
      for (let i = 0; i < 100000 && q.length > 0; i++) q.shift()!();
    };
    return { a, b, log, pump };
  }

  it('[vsock.dev.6] every host packet of a stream flow carries buf_alloc and the bytes consumed as fwd_cnt', async () => {
    const { a, b, log, pump } = pair(4096);
    let consumedA = 0;
    a.listen(1, (c) => (c.ondata = (d) => (consumedA += d.length)));
    const p = b.connect(2, 1);
    pump();
    const c = await p;
    c.write(pattern(30_000));
    pump();
    expect(consumedA).toBe(30_000);
    const fromA = log.filter((l) => l.from === 'a');
    expect(fromA.length).toBeGreaterThan(3);
    let last = 0;
    for (const { hdr } of fromA) {
      expect(hdr.bufAlloc).toBe(4096);
      expect(hdr.fwdCnt).toBeGreaterThanOrEqual(last);
      expect(hdr.fwdCnt).toBeLessThanOrEqual(consumedA);
      last = hdr.fwdCnt;
    }
    // Without the credit updates a's packets carry, b could not have sent more than 4096 bytes.
    expect(c.queuedBytes).toBe(0);
  });

  it('a sender without credit asks once and waits for real credit (no CREDIT_REQUEST/UPDATE ping-pong)', async () => {
    const { a, b, log, pump } = pair(1000);
    a.listen(1, () => {}); // a never reads: its buffer stays full
    const p = b.connect(2, 1);
    pump();
    const c = await p;
    c.write(pattern(5000));
    pump();
    expect(c.queuedBytes).toBe(4000);
    expect(log.filter((l) => l.from === 'b' && l.hdr.op === 7).length).toBe(1);
  });

  it('a peer that overruns the published buffer is reset', async () => {
    const { a, b, log, pump } = pair(1000);
    const reasons: string[] = [];
    a.listen(1, (c) => (c.onclose = (r) => reasons.push(r)));
    const p = b.connect(2, 1);
    pump();
    const c = await p;
    // Break b's bookkeeping: pretend the peer has a huge buffer.
    c.receive({ ...log[1].hdr, op: VIRTIO_VSOCK_OP_CREDIT_UPDATE, bufAlloc: 1 << 20, srcCid: 2, dstCid: 3, srcPort: 1, dstPort: c.localPort }, new Uint8Array(0));
    c.write(pattern(5000));
    pump();
    expect(reasons).toEqual(['protocol']);
  });
});

function decode(b: Uint8Array): VsockHeader {
  const v = new DataView(b.buffer, b.byteOffset, 44);
  return {
    srcCid: v.getUint32(0, true),
    dstCid: v.getUint32(8, true),
    srcPort: v.getUint32(16, true),
    dstPort: v.getUint32(20, true),
    len: v.getUint32(24, true),
    type: v.getUint16(28, true),
    op: v.getUint16(30, true),
    flags: v.getUint32(32, true),
    bufAlloc: v.getUint32(36, true),
    fwdCnt: v.getUint32(40, true),
  };
}
