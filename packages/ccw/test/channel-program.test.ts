import { describe, expect, it } from 'vitest';
import {
  CCW_CMD_BASIC_SENSE,
  CCW_CMD_NOOP,
  CCW_CMD_SENSE_ID,
  CCW_CMD_SET_VIRTIO_REV,
  CCW_CMD_TIC,
  CCW_CMD_WRITE_STATUS,
  CCW_FLAG_CC,
  CCW_FLAG_IDA,
  CCW_FLAG_SLI,
  CCW_SIZE,
  MAX_CHANNEL_PROGRAM_LENGTH,
  SENSE_CMD_REJECT,
  VIRTIO_CCW_CU_TYPE,
  readCcw,
  writeCcw,
} from '../src/index.js';
import { fixture, OK, REJECT } from './fixture.js';
import { be16 } from './guest.js';

describe('channel programs', () => {
  it('writes and reads format-1 CCWs big-endian', () => {
    const { guest } = fixture();
    const addr = guest.alloc(8);
    writeCcw(guest.memory, addr, { cmd: 0x83, flags: 0x60, count: 0x1234, cda: 0x7654_3210 });
    expect(guest.bytes(addr, 8)).toEqual([0x83, 0x60, 0x12, 0x34, 0x76, 0x54, 0x32, 0x10]);
    expect(readCcw(guest.memory, addr)).toEqual({ cmd: 0x83, flags: 0x60, count: 0x1234, cda: 0x7654_3210 });
  });

  it('SENSE ID reports control unit type 0x3832 and the device ID as model', () => {
    const { cmd, guest, device } = fixture();
    const r = cmd(CCW_CMD_SENSE_ID, new Array(256).fill(0xaa));
    expect(r.status).toBe('ok');
    const bytes = guest.bytes(r.addr, 256);
    expect(bytes.slice(0, 7)).toEqual([0xff, VIRTIO_CCW_CU_TYPE >> 8, VIRTIO_CCW_CU_TYPE & 0xff, device.deviceId, 0, 0, 0]);
    expect(bytes.slice(7).every((b) => b === 0)).toBe(true);
  });

  it('[ccw.dev.1] an unsupported command ends in a unit check with command reject sense', () => {
    const { cmd, guest } = fixture();
    expect(cmd(0x99, [0, 0, 0, 0])).toMatchObject(REJECT);
    const sense = cmd(CCW_CMD_BASIC_SENSE, new Array(32).fill(0xaa));
    expect(sense.status).toBe('ok');
    expect(guest.memory.readU8(sense.addr)).toBe(SENSE_CMD_REJECT);
    // Sense is consumed by BASIC SENSE.
    const again = cmd(CCW_CMD_BASIC_SENSE, new Array(32).fill(0xaa));
    expect(guest.memory.readU8(again.addr)).toBe(0);
  });

  it('[ccw.dev.1] CCW flags the device does not support (indirect data addressing) are a command reject', () => {
    const { setRevision, cmd } = fixture();
    expect(cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(1), 0, 0], { flags: CCW_FLAG_IDA })).toMatchObject(REJECT);
    expect(setRevision(1)).toMatchObject(OK);
  });

  it('[ccw.dev.2] a count that differs from the expected length without SLI is incorrect length, not executed', () => {
    const f = fixture();
    f.setRevision(2);
    // WRITE_STATUS carries one byte; count 2 without SLI.
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1, 0])).toMatchObject({ status: 'incorrect-length' });
    expect(f.readStatus()).toBe(0);
    // Too short (count 0) as well.
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1], { count: 0 })).toMatchObject({ status: 'incorrect-length' });
    expect(f.readStatus()).toBe(0);
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1])).toMatchObject(OK);
    expect(f.readStatus()).toBe(1);
  });

  it('[ccw.dev.3] with SLI, too little data is a check condition and a longer buffer is accepted', () => {
    const f = fixture();
    // SET_VIRTIO_REV needs 4 bytes: 3 with SLI is a unit check, and the revision stays unset.
    expect(f.cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(2), 0], { flags: CCW_FLAG_SLI })).toMatchObject(REJECT);
    expect(f.transport.revision).toBeUndefined();
    // 8 bytes with SLI: accepted, the first 4 used.
    expect(f.cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(2), 0, 0, 9, 9, 9, 9], { flags: CCW_FLAG_SLI })).toMatchObject(OK);
    expect(f.transport.revision).toBe(2);
    // WRITE_STATUS with a longer buffer and SLI takes effect.
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1, 0xff, 0xff], { flags: CCW_FLAG_SLI })).toMatchObject(OK);
    expect(f.readStatus()).toBe(1);
  });

  it('chains commands while CC is set and stops at the first failing one', () => {
    const f = fixture();
    f.setRevision(2);
    const st = (v: number) => f.guest.data([v]);
    const prog = f.guest.program(
      { cmd: CCW_CMD_WRITE_STATUS, flags: CCW_FLAG_CC, count: 1, cda: st(1) },
      { cmd: CCW_CMD_NOOP, flags: CCW_FLAG_CC, count: 0, cda: 0 },
      { cmd: 0x99, flags: CCW_FLAG_CC, count: 0, cda: 0 },
      { cmd: CCW_CMD_WRITE_STATUS, flags: 0, count: 1, cda: st(3) },
    );
    expect(f.transport.startSubchannel(prog)).toEqual({ status: 'unit-check', sense: 'command-reject', ccw: prog + 2 * CCW_SIZE });
    expect(f.readStatus()).toBe(1);
  });

  it('a CCW without CC ends the program', () => {
    const f = fixture();
    f.setRevision(2);
    const prog = f.guest.program(
      { cmd: CCW_CMD_WRITE_STATUS, flags: 0, count: 1, cda: f.guest.data([1]) },
      { cmd: CCW_CMD_WRITE_STATUS, flags: 0, count: 1, cda: f.guest.data([3]) },
    );
    expect(f.transport.startSubchannel(prog)).toEqual(OK);
    expect(f.readStatus()).toBe(1);
  });

  it('follows TRANSFER IN CHANNEL and rejects a TIC to a TIC and endless TIC loops with a program check', () => {
    const f = fixture();
    const target = f.guest.program({ cmd: CCW_CMD_SET_VIRTIO_REV, flags: 0, count: 4, cda: f.guest.data([0, 2, 0, 0]) });
    const viaTic = f.guest.program({ cmd: CCW_CMD_NOOP, flags: CCW_FLAG_CC, count: 0, cda: 0 }, { cmd: CCW_CMD_TIC, flags: 0, count: 0, cda: target });
    expect(f.transport.startSubchannel(viaTic)).toEqual(OK);
    expect(f.transport.revision).toBe(2);

    const tic2 = f.guest.program({ cmd: CCW_CMD_TIC, flags: 0, count: 0, cda: 0 });
    const tic1 = f.guest.program({ cmd: CCW_CMD_TIC, flags: 0, count: 0, cda: tic2 });
    expect(f.transport.startSubchannel(tic1)).toEqual({ status: 'program-check', ccw: tic2 });

    // NOOP, TIC back to the NOOP: loops forever on real hardware; here a bounded program check.
    const loop = f.guest.alloc(16);
    writeCcw(f.guest.memory, loop, { cmd: CCW_CMD_NOOP, flags: CCW_FLAG_CC, count: 0, cda: 0 });
    writeCcw(f.guest.memory, loop + 8, { cmd: CCW_CMD_TIC, flags: 0, count: 0, cda: loop });
    expect(f.transport.startSubchannel(loop).status).toBe('program-check');
    expect(MAX_CHANNEL_PROGRAM_LENGTH).toBeGreaterThan(16);
  });

  it('a channel program or data area outside guest memory, or misaligned, is a program check', () => {
    const f = fixture();
    const size = f.guest.memory.size;
    expect(f.transport.startSubchannel(size)).toEqual({ status: 'program-check', ccw: size });
    expect(f.transport.startSubchannel(size - 4)).toEqual({ status: 'program-check', ccw: size - 4 });
    const odd = f.guest.alloc(16) + 4;
    expect(f.transport.startSubchannel(odd)).toEqual({ status: 'program-check', ccw: odd });
    expect(f.transport.startSubchannel(-8).status).toBe('program-check');
    // Data address past the end of memory, and one with the 31-bit limit exceeded.
    const p1 = f.guest.program({ cmd: CCW_CMD_SET_VIRTIO_REV, flags: 0, count: 4, cda: size - 2 });
    expect(f.transport.startSubchannel(p1)).toEqual({ status: 'program-check', ccw: p1 });
    const p2 = f.guest.program({ cmd: CCW_CMD_SENSE_ID, flags: CCW_FLAG_SLI, count: 8, cda: 0x8000_0000 });
    expect(f.transport.startSubchannel(p2)).toEqual({ status: 'program-check', ccw: p2 });
    expect(f.transport.revision).toBeUndefined();
  });

  it('runs programs given as a list, and rejects malformed list entries', () => {
    const f = fixture();
    const data = f.guest.data([0, 1, 0, 0]);
    expect(f.transport.execute([{ cmd: CCW_CMD_SET_VIRTIO_REV, flags: 0, count: 4, cda: data }])).toEqual(OK);
    expect(f.transport.revision).toBe(1);
    expect(f.transport.execute([{ cmd: CCW_CMD_NOOP, flags: 0, count: 1.5, cda: 0 }])).toEqual({ status: 'program-check', ccw: 0 });
    expect(f.transport.execute([{ cmd: 0x100, flags: 0, count: 0, cda: 0 }]).status).toBe('program-check');
    expect(f.transport.execute([{ cmd: CCW_CMD_NOOP, flags: CCW_FLAG_CC, count: 0, cda: 0 }])).toEqual({ status: 'program-check', ccw: 1 });
    expect(f.transport.execute([{ cmd: CCW_CMD_TIC, flags: 0, count: 0, cda: 0 }]).status).toBe('program-check');
  });

  it('a disabled subchannel is not operational', () => {
    const f = fixture();
    f.transport.disableSubchannel();
    const prog = f.guest.program({ cmd: CCW_CMD_NOOP, flags: 0, count: 0, cda: 0 });
    expect(f.transport.startSubchannel(prog)).toEqual({ status: 'not-operational' });
    expect(f.transport.execute([{ cmd: CCW_CMD_NOOP, flags: 0, count: 0, cda: 0 }])).toEqual({ status: 'not-operational' });
  });
});
