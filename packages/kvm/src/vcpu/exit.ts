// A reusable, allocation-free decoding of kvm_run after KVM_RUN returns.
import { ExitReason } from '../abi/numbers.js';
import { offsetOf } from '../abi/structs.js';

/** What a vCPU exit asks of userspace. 'interrupted': KVM_RUN returned EINTR (kick or signal). */
export type ExitKind =
  | 'io'
  | 'mmio'
  | 'hlt'
  | 'shutdown'
  | 'system-event'
  | 'internal-error'
  | 'fail-entry'
  | 'interrupted'
  | 'irq-window-open'
  | 'intr'
  | 'other';

const RUN = {
  exitReason: offsetOf('kvm_run', 'exit_reason'),
  ioDirection: offsetOf('kvm_run', 'io.direction'),
  ioSize: offsetOf('kvm_run', 'io.size'),
  ioPort: offsetOf('kvm_run', 'io.port'),
  ioCount: offsetOf('kvm_run', 'io.count'),
  ioDataOffset: offsetOf('kvm_run', 'io.data_offset'),
  mmioPhysAddr: offsetOf('kvm_run', 'mmio.phys_addr'),
  mmioData: offsetOf('kvm_run', 'mmio.data'),
  mmioLen: offsetOf('kvm_run', 'mmio.len'),
  mmioIsWrite: offsetOf('kvm_run', 'mmio.is_write'),
  systemEventType: offsetOf('kvm_run', 'system_event.type'),
  internalSuberror: offsetOf('kvm_run', 'internal.suberror'),
  failReason: offsetOf('kvm_run', 'fail_entry.hardware_entry_failure_reason'),
  failCpu: offsetOf('kvm_run', 'fail_entry.cpu'),
  hardwareExitReason: offsetOf('kvm_run', 'hw.hardware_exit_reason'),
} as const;

const u64 = (dv: DataView, offset: number): number => dv.getUint32(offset, true) + dv.getUint32(offset + 4, true) * 2 ** 32;

function readLe(dv: DataView, offset: number, size: number): number {
  switch (size) {
    case 1: return dv.getUint8(offset);
    case 2: return dv.getUint16(offset, true);
    case 4: return dv.getUint32(offset, true);
    case 8: return u64(dv, offset);
    default: {
      let value = 0;
      for (let i = size - 1; i >= 0; i--) value = value * 256 + dv.getUint8(offset + i);
      return value;
    }
  }
}

/** A port I/O exit (KVM_EXIT_IO). Valid until the next run(). */
export class IoExit {
  /** I/O port number (0..0xffff). */
  port = 0;
  /** Access width in bytes: 1, 2 or 4. */
  size = 0;
  /** True for `out` (guest writes), false for `in` (userspace must fill `data`). */
  isOut = false;
  /** Repetitions (string I/O, `rep outsb` ...); `data` holds size * count bytes. */
  count = 0;
  /** The bytes of the access inside kvm_run: read them for `out`, write them for `in`. */
  data: Uint8Array;
  #bytes: Uint8Array;
  #dv: DataView;
  #offset = 0;

  /** @internal */
  constructor(run: Uint8Array) {
    this.#bytes = run;
    this.#dv = new DataView(run.buffer, run.byteOffset, run.byteLength);
    this.data = run.subarray(0, 0);
  }

