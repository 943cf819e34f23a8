// An adversarial driver: core's initialization, then hand-built chains on the controlq,
// eventq and request queue 0 of a ScsiDevice, used elements reaped by polling.
import { BumpAllocator, FlatGuestMemory, type DriverQueue, type Segment } from '@virtio/ring';
import { initializeDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { MemoryBackend } from '@virtio/blk';
import { encodeLun, SCSI_DRIVER_FEATURES, ScsiDevice, ScsiDisk, type ScsiDeviceOptions } from '../src/index.js';
import { settle } from './harness.js';

export const REQ = 0x1000;
export const RESP = 0x2000;
export const DATA = 0x10000;

export function rawRig(opts: ScsiDeviceOptions & { wanted?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(4 << 20));
  const backend = new MemoryBackend({ size: 1 << 20 });
  const disk = new ScsiDisk({ backend });
  const device = new ScsiDevice({ units: [{ target: 0, lun: 0, unit: disk }], ...opts });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const dev = initializeDevice(transport, {
    memory,
    allocator: new BumpAllocator(2 << 20, 2 << 20),
    wantedFeatures: opts.wanted ?? SCSI_DRIVER_FEATURES,
    queues: [{ index: 0 }, { index: 1 }, { index: 2 }],
  });
  const queues = dev.queues as DriverQueue<number>[];
  let token = 0;

  /** virtio_scsi_req_cmd's device-readable header (cdb_size 32) at `addr`; returns its segment. */
  const cmdHeader = (cdb: Uint8Array, lun = encodeLun({ target: 0, lun: 0 }), addr = REQ, extra = 0) => {
    memory.write(addr, new Uint8Array(51 + extra));
    memory.write(addr, lun);
    memory.writeU64(addr + 8, 1n);
    memory.write(addr + 19, cdb);
    return { addr, len: 51 + extra };
  };
  /** The response area, pre-filled with 0xff so unwritten bytes show. */
  const resp = (len = 12 + 96, addr = RESP) => {
    memory.write(addr, new Uint8Array(len).fill(0xff));
    return { addr, len };
  };
  /** Exposes a chain on queue `qi`, notifies, lets the device run, returns the used element (or null). */
  const submit = async (qi: number, out: Segment[], inSegs: Segment[]) => {
    const id = token++;
    if (!queues[qi].add(out, inSegs, id)) throw new Error('ring full');
    dev.kick(qi);
    await settle();
    return queues[qi].reap();
  };
  const response = (addr = RESP) => ({
    senseLen: memory.readU32(addr),
    residual: memory.readU32(addr + 4),
    status: memory.readU8(addr + 10),
    response: memory.readU8(addr + 11),
  });
  return { memory, backend, disk, device, transport, state: transport.state, dev, queues, cmdHeader, resp, submit, response };
}
