/** The host side of one console port: where the guest's output goes. */
export interface PortBackend {
  /**
   * Bytes the guest wrote to the port (its transmitq). `data` usually views guest memory and is
   * valid only during the call: copy what you keep. Called synchronously while the device
   * handles the notification (Linux's hvc driver busy-waits for the buffer to be used).
   */
  write(data: Uint8Array): void;
  /** The guest opened (true) or closed (false) the port (VIRTIO_CONSOLE_PORT_OPEN from the driver). */
  guestOpened?(open: boolean): void;
}
