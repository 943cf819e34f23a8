/**
 * How a channel command or program ends, as the channel subsystem reports it in the
 * subchannel status word. Modelled as values, never thrown: malformed channel programs are
 * guest input.
 */

/** How one command ended. */
export type CommandStatus =
  /** Channel end + device end. */
  | 'ok'
  /** Unit check with command reject sense (spec 4.3.1.2: unsupported command, bad revision, ...). */
  | 'command-reject'
  /** Channel status "incorrect length": the count did not match and length checks were not suppressed. */
  | 'incorrect-length'
  /** Channel status "program check": a malformed CCW or channel program, or a data address outside guest memory. */
  | 'program-check'
  /**
   * Unit status "busy": the device is still resetting (its reset waits for in-flight work, see
   * CcwTransport), so the command did not conclude. Start the program again; a VDEV_RESET
   * concludes successfully once the reset is complete ([ccw.dev.15]).
   */
  | 'busy';

/**
 * How a channel program ended. `ccw` locates the CCW that ended it: its guest address for a
 * program in guest memory, its index for a program given as a list.
 */
export type ChannelProgramResult =
  | { readonly status: 'ok' }
  | { readonly status: 'unit-check'; readonly sense: 'command-reject'; readonly ccw: number }
  | { readonly status: 'incorrect-length'; readonly ccw: number }
  | { readonly status: 'program-check'; readonly ccw: number }
  /** The device is busy resetting; `ccw` is the command that was not concluded. Start the program again. */
  | { readonly status: 'busy'; readonly ccw: number }
  /** The subchannel is not enabled (START SUBCHANNEL condition code 3). */
  | { readonly status: 'not-operational' };

/** The result of a program that completed. */
export const PROGRAM_OK: ChannelProgramResult = Object.freeze({ status: 'ok' });
export const NOT_OPERATIONAL: ChannelProgramResult = Object.freeze({ status: 'not-operational' });

/** The program result for a command that ended with `status` at `ccw`. */
export function programResult(status: CommandStatus, ccw: number): ChannelProgramResult {
  switch (status) {
    case 'ok':
      return PROGRAM_OK;
    case 'command-reject':
      return { status: 'unit-check', sense: 'command-reject', ccw };
    case 'incorrect-length':
      return { status: 'incorrect-length', ccw };
    case 'program-check':
      return { status: 'program-check', ccw };
    case 'busy':
      return { status: 'busy', ccw };
  }
}
