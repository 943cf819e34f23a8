// Figures for the KVM paths from JS on this machine: exits handled in JS, KVM_RUN returning at
// once, and guest writes absorbed by an ioeventfd. Prints per-operation costs; asserts nothing.
// Run: npm run bench -w @virtio/kvm   (needs /dev/kvm)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventFd, GuestRam, Kvm, type Vcpu } from '../src/index.js';

const LOOPS = 20_000;
const CODE = 0x1000;

/** mov cx, LOOPS; [setup]; body; loop body; hlt */
function loopGuest(setup: number[], body: number[]): number[] {
  return [...setup, 0xb9, LOOPS & 0xff, LOOPS >> 8, ...body, 0xe2, 0xfe - body.length, 0xf4];
}

function guest(kvm: Kvm, code: number[]): { vcpu: Vcpu; close(): void; vm: ReturnType<Kvm['createVm']> } {
  const vm = kvm.createVm();
  const ram = GuestRam.allocate(0x10000);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0, size: ram.size, hostAddress: ram.hostAddress });
  ram.bytes().set(code, CODE);
  const vcpu = vm.vcpu(0);
  const sregs = vcpu.getSregs();
  for (const s of [sregs.cs, sregs.ds, sregs.es, sregs.ss]) {
    s.base = 0n;
    s.selector = 0;
  }
  vcpu.setSregs(sregs);
  vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(CODE), rflags: 2n });
  return { vcpu, vm, close: () => (vcpu.close(), vm.close(), ram.close()) };
}

/** ns per operation of the same loops in C (bench/reference.c), or an empty map without gcc. */
function reference(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-bench-'));
  try {
    const binary = join(dir, 'reference');
    execFileSync('gcc', ['-O2', '-o', binary, new URL('./reference.c', import.meta.url).pathname], { stdio: 'pipe' });
    const output = execFileSync(binary, [String(LOOPS)], { encoding: 'utf8' });
    return new Map(output.trim().split('\n').map((line) => {
      const [name, ns] = line.split(' ');
      return [name, Number(ns)] as const;
    }));
  } catch (error) {
    console.log(`(no C reference: ${(error as Error).message.split('\n')[0]})`);
    return new Map();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const inC = reference();

function report(name: string, operations: number, start: bigint, referenceName?: string): void {
  const ns = Number(process.hrtime.bigint() - start) / operations;
  const c = referenceName ? inC.get(referenceName) : undefined;
  const versus = c === undefined ? '' : `   C: ${(c / 1000).toFixed(2)} µs/op`;
  console.log(`${name.padEnd(48)} ${(ns / 1000).toFixed(2).padStart(8)} µs/op${versus}  (${operations} ops)`);
}

const kvm = Kvm.open();

{
  const g = guest(kvm, loopGuest([], [0xe6, 0x10])); // out 0x10, al
  const start = process.hrtime.bigint();
  let exits = 0;
  while (g.vcpu.run().kind === 'io') exits++;
  report('port I/O exit handled in JS', exits, start, 'port-io');
  g.close();
}
{
  const g = guest(kvm, loopGuest([0xb8, 0x00, 0xd0, 0x8e, 0xd8], [0xa2, 0x00, 0x00])); // ds=0xd000; mov [0], al
  const start = process.hrtime.bigint();
  let exits = 0;
  while (g.vcpu.run().kind === 'mmio') exits++;
  report('MMIO exit handled in JS', exits, start);
  g.close();
}
{
  const g = guest(kvm, [0xeb, 0xfe]);
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOOPS; i++) {
    g.vcpu.immediateExit = true;
    g.vcpu.run();
  }
  report('KVM_RUN returning at once (immediate_exit)', LOOPS, start, 'immediate-exit');
  g.close();
}
{
  const g = guest(kvm, loopGuest([], [0xe6, 0x10]));
  const notify = EventFd.create();
  g.vm.ioeventfd({ addr: 0x10, len: 1, fd: notify.fd, pio: true });
  const start = process.hrtime.bigint();
  const exit = g.vcpu.run();
  report(`guest out to an ioeventfd port (then ${exit.kind})`, LOOPS, start);
  console.log(`${''.padEnd(48)} eventfd counted ${notify.read()}`);
  notify.close();
  g.close();
}
{
  const g = guest(kvm, [0xf4]);
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOOPS; i++) g.vcpu.getRegs();
  report('KVM_GET_REGS (decoded to an object)', LOOPS, start);
  g.close();
}
kvm.close();
