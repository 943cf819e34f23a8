/**
 * The backend interface: logical units the SCSI host device routes commands to. A logical unit
 * is runtime-neutral and may complete asynchronously; the device owns the virtio framing,
 * task management and events, the logical unit only executes CDBs.
 */

/** One SCSI command for a logical unit (the device-readable and device-writable parts of virtio_scsi_req_cmd). */
export interface ScsiCommand {
  /** The CDB, `cdb_size` bytes (the command's own length is implied by its opcode). */
  readonly cdb: Uint8Array;
  /** The command identifier (tag) the driver chose. */
  readonly id: bigint;
  /** task_attr (VIRTIO_SCSI_S_SIMPLE ...); a unit may treat every attribute as SIMPLE. */
  readonly taskAttr: number;
  /** Command priority (SAM), usually 0. */
  readonly prio: number;
  /** Command reference number (SAM), usually 0. */
  readonly crn: number;
  /**
   * `dataout`: views of guest memory, in order (zero copy). The logical unit must not keep
   * them after its result settles.
   */
  readonly dataOut: readonly Uint8Array[];
  /** Total bytes of `dataOut`. */
  readonly dataOutLength: number;
  /** `datain`: views of guest memory to fill, in order. Same lifetime rule as `dataOut`. */
  readonly dataIn: readonly Uint8Array[];
  /** Total bytes of `dataIn`. */
  readonly dataInLength: number;
  /** `pi_out` views (VIRTIO_SCSI_F_T10_PI; empty otherwise). */
  readonly piOut: readonly Uint8Array[];
  /** `pi_in` views (VIRTIO_SCSI_F_T10_PI; empty otherwise). */
  readonly piIn: readonly Uint8Array[];
}

/** A command's outcome. */
export interface ScsiCommandResult {
  /** Virtio response byte (VIRTIO_SCSI_S_*); default VIRTIO_SCSI_S_OK. */
  readonly response?: number;
  /** SAM status code (GOOD 0, CHECK CONDITION 2, ...). */
  readonly status: number;
  /** Sense data (fixed format), truncated by the device to `sense_size`. */
  readonly sense?: Uint8Array;
  /** Bytes of `dataOut` the logical unit consumed (for `residual`); default 0. */
  readonly dataOutRead?: number;
  /** Bytes of `dataIn` the logical unit wrote (for `residual`); default 0. */
  readonly dataInWritten?: number;
  readonly statusQualifier?: number;
}

export interface ScsiLogicalUnit {
  /** The peripheral device type of INQUIRY (0 disk, 5 MMC). The device never reports PARAM_CHANGE for type 5 ([scsi.dev.10]). */
  readonly peripheralType: number;
  /**
   * Executes one command. Commands may run concurrently. A rejected promise or a throw
   * completes the command with VIRTIO_SCSI_S_TARGET_FAILURE.
   */
  execute(cmd: ScsiCommand): ScsiCommandResult | Promise<ScsiCommandResult>;
  /** A logical unit reset (TMF or device reset): the unit should establish a unit attention (29h/00h). */
  reset?(): void;
  /** Establishes a unit attention condition with `asc`/`ascq` (e.g. 2Ah/09h after a capacity change). */
  unitAttention?(asc: number, ascq: number): void;
  /** Asynchronous notification event classes (VIRTIO_SCSI_EVT_ASYNC_*) the unit can report; default none. */
  readonly asyncEvents?: number;
}