  /** @internal Decodes kvm_run.io; allocates a new `data` view only when its place changes. */
  decode(): void {
    const dv = this.#dv;
    this.isOut = dv.getUint8(RUN.ioDirection) === 1;
    this.size = dv.getUint8(RUN.ioSize);
    this.port = dv.getUint16(RUN.ioPort, true);
    this.count = dv.getUint32(RUN.ioCount, true);
    const offset = u64(dv, RUN.ioDataOffset);
    const length = Math.min(this.size * this.count, Math.max(0, this.#bytes.byteLength - offset));
    if (offset !== this.#offset || length !== this.data.byteLength) {
      this.#offset = Math.min(offset, this.#bytes.byteLength);
      this.data = this.#bytes.subarray(this.#offset, this.#offset + length);
    }
  }

  /** The first (for count 1: the only) value of the access, little-endian, `size` bytes. */
  get value(): number {
    return readLe(this.#dv, this.#offset, Math.min(this.size, this.data.byteLength));
  }

  /** Completes an `in`: writes `value` (little-endian, `size` bytes) as the value the guest reads. */
  complete(value: number): void {
    const size = Math.min(this.size, this.data.byteLength);
    for (let i = 0; i < size; i++) {
      this.#dv.setUint8(this.#offset + i, value & 0xff);
      value = Math.floor(value / 256);
    }
  }
}

/** An MMIO exit (KVM_EXIT_MMIO): an access to a guest-physical address no memory slot backs. */
export class MmioExit {
  /** Guest-physical address of the access. */
  physAddr = 0;
  /** Access width in bytes (1..8). */
  len = 0;
  /** True for a guest write (read `data`), false for a read (fill `data` or call complete()). */
  isWrite = false;
  /** kvm_run.mmio.data: the 8 bytes of the access, little-endian, first `len` significant. */
  readonly data: Uint8Array;
  #dv: DataView;

  /** @internal */
  constructor(run: Uint8Array) {
    this.data = run.subarray(RUN.mmioData, RUN.mmioData + 8);
    this.#dv = new DataView(run.buffer, run.byteOffset, run.byteLength);
  }

  /** @internal */
  decode(): void {
    const dv = this.#dv;
    this.physAddr = u64(dv, RUN.mmioPhysAddr);
    this.len = Math.min(8, dv.getUint32(RUN.mmioLen, true));
    this.isWrite = dv.getUint8(RUN.mmioIsWrite) !== 0;
  }

  /** The written value (little-endian, `len` bytes; exact up to 2^53). */
  get value(): number {
    return readLe(this.#dv, RUN.mmioData, this.len);
  }

  /** Completes a read: stores `value` (little-endian, `len` bytes; bigint for full 64-bit values). */
  complete(value: number | bigint): void {
    if (typeof value === 'bigint') {
      this.#dv.setBigUint64(RUN.mmioData, BigInt.asUintN(64, value), true);
      return;
    }
    for (let i = 0; i < 8; i++) {
      this.#dv.setUint8(RUN.mmioData + i, value & 0xff);
      value = Math.floor(value / 256);
    }
  }
}

/**
 * The last exit of a vCPU, decoded from kvm_run. One object per {@link Vcpu}, rewritten by every
 * run(): copy what you keep. Only the part named by `kind` is meaningful.
 */
export class VcpuExit {
  /** kvm_run.exit_reason (`ExitReason`), or ExitReason.INTERRUPTED (-1) for EINTR. */
  reason = 0;
  /** What the exit asks of userspace. */
  kind: ExitKind = 'other';
  /** Port I/O details (kind 'io'). */
  readonly io: IoExit;
  /** MMIO details (kind 'mmio'). */
  readonly mmio: MmioExit;
  /** KVM_SYSTEM_EVENT_* type (kind 'system-event'). */
  systemEventType = 0;
  /** KVM_INTERNAL_ERROR_* suberror (kind 'internal-error'; 1 = emulation failure). */
  internalSuberror = 0;
  /** Hardware entry failure reason (kind 'fail-entry') or hardware exit reason (UNKNOWN exits). */
  hardwareReason = 0;
  /** The physical CPU of a failed entry (kind 'fail-entry'). */
  failCpu = 0;
  #dv: DataView;

  /** @internal */
  constructor(run: Uint8Array) {
    this.io = new IoExit(run);
    this.mmio = new MmioExit(run);
    this.#dv = new DataView(run.buffer, run.byteOffset, run.byteLength);
  }

  /** @internal Marks the exit as an interrupted KVM_RUN (EINTR). */
  interrupted(): VcpuExit {
    this.reason = ExitReason.INTERRUPTED;
    this.kind = 'interrupted';
    return this;
  }

  /** @internal Decodes kvm_run after a successful KVM_RUN. */
  decode(): VcpuExit {
    const dv = this.#dv;
    const reason = dv.getUint32(RUN.exitReason, true);
    this.reason = reason;
    switch (reason) {
      case ExitReason.IO:
        this.kind = 'io';
        this.io.decode();
        break;
      case ExitReason.MMIO:
        this.kind = 'mmio';
        this.mmio.decode();
        break;
      case ExitReason.HLT:
        this.kind = 'hlt';
        break;
      case ExitReason.SHUTDOWN:
        this.kind = 'shutdown';
        break;
      case ExitReason.SYSTEM_EVENT:
        this.kind = 'system-event';
        this.systemEventType = dv.getUint32(RUN.systemEventType, true);
        break;
      case ExitReason.INTERNAL_ERROR:
        this.kind = 'internal-error';
        this.internalSuberror = dv.getUint32(RUN.internalSuberror, true);
        break;
      case ExitReason.FAIL_ENTRY:
        this.kind = 'fail-entry';
        this.hardwareReason = u64(dv, RUN.failReason);
        this.failCpu = dv.getUint32(RUN.failCpu, true);
        break;
      case ExitReason.IRQ_WINDOW_OPEN:
        this.kind = 'irq-window-open';
        break;
      case ExitReason.INTR:
        this.kind = 'intr';
        break;
      case ExitReason.UNKNOWN:
        this.kind = 'other';
        this.hardwareReason = u64(dv, RUN.hardwareExitReason);
        break;
      default:
        this.kind = 'other';
    }
    return this;
  }
}
