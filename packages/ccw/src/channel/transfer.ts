/**
 * Data transfer of one CCW: the length rules of spec 4.3.1.2 and bounded copies between the
 * CCW's data area in guest memory and a host buffer.
 */
import type { GuestMemory } from '@virtio/ring';
import { CCW_FLAG_SLI } from '../protocol/constants.js';
import { CCW_ADDRESS_LIMIT, type Ccw } from './ccw.js';
import type { CommandStatus } from './result.js';

/**
 * Checks the CCW's count against the `expected` length of the command's data.
 * - count equal: 'ok'.
 * - length checks not suppressed (no SLI) and count differs: 'incorrect-length' ([ccw.dev.2]).
 * - SLI and count too short to process the command: 'command-reject', a check condition ([ccw.dev.3]).
 * - SLI and count longer: 'ok', the command uses the first `expected` bytes.
 */
export function checkLength(ccw: Ccw, expected: number): CommandStatus {
  if (ccw.count === expected) return 'ok';
  if ((ccw.flags & CCW_FLAG_SLI) === 0) return 'incorrect-length';
  return ccw.count < expected ? 'command-reject' : 'ok';
}

/**
 * For commands whose data may be shorter than the whole area (READ_CONF, WRITE_CONF, SENSE):
 * a count above `max` without SLI is 'incorrect-length'; otherwise 'ok'.
 */
export function checkPrefixLength(ccw: Ccw, max: number): CommandStatus {
  return ccw.count > max && (ccw.flags & CCW_FLAG_SLI) === 0 ? 'incorrect-length' : 'ok';
}

/** Whether `[cda, cda + len)` is addressable by a format-1 CCW and lies in guest memory. */
export function dataInMemory(memory: GuestMemory, cda: number, len: number): boolean {
  return Number.isInteger(cda) && cda >= 0 && cda + len <= CCW_ADDRESS_LIMIT && memory.contains(cda, len);
}

/**
 * Copies `dest.byteLength` bytes from the data area at `cda` into `dest`.
 * @returns 'program-check' when the area is outside guest memory (nothing is copied), else 'ok'
 */
export function fetchData(memory: GuestMemory, cda: number, dest: Uint8Array): CommandStatus {
  if (!dataInMemory(memory, cda, dest.byteLength)) return 'program-check';
  memory.read(cda, dest);
  return 'ok';
}

/**
 * Copies `src` into the data area at `cda`.
 * @returns 'program-check' when the area is outside guest memory (nothing is written), else 'ok'
 */
export function storeData(memory: GuestMemory, cda: number, src: Uint8Array): CommandStatus {
  if (!dataInMemory(memory, cda, src.byteLength)) return 'program-check';
  memory.write(cda, src);
  return 'ok';
}
