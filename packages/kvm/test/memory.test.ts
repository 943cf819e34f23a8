// Guest RAM (memfd + mmap) and memory slots seen from both sides.
import { afterEach, describe, expect, it } from 'vitest';
import { GUEST_RAM_CHUNK, GuestRam, KvmError, MemFlags } from '../src/index.js';
import { asm, describeKvm, realModeGuest, REPORT_PORT, type Guest } from './helpers/guest.js';
import { startWorker } from './helpers/workers.js';

describe('GuestRam', () => {
  it('allocates zeroed memory with a memfd and a host address', () => {
    const ram = GuestRam.allocate(0x4000);
    try {
      expect(ram.fd).toBeGreaterThanOrEqual(0);
      expect(ram.hostAddress).toBeGreaterThan(0n);
      expect(ram.views().map((v) => v.byteLength)).toEqual([0x4000]);
      expect(ram.bytes().every((b) => b === 0)).toBe(true);
    } finally {
      ram.close();
    }
  });

  it('rejects sizes that are not positive multiples of 4096', () => {
    for (const size of [0, -4096, 100, 4097, 1.5 * 4096, Number.NaN]) {
      expect(() => GuestRam.allocate(size)).toThrow(RangeError);
    }
  });

  it('splits views at 4 GiB without touching the memory (MAP_NORESERVE)', () => {
    const ram = GuestRam.allocate(GUEST_RAM_CHUNK + 0x2000);
    try {
      expect(ram.views().map((v) => v.byteLength)).toEqual([GUEST_RAM_CHUNK, 0x2000]);
      ram.bytes(GUEST_RAM_CHUNK + 0x1000, 1)[0] = 0x7e;
      expect(new Uint8Array(ram.views()[1])[0x1000]).toBe(0x7e);
      expect(() => ram.bytes(GUEST_RAM_CHUNK - 1, 2)).toThrow(RangeError);
      expect(ram.bytes(GUEST_RAM_CHUNK - 16).byteLength).toBe(16);
      expect(ram.bytes(GUEST_RAM_CHUNK + 0x1000).byteLength).toBe(0x1000);
    } finally {
      ram.close();
    }
  });

  it('bounds bytes() to the RAM', () => {
    const ram = GuestRam.allocate(0x1000);
    try {
      expect(() => ram.bytes(0x1000, 1)).toThrow(RangeError);
      expect(() => ram.bytes(-1, 1)).toThrow(RangeError);
      expect(() => ram.bytes(0, 0x1001)).toThrow(RangeError);
      expect(ram.bytes(0xfff, 1).byteLength).toBe(1);
    } finally {
      ram.close();
    }
  });

  it('refuses views after close()', () => {
    const ram = GuestRam.allocate(0x1000);
    ram.close();
    expect(() => ram.views()).toThrow(KvmError);
    ram.close();
  });

  it('is shared with a worker that rebuilds it from hostAddress and size', async () => {
    const ram = GuestRam.allocate(0x2000);
    try {
      ram.bytes()[0x10] = 41;
      const worker = startWorker('./ram-worker.ts', { hostAddress: ram.hostAddress, size: ram.size });
      expect(await worker.next<number>(10_000)).toBe(41);
      await worker.worker.terminate();
      expect(ram.bytes()[0x11]).toBe(42);
    } finally {
      ram.close();
    }
  });
});

let guest: Guest | null = null;
afterEach(() => {
  guest?.close();
  guest = null;
});

describeKvm('memory slots', () => {
  it('lets the host read what the guest wrote and the guest read what the host wrote', () => {
    guest = realModeGuest([...asm.movWordMem(0x3000, 0x1234), ...asm.movAlMem(0x3002), ...asm.outImmAl(REPORT_PORT), ...asm.hlt]);
    guest.ram.bytes()[0x3002] = 0x99;
    const exit = guest.vcpu.run();
    expect(exit.io.value).toBe(0x99);
    expect([...guest.ram.bytes(0x3000, 2)]).toEqual([0x34, 0x12]);
  });

  it('maps a second slot at another guest-physical address', () => {
    // ds = 0x2000 (guest-physical 0x20000, slot 1); mov word [4], 0xcafe; hlt
    guest = realModeGuest([...asm.movAx(0x2000), ...asm.movDsAx, ...asm.movWordMem(4, 0xcafe), ...asm.hlt]);
    const second = GuestRam.allocate(0x1000);
    try {
      guest.vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x20000, size: second.size, hostAddress: second.hostAddress });
      expect(guest.vcpu.run().kind).toBe('hlt');
      expect([...second.bytes(4, 2)]).toEqual([0xfe, 0xca]);
    } finally {
      guest.close();
      guest = null;
      second.close();
    }
  });

  it('turns writes to a read-only slot into MMIO exits', () => {
    guest = realModeGuest([...asm.movAx(0x2000), ...asm.movDsAx, ...asm.movAlMem(6), ...asm.movByteMem(6, 0x77), ...asm.hlt]);
    const rom = GuestRam.allocate(0x1000);
    try {
      rom.bytes()[6] = 0x55;
      guest.vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x20000, size: rom.size, hostAddress: rom.hostAddress, flags: MemFlags.READONLY });
      const exit = guest.vcpu.run();
      expect(exit.kind).toBe('mmio');
      expect(exit.mmio).toMatchObject({ physAddr: 0x20006, len: 1, isWrite: true });
      expect(exit.mmio.value).toBe(0x77);
      expect(rom.bytes()[6]).toBe(0x55);
      expect(guest.vcpu.getRegs().rax & 0xffn).toBe(0x55n);
    } finally {
      guest.close();
      guest = null;
      rom.close();
    }
  });

  it('rejects a misaligned slot with a KvmError naming the ioctl and errno', () => {
    guest = realModeGuest(asm.hlt);
    const error = (() => {
      try {
        guest.vm.setUserMemoryRegion({ slot: 2, guestPhysAddr: 0x40001, size: 0x1000, hostAddress: guest.ram.hostAddress });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toMatchObject({ ioctl: 'KVM_SET_USER_MEMORY_REGION', code: 'EINVAL', errno: 22 });
    expect((error as Error).message).toMatch(/^KVM_SET_USER_MEMORY_REGION failed: EINVAL/);
  });
});
