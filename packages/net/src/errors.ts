/** Errors the net driver throws before exposing anything to the device. */
export type NetDriverErrorCode =
  /** The request breaks a driver requirement of spec 5.1 (the message names it). */
  | 'not-allowed'
  /** The feature the command needs was not negotiated. */
  | 'not-negotiated'
  /** The frame does not fit a transmit buffer, or is shorter than an Ethernet header. */
  | 'bad-frame'
  /** The driver was reset or the device needs a reset. */
  | 'not-live';

export class NetDriverError extends Error {
  readonly code: NetDriverErrorCode;
  constructor(code: NetDriverErrorCode, message: string) {
    super(message);
    this.name = 'NetDriverError';
    this.code = code;
  }
}
