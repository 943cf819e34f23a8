// Hand-made packets: a hostile driver's tx chains and a hostile device's rx packets.
import type { DriverQueue } from '@virtio/ring';
import { encodeHeader, VIRTIO_VSOCK_HDR_SIZE, VIRTIO_VSOCK_RX, VIRTIO_VSOCK_TX, type VsockHeader } from '../src/index.js';
import type { rig } from './harness.js';

type Rig = ReturnType<typeof rig>;

export function header(over: Partial<VsockHeader>): VsockHeader {
  return { srcCid: 3, dstCid: 2, srcPort: 40000, dstPort: 1, len: 0, type: 1, op: 1, flags: 0, bufAlloc: 4096, fwdCnt: 0, ...over };
}

/** Puts a packet on the tx queue behind the driver's back. */
export function sendRaw(t: Rig, hdr: VsockHeader, payload = new Uint8Array(hdr.len)): void {
  const addr = t.allocator.alloc(VIRTIO_VSOCK_HDR_SIZE + payload.length, 8); // the driver frees it when the device returns it
  const b = new DataView(new ArrayBuffer(VIRTIO_VSOCK_HDR_SIZE));
  encodeHeader(hdr, b);
  t.memory.write(addr, new Uint8Array(b.buffer));
  t.memory.write(addr + VIRTIO_VSOCK_HDR_SIZE, payload);
  const q = t.driver.device.queues[VIRTIO_VSOCK_TX] as DriverQueue<{ addr: number }>;
  if (!q.add([{ addr, len: VIRTIO_VSOCK_HDR_SIZE + payload.length }], [], { addr })) throw new Error('tx full');
  t.driver.device.kick(VIRTIO_VSOCK_TX);
}

/** Acts as the device: writes `hdr` into the next rx buffer and interrupts. */
export function deliverRaw(t: Rig, hdr: VsockHeader): void {
  const ctx = t.act.ctx!;
  const q = ctx.queues[VIRTIO_VSOCK_RX]!;
  const chain = q.pop();
  if (!chain) throw new Error('no rx buffer');
  const b = new DataView(new ArrayBuffer(VIRTIO_VSOCK_HDR_SIZE));
  encodeHeader(hdr, b);
  t.memory.write(chain.writable[0].addr, new Uint8Array(b.buffer));
  q.push(chain, VIRTIO_VSOCK_HDR_SIZE);
  q.needsNotification();
  ctx.interrupt.usedBuffer(VIRTIO_VSOCK_RX);
}
