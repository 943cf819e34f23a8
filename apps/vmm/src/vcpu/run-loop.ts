import { KvmError, SystemEvent, type Vcpu, type VcpuExit } from '@virtio/kvm';
import { dispatch } from '../bus/dispatch.js';
import type { Bus } from '../bus/io-bus.js';
import type { PciConfigFilter } from '../pci/config-filter.js';
import { type Channel, KIND_IO, KIND_MMIO } from './channel.js';
import type { VcpuStop } from './messages.js';

/**
 * The synchronous KVM_RUN loop of one vCPU: port I/O to ports `local` claims (the UART) and
 * PCI configuration accesses that reach no function (`pci`) are served right here; other port I/O and MMIO exits go through `channel` to the device model
 * (the vCPU blocks meanwhile); a kick ('interrupted') ends the loop when a
 * stop was requested; triple faults (KVM_EXIT_SHUTDOWN), system events, internal errors and
 * failed entries end it with their reason.
 */
export function runLoop(vcpu: Vcpu, channel: Channel, local: Bus, pci: PciConfigFilter): VcpuStop {
  const data = channel.data;
  for (;;) {
    if (channel.stopRequested) return { kind: 'stopped' };
    const exit = run(vcpu);
    if (exit === undefined) continue;
    switch (exit.kind) {
      case 'io': {
        const io = exit.io;
        if (local.claims(io.port)) {
          dispatch({ kind: KIND_IO, addr: io.port, size: io.size, count: io.count, isWrite: io.isOut, data: io.data }, local, local);
          break;
        }
        if (pci.tryServe(io.port, io.size, io.count, io.isOut, io.data)) break;
        const n = io.data.length;
        if (io.isOut) data.set(io.data);
        if (!channel.call(KIND_IO, io.port, io.size, io.count, io.isOut)) return { kind: 'stopped' };
        if (!io.isOut) io.data.set(data.subarray(0, n));
        break;
      }
      case 'mmio': {
        const m = exit.mmio;
        if (m.isWrite) data.set(m.data.subarray(0, m.len));
        if (!channel.call(KIND_MMIO, m.physAddr, m.len, 1, m.isWrite)) return { kind: 'stopped' };
        if (!m.isWrite) m.data.set(data.subarray(0, m.len));
        break;
      }
      case 'interrupted':
      case 'hlt':
      case 'intr':
      case 'irq-window-open':
        break;
      case 'shutdown':
        return { kind: 'triple-fault' };
      case 'system-event':
        if (exit.systemEventType === SystemEvent.SHUTDOWN) return { kind: 'poweroff' };
        if (exit.systemEventType === SystemEvent.RESET) return { kind: 'reset' };
        return { kind: 'crash', detail: `system event ${exit.systemEventType}` };
      case 'internal-error':
        return { kind: 'error', detail: `KVM internal error (suberror ${exit.internalSuberror})` };
      case 'fail-entry':
        return { kind: 'error', detail: `VM entry failed (hardware reason 0x${exit.hardwareReason.toString(16)} on CPU ${exit.failCpu})` };
      default:
        return { kind: 'error', detail: `unexpected vCPU exit ${exit.reason}` };
    }
  }
}

/**
 * vcpu.run(), except that EAGAIN — KVM_RUN's answer for an AP still waiting for INIT/SIPI
 * (mp_state UNINITIALIZED) when it wakes without becoming runnable — yields undefined: run again.
 */
function run(vcpu: Vcpu): VcpuExit | undefined {
  try {
    return vcpu.run();
  } catch (e) {
    if (e instanceof KvmError && e.code === 'EAGAIN') return undefined;
    throw e;
  }
}
