// An adversarial driver: core's initialization, then hand-built request chains on queue 0 of a
// BlkDevice, used elements reaped by polling. For framing, status and error-path tests.
import { BumpAllocator, FlatGuestMemory, type DriverQueue, type Segment } from '@virtio/ring';
import { initializeDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BLK_DRIVER_FEATURES, BlkDevice, MemoryBackend, type BlkDeviceOptions, type BlockBackend } from '../src/index.js';
import { settle } from './gated-backend.js';

export const HDR = 0x1000;
export const STATUS = 0x2000;
export const DATA = 0x10000;

export function rawRig(opts: Partial<BlkDeviceOptions> & { wanted?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(4 << 20));
  const backend: BlockBackend = opts.backend ?? new MemoryBackend({ size: 1 << 20 });
  const device = new BlkDevice({ ...opts, backend });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  let interrupts = 0;
  transport.onInterrupt = () => interrupts++;
  const dev = initializeDevice(transport, {
    memory,
    allocator: new BumpAllocator(2 << 20, 2 << 20),
    wantedFeatures: opts.wanted ?? BLK_DRIVER_FEATURES,
    queues: [{ index: 0 }],
  });
  const q = dev.queues[0] as DriverQueue<number>;
  let token = 0;

  /** Writes struct virtio_blk_req's header at `addr`. */
  const header = (type: number, sector: bigint | number = 0, addr = HDR) => {
    memory.writeU32(addr, type);
    memory.writeU32(addr + 4, 0);
    memory.writeU64(addr + 8, BigInt(sector));
    return { addr, len: 16 };
  };
  /** A status byte pre-set to 0xff so an unwritten status shows. */
  const status = (addr = STATUS) => {
    memory.writeU8(addr, 0xff);
    return { addr, len: 1 };
  };
  /** Exposes a chain, notifies, lets the device run, returns the used element (or null). */
  const submit = async (out: Segment[], inSegs: Segment[]) => {
    const id = token++;
    if (!q.add(out, inSegs, id)) throw new Error('ring full');
    dev.kick(0);
    await settle(20);
    const used = q.reap();
    if (used && used.token !== id) throw new Error(`used token ${used.token}, expected ${id}`);
    return used;
  };
  /** A request with a separate header, data and status descriptor; resolves to [status, used len]. */
  const request = async (type: number, sector: bigint | number, data: Segment[] = [], dataWritable = false) => {
    const used = await submit(dataWritable ? [header(type, sector)] : [header(type, sector), ...data], dataWritable ? [...data, status()] : [status()]);
    return [memory.readU8(STATUS), used?.len ?? -1] as const;
  };
  return {
    memory,
    backend,
    device,
    transport,
    state: transport.state,
    dev,
    q,
    header,
    status,
    submit,
    request,
    get interrupts() {
      return interrupts;
    },
  };
}

/** struct virtio_blk_discard_write_zeroes segments written at `addr`. */
export function rangesAt(
  memory: FlatGuestMemory,
  addr: number,
  ranges: readonly { sector: bigint | number; num: number; flags?: number }[],
): Segment[] {
  ranges.forEach((r, i) => {
    memory.writeU64(addr + i * 16, BigInt(r.sector));
    memory.writeU32(addr + i * 16 + 8, r.num);
    memory.writeU32(addr + i * 16 + 12, r.flags ?? 0);
  });
  return [{ addr, len: ranges.length * 16 }];
}
