import type { ChannelProgramResult } from '../channel/result.js';

/** Why the virtio-ccw driver gave up. */
export type CcwDriverErrorCode =
  /** SENSE ID did not report control unit type 0x3832: not a virtio-ccw device ([ccw.drv.1]). */
  | 'not-virtio-ccw'
  /** The device rejected every revision the driver can drive (spec 4.3.2.1.3). */
  | 'no-revision'
  /** A channel command the driver needs ended with something other than success. */
  | 'command-failed'
  /** Revision 0: the queue is not laid out as one legacy block (see legacyRingAllocator). */
  | 'legacy-layout';

/** A driver-side virtio-ccw failure. */
export class CcwDriverError extends Error {
  override readonly name = 'CcwDriverError';
  constructor(
    readonly code: CcwDriverErrorCode,
    message: string,
    /** How the failing channel program ended, for 'command-failed'. */
    readonly result?: ChannelProgramResult,
  ) {
    super(`${code}: ${message}`);
  }
}
