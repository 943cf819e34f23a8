import { describe, expect, it } from 'vitest';
import { VIRTIO_VSOCK_TYPE_SEQPACKET, VMADDR_CID_HOST, type VsockConnection } from '../src/index.js';
import { concat, GUEST_CID, pattern, rig, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('vsock round trip over $name', ({ features }) => {
  it('a guest connects to a host listener, data flows both ways, a clean close ends it on both sides', async () => {
    const t = rig({}, features);
    const hostGot: Uint8Array[] = [];
    let host: VsockConnection | undefined;
    t.device.listen(1234, (c) => {
      host = c;
      c.ondata = (d) => {
        hostGot.push(d);
        c.write(d.map((b) => b ^ 0xff));
      };
    });
    const guest = await t.driver.connect(VMADDR_CID_HOST, 1234);
    const guestGot: Uint8Array[] = [];
    guest.ondata = (d) => guestGot.push(d);
    guest.write(pattern(1000));
    await settle();
    expect(concat(hostGot)).toEqual(pattern(1000));
    expect(concat(guestGot)).toEqual(pattern(1000).map((b) => b ^ 0xff));
    expect(host?.peerCid).toBe(GUEST_CID);
    const reasons: string[] = [];
    guest.onclose = (r) => reasons.push(`guest:${r}`);
    host!.onclose = (r) => reasons.push(`host:${r}`);
    guest.close();
    await settle();
    expect(reasons.sort()).toEqual(['guest:closed', 'host:closed']);
    expect(t.device.connections).toHaveLength(0);
    expect(t.driver.connections).toHaveLength(0);
  });

  it('the host connects to a guest listener', async () => {
    const t = rig({}, features);
    const got: Uint8Array[] = [];
    t.driver.listen(5000, (c) => (c.ondata = (d) => got.push(d)));
    const c = await t.device.connect(5000);
    c.write(pattern(10, 7));
    await settle();
    expect(concat(got)).toEqual(pattern(10, 7));
  });

  it('connecting to a port nobody listens on is refused with RST', async () => {
    const t = rig({}, features);
    await expect(t.driver.connect(VMADDR_CID_HOST, 9)).rejects.toThrow('refused');
    await expect(t.device.connect(9)).rejects.toThrow('refused');
  });

  it('1 MiB each way through 16 KiB receive buffers arrives intact (credit flow control)', async () => {
    const t = rig({ bufAlloc: 16384 }, features, { bufAlloc: 16384 });
    const hostGot: Uint8Array[] = [];
    let host: VsockConnection | undefined;
    t.device.listen(80, (c) => {
      host = c;
      c.ondata = (d) => hostGot.push(d);
    });
    const guest = await t.driver.connect(VMADDR_CID_HOST, 80);
    const guestGot: Uint8Array[] = [];
    guest.ondata = (d) => guestGot.push(d);
    const up = pattern(1 << 20, 3);
    const down = pattern(1 << 20, 5);
    guest.write(up);
    host!.write(down);
    for (let i = 0; i < 400 && (guest.queuedBytes > 0 || host!.queuedBytes > 0); i++) await settle(1);
    await settle();
    // Buffer.equals: a deep toEqual over 1 MiB is needlessly slow.
    expect(Buffer.from(concat(hostGot)).equals(Buffer.from(up))).toBe(true);
    expect(Buffer.from(concat(guestGot)).equals(Buffer.from(down))).toBe(true);
    expect(guest.state).toBe('connected');
  });

  it('seqpacket keeps message and record boundaries, also for messages larger than an rx buffer', async () => {
    const t = rig({}, features);
    const msgs: { data: Uint8Array; eor: boolean }[] = [];
    t.device.listen(7, (c) => (c.ondata = (data, info) => msgs.push({ data, eor: info.eor })), VIRTIO_VSOCK_TYPE_SEQPACKET);
    const c = await t.driver.connect(VMADDR_CID_HOST, 7, VIRTIO_VSOCK_TYPE_SEQPACKET);
    c.write(pattern(10));
    c.write(pattern(20000, 9), { eor: true });
    c.write(new Uint8Array(0));
    await settle();
    expect(msgs).toEqual([
      { data: pattern(10), eor: false },
      { data: pattern(20000, 9), eor: true },
      { data: new Uint8Array(0), eor: false },
    ]);
    // Host to guest: the device splits a 20000-byte message over 4 KiB rx buffers.
    const back: Uint8Array[] = [];
    const host = t.device.connections[0];
    c.ondata = (d) => back.push(d);
    host.write(pattern(20000, 4), { eor: true });
    await settle();
    expect(back).toEqual([pattern(20000, 4)]);
  });
});
