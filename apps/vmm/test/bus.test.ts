import { describe, expect, it } from 'vitest';
import { dispatch } from '../src/bus/dispatch.js';
import { Bus, BusConflictError, type BusDevice } from '../src/bus/io-bus.js';
import { MmioSlots } from '../src/bus/mmio-slots.js';
import { KIND_IO, KIND_MMIO } from '../src/vcpu/channel.js';

class Recorder implements BusDevice {
  log: string[] = [];
  read(o: number, s: number) {
    this.log.push(`r${o}/${s}`);
    return 0x11223344 & (s === 4 ? 0xffffffff : (1 << (s * 8)) - 1);
  }
  write(o: number, s: number, v: number) {
    this.log.push(`w${o}/${s}=${v.toString(16)}`);
  }
}

describe('Bus', () => {
  it('dispatches to the owning device with offsets relative to its base', () => {
    const bus = new Bus();
    const a = new Recorder();
    bus.register(0x3f8, 8, a, 'a');
    bus.write(0x3fb, 1, 0x83);
    expect(bus.read(0x3f8, 2)).toBe(0x3344);
    expect(a.log).toEqual(['w3/1=83', 'r0/2']);
  });

  it('reads unclaimed addresses as all ones, drops writes and counts both', () => {
    const bus = new Bus();
    bus.register(0x10, 4, new Recorder(), 'a');
    expect(bus.read(0x20, 1)).toBe(0xff);
    expect(bus.read(0x20, 4)).toBe(0xffffffff);
    expect(bus.read(0x12, 4)).toBe(0xffffffff); // straddles the end
    bus.write(0x99, 2, 1);
    expect([bus.unclaimedReads, bus.unclaimedWrites]).toEqual([3, 1]);
  });

  it('splits 8-byte accesses into two 4-byte halves', () => {
    const bus = new Bus();
    const a = new Recorder();
    bus.register(0, 16, a, 'a');
    bus.write(0, 8, 0x1_0000_0002);
    expect(bus.read(8, 8)).toBe(0x11223344 * 2 ** 32 + 0x11223344);
    expect(a.log).toEqual(['w0/4=2', 'w4/4=1', 'r8/4', 'r12/4']);
  });

  it('treats 3-byte and other odd-sized accesses as unclaimed', () => {
    const bus = new Bus();
    const a = new Recorder();
    bus.register(0, 16, a, 'a');
    expect(bus.read(0, 3)).toBe(0xffffff);
    bus.write(0, 5, 1);
    expect(a.log).toEqual([]);
    expect([bus.unclaimedReads, bus.unclaimedWrites]).toEqual([1, 1]);
  });

  it('refuses overlapping registrations', () => {
    const bus = new Bus();
    bus.register(0x60, 5, new Recorder(), 'i8042');
    expect(() => bus.register(0x64, 1, new Recorder(), 'x')).toThrow(BusConflictError);
  });
});

describe('dispatch', () => {
  it('performs string port I/O element by element, little-endian', () => {
    const pio = new Bus();
    const mmio = new Bus();
    const a = new Recorder();
    pio.register(0x80, 4, a, 'a');
    const data = Uint8Array.of(1, 2, 3, 4);
    dispatch({ kind: KIND_IO, addr: 0x80, size: 2, count: 2, isWrite: true, data }, pio, mmio);
    expect(a.log).toEqual(['w0/2=201', 'w0/2=403']);
    dispatch({ kind: KIND_IO, addr: 0x80, size: 2, count: 2, isWrite: false, data }, pio, mmio);
    expect([...data]).toEqual([0x44, 0x33, 0x44, 0x33]);
  });

  it('sends MMIO to the MMIO bus', () => {
    const pio = new Bus();
    const mmio = new Bus();
    const a = new Recorder();
    mmio.register(0xf0000000, 0x1000, a, 'a');
    const data = new Uint8Array(8);
    dispatch({ kind: KIND_MMIO, addr: 0xf0000070, size: 4, count: 1, isWrite: false, data: data.subarray(0, 4) }, pio, mmio);
    expect([...data.subarray(0, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(a.log).toEqual(['r112/4']);
  });
});

describe('virtio-mmio slots', () => {
  it('hands out consecutive windows with their GSIs until none is left', () => {
    const slots = new MmioSlots({ base: 0xf0000000, stride: 0x1000 }, [5, 6]);
    expect(slots.take()).toEqual({ base: 0xf0000000, size: 0x1000, gsi: 5 });
    expect(slots.take()).toEqual({ base: 0xf0001000, size: 0x1000, gsi: 6 });
    expect(() => slots.take()).toThrow(RangeError);
  });
});
