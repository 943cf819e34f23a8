/**
 * Routes the device's notifications to MSI-X or to INT#x + ISR status (spec 4.1.5.3,
 * 4.1.5.4): with MSI-X enabled, a used buffer notification goes to the queue's vector and a
 * configuration change to config_msix_vector, nothing at all for VIRTIO_MSI_NO_VECTOR;
 * with MSI-X disabled, the ISR bit is set and INT#x follows the ISR byte.
 */
import type { InterruptSink } from '@virtio/core';
import type { IsrStatus } from './isr.js';
import type { Msix } from './msix.js';
import type { VectorMap } from './vectors.js';
import { VIRTIO_MSI_NO_VECTOR, VIRTIO_PCI_ISR_CONFIG, VIRTIO_PCI_ISR_QUEUE } from '../protocol.js';

export class InterruptRouter implements InterruptSink {
  readonly #msix: Msix | undefined;
  readonly #isr: IsrStatus;
  readonly #vectors: VectorMap;

  constructor(msix: Msix | undefined, isr: IsrStatus, vectors: VectorMap) {
    this.#msix = msix;
    this.#isr = isr;
    this.#vectors = vectors;
  }

  usedBuffer(queueIndex: number): void {
    const msix = this.#msix;
    if (msix?.enabled) {
      const vector = this.#vectors.queue(queueIndex);
      if (vector !== VIRTIO_MSI_NO_VECTOR) msix.fire(vector);
      return;
    }
    this.#isr.raise(VIRTIO_PCI_ISR_QUEUE);
  }

  configChange(): void {
    // The Device Configuration Interrupt bit is set before any configuration change
    // notification, MSI-X or not (spec 4.1.4.5.1); INT#x stays low while MSI-X is enabled.
    this.#isr.raise(VIRTIO_PCI_ISR_CONFIG);
    const msix = this.#msix;
    if (msix?.enabled) {
      const vector = this.#vectors.config;
      if (vector !== VIRTIO_MSI_NO_VECTOR) msix.fire(vector);
    }
  }
}
