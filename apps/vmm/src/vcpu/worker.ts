// Entry point of a vCPU worker thread: configures its vCPU (CPUID, MSRs, LAPIC LINTs, FPU,
// and on the BSP the 64-bit boot registers), then runs the synchronous KVM_RUN loop.
import { parentPort, workerData } from 'node:worker_threads';
import { currentThread, installKickHandler, Vcpu } from '@virtio/kvm';
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
  return runLoop(vcpu, new Channel(wd.channel));
}

let stop: VcpuStop;
try {
  stop = start();
} catch (e) {
  stop = { kind: 'error', detail: `vCPU ${wd.index}: ${e instanceof Error ? e.message : String(e)}` };
}
post({ type: 'exit', stop });
