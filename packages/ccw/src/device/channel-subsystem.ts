/**
 * The host's channel subsystem for virtio-ccw devices: subchannels by ID, the I/O
 * instructions a guest issues on them (MODIFY SUBCHANNEL enable/disable, START SUBCHANNEL,
 * TEST SUBCHANNEL) and the DIAGNOSE 0x500 subcode 3 notification hypercall (spec 4.3.3.2).
 */
import { NOT_OPERATIONAL, type ChannelProgramResult } from '../channel/result.js';
import { VIRTIO_CCW_NOTIFY_ERROR } from '../protocol/constants.js';
import type { CcwTransport } from './transport.js';

/**
 * What a virtio-ccw driver needs from the channel subsystem. {@link ChannelSubsystem}
 * implements it against device-side transports in the same process; a guest would implement
 * it with the real I/O instructions and DIAGNOSE.
 * Subchannel IDs are the 32-bit subchannel identification word (e.g. 0x0001_0000 | number).
 */
export interface ChannelSubsystemAccess {
  /** MODIFY SUBCHANNEL setting the enabled bit. @returns false when there is no such subchannel */
  enableSubchannel(schid: number): boolean;
  /** MODIFY SUBCHANNEL clearing the enabled bit. @returns false when there is no such subchannel */
  disableSubchannel(schid: number): boolean;
  /** START SUBCHANNEL with the channel program at guest-physical `programAddress`, to its end. */
  startSubchannel(schid: number, programAddress: number): ChannelProgramResult;
  /** TEST SUBCHANNEL: whether an I/O interrupt was pending (and clears it). */
  testSubchannel(schid: number): boolean;
  /**
   * DIAGNOSE 0x500 subcode 3: GPR2 = subchannel ID, GPR3 = notification data, GPR4 = host cookie.
   * @returns GPR2 after the call: a host cookie for the next notification, negative on error
   */
  notify(schid: number | bigint, data: number, cookie: bigint): bigint;
}

/** Subchannels of virtio-ccw proxy devices, addressed by subchannel ID. */
export class ChannelSubsystem implements ChannelSubsystemAccess {
  readonly #byId = new Map<number, number>();
  /** Slot = host cookie: a notification that brings back its cookie skips the ID lookup. */
  readonly #slots: { readonly schid: number; readonly transport: CcwTransport }[] = [];
  readonly #cookies: bigint[] = [];

  /**
   * Attaches `transport` as subchannel `schid` (a u32).
   * @throws RangeError when `schid` is not a u32 or already attached (a host programming error)
   */
  attach(schid: number, transport: CcwTransport): void {
    if (!Number.isInteger(schid) || schid < 0 || schid > 0xffff_ffff) throw new RangeError(`subchannel ID ${schid} is not a u32`);
    if (this.#byId.has(schid)) throw new RangeError(`subchannel 0x${schid.toString(16)} already attached`);
    this.#byId.set(schid, this.#slots.length);
    this.#cookies.push(BigInt(this.#slots.length));
    this.#slots.push({ schid, transport });
  }

  /** The transport of subchannel `schid`, if attached. */
  transport(schid: number): CcwTransport | undefined {
    const slot = this.#byId.get(schid);
    return slot === undefined ? undefined : this.#slots[slot].transport;
  }

  enableSubchannel(schid: number): boolean {
    const t = this.transport(schid);
    t?.enableSubchannel();
    return t !== undefined;
  }

  disableSubchannel(schid: number): boolean {
    const t = this.transport(schid);
    t?.disableSubchannel();
    return t !== undefined;
  }

  startSubchannel(schid: number, programAddress: number): ChannelProgramResult {
    return this.transport(schid)?.startSubchannel(programAddress) ?? NOT_OPERATIONAL;
  }

  testSubchannel(schid: number): boolean {
    return this.transport(schid)?.testSubchannel() ?? false;
  }

  /**
   * DIAGNOSE 0x500 subcode 3. Bits 0-31 of GPR2 (the high word) are ignored ([ccw.dev.13]).
   * The returned cookie names the subchannel's slot; passing it back in GPR4 skips the lookup
   * by ID ([ccw.dev.14]). Returns {@link VIRTIO_CCW_NOTIFY_ERROR} for an unknown subchannel or
   * a notification the device cannot take. Never throws.
   */
  notify(schid: number | bigint, data: number, cookie: bigint): bigint {
    const id = typeof schid === 'bigint' ? Number(BigInt.asUintN(32, schid)) : schid >>> 0;
    const hint = Number(cookie);
    const slot = this.#slots[hint]?.schid === id ? hint : this.#byId.get(id);
    if (slot === undefined) return VIRTIO_CCW_NOTIFY_ERROR;
    return this.#slots[slot].transport.notify(data) ? this.#cookies[slot] : VIRTIO_CCW_NOTIFY_ERROR;
  }
}
