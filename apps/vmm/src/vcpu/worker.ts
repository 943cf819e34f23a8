// Entry point of a vCPU worker thread: configures its vCPU (CPUID, MSRs, LAPIC LINTs, FPU,
// and on the BSP the 64-bit boot registers), then runs the synchronous KVM_RUN loop. The
// UART is served in this thread over state shared with the main thread (the console is the
// busiest device at boot; a round trip to the main thread per register access is slow).
import { parentPort, workerData } from 'node:worker_threads';
import { currentThread, installKickHandler, Vcpu, Vm } from '@virtio/kvm';
import { Bus } from '../bus/io-bus.js';
import { ConsoleWriter } from '../devices/console-writer.js';
import { Serial } from '../devices/serial.js';
import { PanicDetector } from '../machine/panic-detector.js';
import { COM1 } from '../machine/platform.js';
import { PciConfigFilter } from '../pci/config-filter.js';
import { bootFpu, bootRegs, bootSregs, configureLapicLints } from './boot-state.js';
import { Channel } from './channel.js';
import type { VcpuMessage, VcpuStop, VcpuWorkerData } from './messages.js';
import { runLoop } from './run-loop.js';

const wd = workerData as VcpuWorkerData;
const post = (m: VcpuMessage) => parentPort?.postMessage(m);

function start(): VcpuStop {
  installKickHandler();
  const vcpu = new Vcpu(wd.vcpuFd, wd.mmapSize);
  post({ type: 'ready', thread: currentThread(), runAddress: vcpu.runAddress });
  vcpu.setCpuid2(wd.cpuid);
  for (const msr of wd.msrs) {
    try {
      vcpu.setMsrs([msr]);
    } catch {
      // KVM on this host does not emulate that MSR; the kernel copes without it.
    }
  }
  vcpu.setLapic(configureLapicLints(vcpu.getLapic()));
  vcpu.setFpu(bootFpu(vcpu.getFpu()));
  if (wd.boot) {
    vcpu.setSregs(bootSregs(vcpu.getSregs(), wd.boot));
    vcpu.setRegs(bootRegs(wd.boot));
  }
  return runLoop(vcpu, new Channel(wd.doorbell, wd.channel), serialBus(), new PciConfigFilter(wd.pciState));
}

/** This thread's view of COM1: output straight to the console fd, IRQ 4 through KVM_IRQ_LINE. */
function serialBus(): Bus {
  const vm = new Vm(wd.vmFd, wd.mmapSize);
  const out = new ConsoleWriter(wd.consoleFd);
  const panic = new PanicDetector((line) => post({ type: 'panic', line }));
  const serial = new Serial(
    {
      output: (b) => {
        out.byte(b);
        panic.push(b);
      },
      irq: (level) => vm.irqLine(COM1.irq, level),
    },
    wd.serialState,
  );
  const bus = new Bus();
  bus.register(COM1.port, 8, serial, 'COM1');
  return bus;
}

let stop: VcpuStop;
try {
  stop = start();
} catch (e) {
  stop = { kind: 'error', detail: `vCPU ${wd.index}: ${e instanceof Error ? e.message : String(e)}` };
}
post({ type: 'exit', stop });
