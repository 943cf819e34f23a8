/**
 * Driver-side channel I/O: one-CCW channel programs built in guest memory (a CCW slot and a
 * data area allocated once) and started through the channel subsystem.
 */
import type { GuestAllocator, GuestMemory } from '@virtio/ring';
import { CCW_ADDRESS_LIMIT, CCW_SIZE, writeCcw } from '../channel/ccw.js';
import type { ChannelProgramResult } from '../channel/result.js';
import type { ChannelSubsystemAccess } from '../device/channel-subsystem.js';
import { CcwDriverError } from './errors.js';

/** Size of the driver's data area: SENSE ID data and configuration spaces up to this size. */
export const DRIVER_DATA_SIZE = 4096;

export class ChannelIo {
  readonly #memory: GuestMemory;
  readonly #css: ChannelSubsystemAccess;
  readonly #schid: number;
  readonly #ccwAddr: number;
  readonly #dataAddr: number;
  /** Host copy of the data area; `view` reads and writes it big-endian (or le where the spec says). */
  readonly bytes = new Uint8Array(DRIVER_DATA_SIZE);
  readonly view = new DataView(this.bytes.buffer);

  /**
   * @throws Error from the allocator when guest memory is exhausted; RangeError when it hands
   *   out memory at or above 2 GiB, which format-1 CCWs cannot address
   */
  constructor(memory: GuestMemory, allocator: GuestAllocator, css: ChannelSubsystemAccess, schid: number) {
    this.#memory = memory;
    this.#css = css;
    this.#schid = schid;
    this.#ccwAddr = allocator.alloc(CCW_SIZE, 8);
    this.#dataAddr = allocator.alloc(DRIVER_DATA_SIZE, 8);
    if (Math.max(this.#ccwAddr + CCW_SIZE, this.#dataAddr + DRIVER_DATA_SIZE) > CCW_ADDRESS_LIMIT) {
      throw new RangeError('channel program memory must lie below 2 GiB (31-bit CCW addresses)');
    }
  }

  /**
   * Runs one CCW whose data is the first `count` bytes of {@link bytes}: copied to the guest
   * before, and back after a successful program (read commands). The count is the exact
   * length of the command's data ([ccw.drv.2]); length checks are not suppressed.
   */
  run(cmd: number, count: number): ChannelProgramResult {
    const data = this.bytes.subarray(0, count);
    this.#memory.write(this.#dataAddr, data);
    writeCcw(this.#memory, this.#ccwAddr, { cmd, flags: 0, count, cda: this.#dataAddr });
    const result = this.#css.startSubchannel(this.#schid, this.#ccwAddr);
    if (result.status === 'ok') this.#memory.read(this.#dataAddr, data);
    return result;
  }

  /** {@link run}, throwing unless the program ended well. @throws CcwDriverError 'command-failed' */
  must(cmd: number, count: number, what: string): void {
    const result = this.run(cmd, count);
    if (result.status !== 'ok') throw new CcwDriverError('command-failed', `${what}: ${result.status}`, result);
  }
}
