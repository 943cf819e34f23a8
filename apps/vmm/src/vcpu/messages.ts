import type { CpuidEntry, MsrEntry } from '@virtio/kvm';
import type { BootEntry } from './boot-state.js';

/** What a vCPU worker is started with (structured-cloned into the worker). */
export interface VcpuWorkerData {
  readonly index: number;
  readonly vcpuFd: number;
  readonly mmapSize: number;
  readonly cpuid: readonly CpuidEntry[];
  readonly msrs: readonly MsrEntry[];
  /** Only the BSP gets boot registers; APs wait for INIT/SIPI in the in-kernel LAPIC. */
  readonly boot?: BootEntry;
  readonly channel: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  /** The VM fd, for raising the UART interrupt from this thread. */
  readonly vmFd: number;
  /** The shared state of the COM1 UART, whose registers the worker serves itself. */
  readonly serialState: SharedArrayBuffer;
  /** Where guest console output goes (1: stdout). */
  readonly consoleFd: number;
  /** The PCI bus's CONFIG_ADDRESS and populated-slot bitmap (PciConfigFilter). */
  readonly pciState: SharedArrayBuffer;
}

/** Why a vCPU stopped running the guest. */
export type VcpuStop =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'poweroff' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'crash'; readonly detail: string }
  | { readonly kind: 'triple-fault' }
  | { readonly kind: 'error'; readonly detail: string };

/** Messages from a vCPU worker to the main thread. */
export type VcpuMessage =
  | { readonly type: 'ready'; readonly thread: bigint; readonly runAddress: bigint }
  | { readonly type: 'panic'; readonly line: string }
  | { readonly type: 'exit'; readonly stop: VcpuStop };
