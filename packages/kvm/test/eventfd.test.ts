// eventfd counters, poll over several, and ioeventfd: guest writes that never exit to JS.
import { afterEach, describe, expect, it } from 'vitest';
import { EventFd, KvmError, Poller, poll } from '../src/index.js';
import { asm, describeKvm, realModeGuest, REPORT_PORT, type Guest } from './helpers/guest.js';

const opened: EventFd[] = [];
function eventFd(options?: Parameters<typeof EventFd.create>[0]): EventFd {
  const fd = EventFd.create(options);
  opened.push(fd);
  return fd;
}
let guest: Guest | null = null;
afterEach(() => {
  guest?.close();
  guest = null;
  for (const fd of opened.splice(0)) fd.close();
});

describe('EventFd', () => {
  it('adds writes into a counter that read() returns and resets', () => {
    const efd = eventFd();
    efd.write();
    efd.write(4n);
    expect(efd.read()).toBe(5n);
    expect(efd.tryRead()).toBe(0n);
  });

  it('starts from an initial value and counts down by one in semaphore mode', () => {
    const efd = eventFd({ semaphore: true, initial: 2 });
    expect(efd.read()).toBe(1n);
    expect(efd.read()).toBe(1n);
    expect(efd.tryRead()).toBe(0n);
  });

  it('throws EAGAIN from a non-blocking read of a zero counter', () => {
    const efd = eventFd({ nonBlocking: true });
    expect(() => efd.read()).toThrow(expect.objectContaining({ name: 'KvmError', code: 'EAGAIN' }));
  });

  it('wraps an fd received from elsewhere', () => {
    const efd = eventFd();
    new EventFd(efd.fd).write(3);
    expect(efd.read()).toBe(3n);
  });

  it('polls several fds and reports which are readable', () => {
    const [a, b, c] = [eventFd(), eventFd(), eventFd()];
    const poller = new Poller([a.fd, b.fd, c.fd]);
    expect(poller.wait(0)).toBe(0);
    b.write();
    expect(poller.wait(1000)).toBe(1);
    expect([poller.ready(0), poller.ready(1), poller.ready(2)]).toEqual([false, true, false]);
    c.write();
    expect(poll([a.fd, b.fd, c.fd], 0)).toEqual([b.fd, c.fd]);
  });

  it('fails with EBADF on a closed fd', () => {
    const efd = EventFd.create();
    efd.close();
    expect(() => efd.write()).toThrow(KvmError);
    expect(() => efd.write()).toThrow(/EBADF/);
  });
});

describeKvm('ioeventfd', () => {
  it('counts guest `out`s to a bound port in the eventfd without exiting to JS', () => {
    guest = realModeGuest([
      ...asm.movDx(0x500), ...asm.movAl(1), ...asm.outDxAl, ...asm.outDxAl, ...asm.outDxAl,
      ...asm.outImmAl(REPORT_PORT), ...asm.hlt,
    ]);
    const notify = eventFd();
    guest.vm.ioeventfd({ addr: 0x500, len: 1, fd: notify.fd, pio: true });
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('io');
    expect(exit.io.port).toBe(REPORT_PORT);
    expect(notify.read()).toBe(3n);
  });

  it('with datamatch, signals only the matching value and lets others exit', () => {
    guest = realModeGuest([...asm.movDx(0x501), ...asm.movAl(7), ...asm.outDxAl, ...asm.movAl(1), ...asm.outDxAl, ...asm.hlt]);
    const notify = eventFd();
    guest.vm.ioeventfd({ addr: 0x501, len: 1, fd: notify.fd, pio: true, datamatch: 7 });
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('io');
    expect(exit.io).toMatchObject({ port: 0x501, value: 1 });
    expect(notify.read()).toBe(1n);
  });

  it('binds MMIO addresses too, and deassign restores the MMIO exit', () => {
    // ds = 0xd000; mov byte [0], 1; out 0x10, al; mov byte [0], 1; hlt
    guest = realModeGuest([
      ...asm.movAx(0xd000), ...asm.movDsAx, ...asm.movByteMem(0, 1), ...asm.outImmAl(REPORT_PORT), ...asm.movByteMem(0, 1), ...asm.hlt,
    ]);
    const notify = eventFd();
    guest.vm.ioeventfd({ addr: 0xd0000, len: 1, fd: notify.fd });
    expect(guest.vcpu.run().kind).toBe('io');
    expect(notify.read()).toBe(1n);
    guest.vm.ioeventfd({ addr: 0xd0000, len: 1, fd: notify.fd, deassign: true });
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('mmio');
    expect(exit.mmio).toMatchObject({ physAddr: 0xd0000, isWrite: true, value: 1 });
    expect(notify.tryRead()).toBe(0n);
  });

  it('rejects a binding with an invalid length (EINVAL)', () => {
    guest = realModeGuest(asm.hlt);
    const notify = eventFd();
    expect(() => guest!.vm.ioeventfd({ addr: 0x502, len: 3, fd: notify.fd, pio: true })).toThrow(
      expect.objectContaining({ ioctl: 'KVM_IOEVENTFD', code: 'EINVAL' }),
    );
  });
});
