/**
 * The command-specific-result of a control command (struct virtio_net_ctrl: class, command,
 * command-specific-data, ack, command-specific-result): what the device writes after the ack.
 */
export class CtrlReply {
  #bytes = new Uint8Array(64);
  #length = 0;

  /** Bytes of result the last command produced. */
  get length(): number {
    return this.#length;
  }

  /** The result, valid until the next command. */
  get bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Starts a result of `length` bytes (zeroed) and returns a view to fill it. */
  view(length: number): DataView {
    if (this.#bytes.length < length) this.#bytes = new Uint8Array(length);
    this.#bytes.fill(0, 0, length);
    this.#length = length;
    return new DataView(this.#bytes.buffer, 0, length);
  }

  /** No result (before each command). */
  clear(): void {
    this.#length = 0;
  }
}
