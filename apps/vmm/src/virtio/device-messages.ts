/** Messages between the main thread and the device thread (set-up only; accesses use shared memory). */
import type { VirtioSpecs } from './devices.js';
import type { PmemRegion } from './pmem-memory.js';

/** What the device thread is started with. */
export interface DeviceThreadData {
  readonly specs: VirtioSpecs;
  /** Guest RAM below the PCI hole: host address (decimal string of the pointer) and size in bytes. */
  readonly ram: { readonly address: string; readonly size: number };
  readonly vmFd: number;
  readonly vcpuMmapSize: number;
  readonly consoleFd: number;
  /** RegisterClient's buffer. */
  readonly registers: SharedArrayBuffer;
  /** NotifySet's buffer. */
  readonly notify: SharedArrayBuffer;
  /** The --pmem ranges, mapped by the main thread. */
  readonly pmem: readonly PmemRegion[];
}

/** A device as the main thread must place it on its bus. */
export type DeviceReport =
  | { readonly kind: 'mmio'; readonly deviceId: number; readonly numQueues: number; readonly regionSize: number }
  | {
      readonly kind: 'pci';
      readonly deviceId: number;
      readonly numQueues: number;
      readonly bars: readonly { readonly index: number; readonly size: number; readonly is64: boolean }[];
      /** Each queue's notify address: BAR and offset in it, and the width the driver writes. */
      readonly notify: readonly { readonly queue: number; readonly bar: number; readonly offset: number; readonly width: number }[];
    };

export type FromDeviceThread =
  | { readonly type: 'ready'; readonly devices: readonly DeviceReport[] }
  | { readonly type: 'wired' }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'error'; readonly message: string };

export type ToDeviceThread =
  | { readonly type: 'wire'; readonly devices: readonly { readonly irqFd?: number; readonly intxGsi?: number }[] }
  | { readonly type: 'input'; readonly bytes: Uint8Array };
