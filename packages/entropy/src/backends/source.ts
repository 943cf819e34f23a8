/** Where the device's random bytes come from. */
export interface EntropySource {
  /**
   * Fills `dest` completely with random bytes. `dest` usually aliases guest memory and is
   * valid only during the call. Throwing makes the device stop and set DEVICE_NEEDS_RESET
   * (it never hands the guest bytes that are not random).
   */
  fill(dest: Uint8Array): void;
}
