// An adversarial driver: core's initialization, then hand-built chains on data queue 0 and
// the controlq of a CryptoDevice (one data queue), used elements reaped by polling.
import { BumpAllocator, FlatGuestMemory, type DriverQueue, type Segment } from '@virtio/ring';
import { initializeDevice, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { CryptoDevice, WebCryptoCipherBackend, type CryptoDeviceOptions } from '../src/index.js';
import { settle } from './harness.js';

export const REQ = 0x1000;
export const RESP = 0x3000;

export function rawRig(opts: Partial<CryptoDeviceOptions> & { wanted?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(4 << 20));
  const device = new CryptoDevice({ backend: new WebCryptoCipherBackend(), ...opts });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const dev = initializeDevice(transport, { memory, allocator: new BumpAllocator(2 << 20, 2 << 20), wantedFeatures: opts.wanted ?? 0n, queues: [{ index: 0 }, { index: 1 }] });
  const queues = dev.queues as DriverQueue<number>[];
  let token = 0;
  /** Exposes a chain and waits (a bounded number of macrotasks: WebCrypto runs elsewhere) for its used element. */
  const submit = async (qi: number, out: Segment[], inSegs: Segment[]) => {
    if (!queues[qi].add(out, inSegs, token++)) throw new Error('ring full');
    dev.kick(qi);
    for (let round = 0; round < 500; round++) {
      await settle(1);
      const used = queues[qi].reap();
      if (used || (round >= 10 && (transport.state.status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0)) return used;
    }
    return null;
  };
  /** A 72-byte cipher create-session request (legacy layout) with the key after it; returns its segment. */
  const createSession = (algo: number, keyLen: number, op = 1, opType = 1, opcode = 0x02) => {
    memory.write(REQ, new Uint8Array(72 + keyLen));
    memory.writeU32(REQ, opcode);
    memory.writeU32(REQ + 16, algo);
    memory.writeU32(REQ + 20, keyLen);
    memory.writeU32(REQ + 24, op);
    memory.writeU32(REQ + 64, opType);
    return { addr: REQ, len: 72 + keyLen };
  };
  /** A 72-byte cipher data request header (legacy layout). */
  const dataReq = (opcode: number, session: bigint, ivLen: number, srcLen: number, dstLen: number, opType = 1) => {
    memory.write(REQ, new Uint8Array(72));
    memory.writeU32(REQ, opcode);
    memory.writeU64(REQ + 8, session);
    memory.writeU32(REQ + 24, ivLen);
    memory.writeU32(REQ + 28, srcLen);
    memory.writeU32(REQ + 32, dstLen);
    memory.writeU32(REQ + 64, opType);
    return { addr: REQ, len: 72 };
  };
  return { memory, device, transport, state: transport.state, dev, queues, submit, createSession, dataReq };
}
