/**
 * The MSI-X vector mapping of the common configuration (spec 4.1.5.1.2): config_msix_vector
 * and one queue_msix_vector per queue. A mapping to a vector outside the MSI-X table (or any
 * vector when the device has no MSI-X) fails and reads back as VIRTIO_MSI_NO_VECTOR; every
 * event is unmapped on reset.
 */
import { VIRTIO_MSI_NO_VECTOR } from '../protocol.js';

export class VectorMap {
  /** Number of MSI-X table entries (0 without MSI-X). */
  readonly tableSize: number;
  #config = VIRTIO_MSI_NO_VECTOR;
  readonly #queues: Uint16Array;

  constructor(tableSize: number, numQueues: number) {
    this.tableSize = tableSize;
    this.#queues = new Uint16Array(numQueues).fill(VIRTIO_MSI_NO_VECTOR);
  }

  get config(): number {
    return this.#config;
  }

  /** Vector of queue `index` (an existing queue). */
  queue(index: number): number {
    return this.#queues[index];
  }

  /** Maps configuration changes to `vector`; returns what will read back. */
  setConfig(vector: number): number {
    this.#config = this.#valid(vector);
    return this.#config;
  }

  /** Maps queue `index` (an existing queue) to `vector`; returns what will read back. */
  setQueue(index: number, vector: number): number {
    this.#queues[index] = this.#valid(vector);
    return this.#queues[index];
  }

  /** Unmaps every event (device reset). */
  reset(): void {
    this.#config = VIRTIO_MSI_NO_VECTOR;
    this.#queues.fill(VIRTIO_MSI_NO_VECTOR);
  }

  #valid(vector: number): number {
    return vector < this.tableSize ? vector : VIRTIO_MSI_NO_VECTOR;
  }
}
