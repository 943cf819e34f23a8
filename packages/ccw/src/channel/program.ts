/**
 * Channel program execution: command chaining (CCW_FLAG_CC), TRANSFER IN CHANNEL, and the
 * guards that keep a hostile program from looping or reaching outside guest memory.
 */
import type { GuestMemory } from '@virtio/ring';
import { CCW_CMD_TIC, CCW_FLAG_CC } from '../protocol/constants.js';
import { CCW_ADDRESS_LIMIT, CCW_SIZE, readCcw, type Ccw } from './ccw.js';
import { PROGRAM_OK, programResult, type ChannelProgramResult, type CommandStatus } from './result.js';

/** Executes one command of a channel program. */
export interface CommandExecutor {
  executeCommand(ccw: Ccw): CommandStatus;
}

/**
 * The most CCWs one program may execute. Real channel programs for virtio-ccw hold a handful;
 * a longer one (e.g. a TIC loop) ends in a program check instead of hanging the host.
 */
export const MAX_CHANNEL_PROGRAM_LENGTH = 1024;

/**
 * Runs the channel program at guest address `address` (the ORB's channel program address):
 * executes CCWs while they chain commands, follows TRANSFER IN CHANNEL, and stops at the
 * first command that does not end with 'ok'. Never throws.
 */
export function runChannelProgram(memory: GuestMemory, address: number, exec: CommandExecutor): ChannelProgramResult {
  let addr = address;
  let afterTic = false;
  for (let n = 0; n < MAX_CHANNEL_PROGRAM_LENGTH; n++) {
    if (!validCcwAddress(memory, addr)) return programResult('program-check', addr);
    const ccw = readCcw(memory, addr);
    if (ccw.cmd === CCW_CMD_TIC) {
      // A TIC may not point at another TIC (PoP); its target is the next CCW.
      if (afterTic) return programResult('program-check', addr);
      afterTic = true;
      addr = ccw.cda;
      continue;
    }
    afterTic = false;
    const status = exec.executeCommand(ccw);
    if (status !== 'ok') return programResult(status, addr);
    if ((ccw.flags & CCW_FLAG_CC) === 0) return PROGRAM_OK;
    addr += CCW_SIZE;
  }
  return programResult('program-check', addr);
}

/**
 * Runs a channel program given as a list of CCWs (a host that fetched them itself).
 * TRANSFER IN CHANNEL has no meaning in a list and is a program check, as is a chain that
 * runs past the end of the list. Never throws.
 */
export function runCcwList(program: readonly Ccw[], exec: CommandExecutor): ChannelProgramResult {
  const n = Math.min(program.length, MAX_CHANNEL_PROGRAM_LENGTH);
  for (let i = 0; i < n; i++) {
    const ccw = program[i];
    if (!validCcwFields(ccw) || ccw.cmd === CCW_CMD_TIC) return programResult('program-check', i);
    const status = exec.executeCommand(ccw);
    if (status !== 'ok') return programResult(status, i);
    if ((ccw.flags & CCW_FLAG_CC) === 0) return PROGRAM_OK;
  }
  return programResult('program-check', n);
}

/** Whether each field fits its width in a format-1 CCW (a list from a host may hold anything). */
function validCcwFields(ccw: Ccw): boolean {
  return (
    isUint(ccw.cmd, 0xff) && isUint(ccw.flags, 0xff) && isUint(ccw.count, 0xffff) && isUint(ccw.cda, CCW_ADDRESS_LIMIT - 1)
  );
}

function isUint(x: number, max: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= max;
}

function validCcwAddress(memory: GuestMemory, addr: number): boolean {
  return addr % CCW_SIZE === 0 && addr + CCW_SIZE <= CCW_ADDRESS_LIMIT && memory.contains(addr, CCW_SIZE);
}
