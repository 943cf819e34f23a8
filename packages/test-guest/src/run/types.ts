/** Options of {@link runWhereKvmWorks} and the runners behind it. */
export interface RunOptions {
  /** Working directory of the command (default process.cwd()); the same path inside the rig. */
  readonly cwd?: string;
  /**
   * Environment additions. Direct runs inherit process.env plus these; rig runs get PATH,
   * HOME, USER, LANG, TERM and the like from the host, TMPDIR=/tmp, plus these.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Wall-clock bound in ms; at expiry the command (or the whole L1 QEMU) is killed. */
  readonly timeoutMs: number;
  /** The command's stdio is this terminal (rig: QEMU's serial console on stdio). */
  readonly interactive?: boolean;
  /**
   * Host directories the command may write (rig: shared read-write over 9p at the same path,
   * since the host root is read-only there and writes to /tmp stay in L1's memory). No effect in direct runs.
   */
  readonly writableDirs?: readonly string[];
  /** Rig only: called with each chunk of L1's serial console as it arrives (non-interactive runs). */
  readonly onConsole?: (chunk: string) => void;
  /** Cache directory for the rig's L1 images. */
  readonly cacheDir?: string;
}

/** Result of {@link runWhereKvmWorks}. */
export interface RunResult {
  /** `direct`: ran on this host's KVM; `rig`: inside the nested L1 guest; `skipped`: neither possible. */
  readonly mode: 'direct' | 'rig' | 'skipped';
  /** Why this mode (one line: the KVM detection, or why skipped). */
  readonly reason?: string;
  /** The command's exit status; null when it did not finish (timeout, infrastructure failure, signal). */
  readonly status: number | null;
  /** Captured output ("" in interactive mode). */
  readonly stdout: string;
  readonly stderr: string;
  /** The timeout expired and the command (or L1) was killed. */
  readonly timedOut: boolean;
  /**
   * Set when the run failed for reasons other than the command: L1 did not boot, L1 soft
   * lockup or panic, QEMU failed, or the timeout (with the phase it hit). Absent when the
   * command ran to completion, whatever its status.
   */
  readonly infraFailure?: string;
  /** Rig only: the L1 serial console (non-interactive runs). */
  readonly console?: string;
  /** Rig only: ms from launching QEMU to L1's /init and to the command's start. */
  readonly timings?: { readonly l1InitMs?: number; readonly commandStartMs?: number; readonly totalMs: number };
}
