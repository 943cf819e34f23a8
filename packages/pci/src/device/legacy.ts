/**
 * The legacy interface of a transitional device (spec 4.1.4.10 "Legacy Interfaces: A Note on
 * PCI Device Layout"): the register block in I/O BAR0 that legacy drivers use instead of the
 * capabilities. Feature bits 0..31 only; the queue's size is fixed to its maximum and its
 * place is given as a page frame number, laid out with an alignment of 4096 (spec 2.7.2 legacy
 * layout); with MSI-X enabled two vector registers precede the device-specific configuration,
 * which therefore starts at offset 24 instead of 20.
 */
import type { VirtioTransportState } from '@virtio/core';
import { legacySplitLayout } from '@virtio/ring';
import type { MutableCounters } from './counters.js';
import type { IsrStatus } from './isr.js';
import type { VectorMap } from './vectors.js';
import {
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_PCI_LEGACY as L,
  VIRTIO_PCI_LEGACY_CONFIG_MSIX,
  VIRTIO_PCI_LEGACY_CONFIG_NO_MSIX,
  VIRTIO_PCI_QUEUE_ADDR_SHIFT,
} from '../protocol.js';

/** Size of the legacy register block with MSI-X registers, before the device-specific configuration. */
export const LEGACY_HEADER_SIZE = VIRTIO_PCI_LEGACY_CONFIG_MSIX;

export interface LegacyDeps {
  readonly state: VirtioTransportState;
  readonly isr: IsrStatus;
  readonly vectors: VectorMap;
  readonly counters: MutableCounters;
  readonly msixEnabled: () => boolean;
  /** Called after the driver wrote 0 to the status register and core reset. */
  readonly onReset: () => void;
}

export class LegacyRegisters {
  readonly #d: LegacyDeps;
  readonly #pfn: Uint32Array;
  #queueSel = 0;

  constructor(deps: LegacyDeps) {
    this.#d = deps;
    this.#pfn = new Uint32Array(deps.state.numQueues);
  }

  /** Device reset: queue addresses and the selector are forgotten. */
  reset(): void {
    this.#pfn.fill(0);
    this.#queueSel = 0;
  }

  read(offset: number, width: number): number {
    const { state, vectors } = this.#d;
    const cfg = this.#configStart();
    if (offset >= cfg) return this.#configAccess(offset - cfg, width) ? state.readConfig(offset - cfg, width as 1 | 2 | 4) : 0;
    const q = state.queue(this.#queueSel);
    switch (this.#field(offset, width)) {
      case L.host_features:
        return state.deviceFeatureWord(0);
      case L.guest_features:
        return (state.driverFeatureWord(0) & state.deviceFeatureWord(0)) >>> 0;
      case L.queue_pfn:
        return q ? this.#pfn[q.index] : 0;
      case L.queue_num:
        return q?.maxSize ?? 0;
      case L.queue_sel:
        return this.#queueSel;
      case L.status:
        return state.status;
      case L.isr:
        return this.#d.isr.readAndClear();
      case L.config_vector:
        return vectors.config;
      case L.queue_vector:
        return q ? vectors.queue(q.index) : VIRTIO_MSI_NO_VECTOR;
      default:
        this.#d.counters.ignoredReads++;
        return 0;
    }
  }

  write(offset: number, width: number, value: number): void {
    const { state, vectors, counters } = this.#d;
    const cfg = this.#configStart();
    if (offset >= cfg) {
      if (this.#configAccess(offset - cfg, width)) state.writeConfig(offset - cfg, width as 1 | 2 | 4, value);
      else counters.ignoredWrites++;
      return;
    }
    if (state.resetPending) {
      // While the device resets, the driver may only read the status.
      counters.ignoredWrites++;
      return;
    }
    const v = value >>> 0;
    const q = state.queue(this.#queueSel);
    switch (this.#field(offset, width)) {
      case L.guest_features:
        state.writeDriverFeatureWord(0, v);
        return;
      case L.queue_pfn:
        if (q) this.#writePfn(q.index, v);
        else counters.ignoredWrites++;
        return;
      case L.queue_sel:
        this.#queueSel = v;
        return;
      case L.queue_notify:
        state.notify(v);
        return;
      case L.status:
        state.writeStatus(v);
        if ((v & 0xff) === 0) this.#d.onReset();
        return;
      case L.config_vector:
        vectors.setConfig(v);
        return;
      case L.queue_vector:
        if (q) vectors.setQueue(q.index, v);
        else counters.ignoredWrites++;
        return;
      default:
        counters.ignoredWrites++;
    }
  }

  /** The register at `offset` when accessed with its own width, else -1. */
  #field(offset: number, width: number): number {
    switch (offset) {
      case L.host_features:
      case L.guest_features:
      case L.queue_pfn:
        return width === 4 ? offset : -1;
      case L.queue_num:
      case L.queue_sel:
      case L.queue_notify:
        return width === 2 ? offset : -1;
      case L.status:
      case L.isr:
        return width === 1 ? offset : -1;
      case L.config_vector:
      case L.queue_vector:
        return width === 2 && this.#d.msixEnabled() ? offset : -1;
      default:
        return -1;
    }
  }

  #configStart(): number {
    return this.#d.msixEnabled() ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG_NO_MSIX;
  }

  #configAccess(offset: number, width: number): boolean {
    return (width === 1 || width === 2 || width === 4) && offset + width <= this.#d.state.configSize;
  }

  /** Queue Address: page frame number of a legacy split ring of the maximum size; 0 stops the queue. */
  #writePfn(index: number, pfn: number): void {
    const { state, counters } = this.#d;
    const q = state.queue(index)!;
    if (pfn === 0) {
      if (q.enabled) state.disableQueue(index);
      this.#pfn[index] = 0;
      return;
    }
    if (q.enabled || q.maxSize === 0) {
      counters.ignoredWrites++;
      return;
    }
    let layout;
    try {
      layout = legacySplitLayout(q.maxSize, 4096);
    } catch {
      counters.ignoredWrites++;
      return;
    }
    const base = pfn * 2 ** VIRTIO_PCI_QUEUE_ADDR_SHIFT;
    q.setSize(q.maxSize);
    q.setAddress('desc', base);
    q.setAddress('driver', base + layout.availOffset);
    q.setAddress('device', base + layout.usedOffset);
    state.enableQueue(index);
    this.#pfn[index] = pfn;
  }
}
