// Interrupts into a real-mode guest through the in-kernel irqchip: irqfd, KVM_IRQ_LINE, MSI.
// Each guest installs an IVT handler that reports 0x42 on port 0x10, signals "ready" on port
// 0x11, then waits in `sti; hlt`. With the in-kernel irqchip hlt does not exit to userspace, so
// every run is bounded by a watchdog thread that kicks the vCPU.
import { afterEach, expect, it } from 'vitest';
import { EventFd } from '../src/index.js';
import { asm, CODE, describeKvm, realModeGuest, REPORT_PORT, type Guest } from './helpers/guest.js';
import { watchdog } from './helpers/watchdog.js';

const READY_PORT = 0x11;
const PIC_VECTOR_BASE = 0x20;
const IRQ = 5;
const MSI_VECTOR = 0x30;

/** Programs the master PIC (vectors 0x20..0x27, only IRQ5 unmasked). */
const picInit = [
  ...asm.movAl(0x11), ...asm.outImmAl(0x20),
  ...asm.movAl(PIC_VECTOR_BASE), ...asm.outImmAl(0x21),
  ...asm.movAl(0x04), ...asm.outImmAl(0x21),
  ...asm.movAl(0x01), ...asm.outImmAl(0x21),
  ...asm.movAl(0xff & ~(1 << IRQ)), ...asm.outImmAl(0x21),
];

/** The guest: optional PIC set-up, IVT[vector] = handler, ready, then `sti; hlt` forever. */
function interruptGuest(vector: number, pic: boolean): number[] {
  const head = pic ? picInit : [];
  const waitLength = 6 + 6 + 2 + 1 + 1 + 2; // two IVT stores, out, sti, hlt, jmp
  const handler = CODE + head.length + waitLength;
  const picEoi = pic ? [...asm.movAl(0x20), ...asm.outImmAl(0x20)] : [];
  return [
    ...head,
    ...asm.movWordMem(vector * 4, handler), ...asm.movWordMem(vector * 4 + 2, 0),
    ...asm.outImmAl(READY_PORT),
    ...asm.sti, ...asm.hlt, 0xeb, 0xfd, // hlt: jmp back to hlt
    ...asm.movAl(0x42), ...asm.outImmAl(REPORT_PORT), ...picEoi, ...asm.iret,
  ];
}

let guest: Guest | null = null;
const fds: EventFd[] = [];
afterEach(() => {
  guest?.close();
  guest = null;
  for (const fd of fds.splice(0)) fd.close();
});

/** Runs to the "ready" exit, calls `raise`, runs on (bounded) and returns the port then reached. */
async function raiseAndRun(g: Guest, raise: () => void): Promise<{ port: number; value: number; kicked: boolean }> {
  const dog = await watchdog(g.vcpu, 5000);
  let exit = g.vcpu.run();
  if (exit.kind === 'io' && exit.io.port === READY_PORT) {
    raise();
    exit = g.vcpu.run();
  }
  const result = { port: exit.kind === 'io' ? exit.io.port : -1, value: exit.kind === 'io' ? exit.io.value : -1 };
  return { ...result, kicked: await dog.stop() };
}

describeKvm('interrupts with the in-kernel irqchip', () => {
  it('delivers an irqfd write as IRQ 5 through the PIC to the guest handler', async () => {
    guest = realModeGuest(interruptGuest(PIC_VECTOR_BASE + IRQ, true), { irqchip: true });
    const irq = EventFd.create();
    fds.push(irq);
    guest.vm.irqfd({ gsi: IRQ, fd: irq.fd });
    expect(await raiseAndRun(guest, () => irq.write())).toEqual({ port: REPORT_PORT, value: 0x42, kicked: false });
  });

  it('delivers a KVM_IRQ_LINE edge to the guest handler', async () => {
    guest = realModeGuest(interruptGuest(PIC_VECTOR_BASE + IRQ, true), { irqchip: true });
    const vm = guest.vm;
    const outcome = await raiseAndRun(guest, () => {
      vm.irqLine(IRQ, true);
      vm.irqLine(IRQ, false);
    });
    expect(outcome).toEqual({ port: REPORT_PORT, value: 0x42, kicked: false });
  });

  it('delivers KVM_SIGNAL_MSI to the local APIC once software-enabled', async () => {
    guest = realModeGuest(interruptGuest(MSI_VECTOR, false), { irqchip: true });
    const lapic = guest.vcpu.getLapic();
    new DataView(lapic.buffer).setUint32(0xf0, 0x1ff, true); // spurious vector register: enable
    guest.vcpu.setLapic(lapic);
    const vm = guest.vm;
    let delivered = -1;
    const outcome = await raiseAndRun(guest, () => {
      delivered = vm.signalMsi({ address: 0xfee0_0000, data: MSI_VECTOR });
    });
    expect(delivered).toBe(1);
    expect(outcome).toEqual({ port: REPORT_PORT, value: 0x42, kicked: false });
  });

  it('routes an irqfd to an MSI through KVM_SET_GSI_ROUTING', async () => {
    guest = realModeGuest(interruptGuest(MSI_VECTOR, false), { irqchip: true });
    const lapic = guest.vcpu.getLapic();
    new DataView(lapic.buffer).setUint32(0xf0, 0x1ff, true);
    guest.vcpu.setLapic(lapic);
    guest.vm.setGsiRouting([
      ...Array.from({ length: 16 }, (_, pin) => ({ gsi: pin, type: 'irqchip' as const, irqchip: pin < 8 ? 0 : 1, pin: pin % 8 })),
      { gsi: 24, type: 'msi', address: 0xfee0_0000n, data: MSI_VECTOR },
    ]);
    const irq = EventFd.create();
    fds.push(irq);
    guest.vm.irqfd({ gsi: 24, fd: irq.fd });
    expect(await raiseAndRun(guest, () => irq.write())).toEqual({ port: REPORT_PORT, value: 0x42, kicked: false });
  });

  it('does not interrupt a guest with no interrupt raised: the watchdog has to kick it', async () => {
    guest = realModeGuest(interruptGuest(PIC_VECTOR_BASE + IRQ, true), { irqchip: true });
    const dog = await watchdog(guest.vcpu, 200);
    expect(guest.vcpu.run().io.port).toBe(READY_PORT);
    expect(guest.vcpu.run().kind).toBe('interrupted');
    expect(await dog.stop()).toBe(true);
    expect(guest.vcpu.immediateExit).toBe(false);
  });
});
