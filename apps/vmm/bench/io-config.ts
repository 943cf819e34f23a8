// What the host side of the I/O benchmark (io.ts) hands to the part that runs where KVM works
// (io-measure.ts), as a JSON file.

/** Configuration of one io-measure.ts run. */
export interface IoMeasureConfig {
  /** Host paths of the bench guest's bzImage and initramfs. */
  readonly kernel: string;
  readonly initrd: string;
  /** Kernel command line selecting the `fio` and `iperf` checks with their parameters. */
  readonly cmdline: string;
  /** Guest RAM, MiB. */
  readonly memoryMiB: number;
  /** Size of the raw disk image, bytes (a multiple of 512). */
  readonly diskBytes: number;
  /** TAP device created for each run; its host side has `hostAddress`/24. */
  readonly tap: string;
  readonly hostAddress: string;
  /** Port of the iperf3 server on `hostAddress`. */
  readonly iperfPort: number;
  /** iperf3 from Debian's package unpacked on the host: the program and its LD_LIBRARY_PATH. */
  readonly iperf3: { readonly executable: string; readonly libraryDirs: readonly string[] };
  /** Bound of each VMM run, ms. */
  readonly timeoutMs: number;
}
