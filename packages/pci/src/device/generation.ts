/**
 * The 8-bit config_generation of the common configuration (spec 4.1.4.3.1). Core counts
 * configuration changes in 32 bits; presenting its low byte could wrap back to the value the
 * driver saw before. Instead, as the spec's note suggests, the presented value changes once
 * whenever the driver reads the device-specific configuration (or config_generation) after
 * core's generation moved, so it always differs after a change however many happened.
 */
export class ConfigGeneration {
  readonly #source: () => number;
  #seen: number;
  #presented = 0;

  /** `source` returns core's configuration generation. */
  constructor(source: () => number) {
    this.#source = source;
    this.#seen = source();
  }

  /** The value to present in config_generation. */
  read(): number {
    this.sync();
    return this.#presented;
  }

  /** Call before every driver read of the device-specific configuration. */
  sync(): void {
    const now = this.#source();
    if (now !== this.#seen) {
      this.#seen = now;
      this.#presented = (this.#presented + 1) & 0xff;
    }
  }
}
