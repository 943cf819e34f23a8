/**
 * Device-to-driver control messages waiting for control receiveq buffers, oldest first.
 * RESIZE and PORT_OPEN for a port replace a still-waiting one of the same kind (only the
 * latest state matters); past {@link CONTROL_BACKLOG_LIMIT} messages new ones are dropped and counted.
 */
import { VIRTIO_CONSOLE_PORT_OPEN, VIRTIO_CONSOLE_RESIZE } from './protocol.js';

/** Most control messages held for the driver. */
export const CONTROL_BACKLOG_LIMIT = 1024;

export interface OutgoingControl {
  id: number;
  event: number;
  value: number;
  /** Bytes after the header: struct virtio_console_resize, or a port name. */
  extra: Uint8Array | undefined;
}

export class ControlBacklog {
  readonly #q: OutgoingControl[] = [];
  #head = 0;
  dropped = 0;

  get length(): number {
    return this.#q.length - this.#head;
  }

  add(id: number, event: number, value: number, extra?: Uint8Array): void {
    if (event === VIRTIO_CONSOLE_RESIZE || event === VIRTIO_CONSOLE_PORT_OPEN) {
      for (let i = this.#head; i < this.#q.length; i++) {
        const m = this.#q[i];
        if (m.id === id && m.event === event) {
          m.value = value;
          m.extra = extra;
          return;
        }
      }
    }
    if (this.length >= CONTROL_BACKLOG_LIMIT) {
      this.dropped++;
      return;
    }
    this.#q.push({ id, event, value, extra });
  }

  peek(): OutgoingControl | undefined {
    return this.#q[this.#head];
  }

  shift(): void {
    this.#head++;
    if (this.#head === this.#q.length) this.clear();
    else if (this.#head >= 256) {
      this.#q.splice(0, this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#q.length = 0;
    this.#head = 0;
  }
}
