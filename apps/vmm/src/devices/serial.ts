import type { BusDevice } from '../bus/io-bus.js';

/** Register offsets of the 16550A UART. */
export const UART = { RBR: 0, THR: 0, DLL: 0, IER: 1, DLM: 1, IIR: 2, FCR: 2, LCR: 3, MCR: 4, LSR: 5, MSR: 6, SCR: 7 } as const;
const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;
const IIR_NO_INT = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_FIFO = 0xc0;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
/** Bytes the receive buffer holds before input is dropped (and LSR.OE set). */
export const RX_CAPACITY = 4096;

/** Indices of the UART's state words in its shared Int32Array. */
const S = { LOCK: 0, IER: 1, LCR: 2, MCR: 3, LSR_ERR: 4, MSR_DELTA: 5, SCR: 6, DLL: 7, DLM: 8, FIFO: 9, THR_PENDING: 10, LINE: 11, RX_HEAD: 12, RX_COUNT: 13 } as const;
const STATE_BYTES = 64;
/** Size of the SharedArrayBuffer that holds one UART's state (registers and receive buffer). */
export const SERIAL_STATE_BYTES = STATE_BYTES + RX_CAPACITY;

/** How the UART talks to the outside: guest output bytes and its interrupt line level. */
export interface SerialSinks {
  output(byte: number): void;
  irq(level: boolean): void;
}

/**
 * A 16550A UART (the 8 registers at base 0x3F8 for COM1, IRQ 4). Transmission is immediate
 * (THR is always empty: LSR.THRE|TEMT set); received bytes queue in a buffer of RX_CAPACITY.
 * The interrupt line is level-like: high while an enabled interrupt is pending, by priority
 * line status (overrun), receiver data (RDI), THR empty (THRI), modem status (MSI); the
 * sinks see only changes. Loopback (MCR bit 4) routes THR to the receiver and MCR's outputs
 * to MSR, as Linux's 8250 autoconfiguration tests.
 *
 * The state lives in a SharedArrayBuffer (`state`) guarded by a spinlock, so several
 * threads (each vCPU worker, and the main thread feeding terminal input) can each hold a
 * Serial over the same state, each with its own sinks.
 */
export class Serial implements BusDevice {
  readonly state: SharedArrayBuffer;
  readonly #sinks: SerialSinks;
  readonly #s: Int32Array;
  readonly #rx: Uint8Array;

  /** A UART with fresh state, or a view of the UART whose `state` another thread created. */
  constructor(sinks: SerialSinks, state?: SharedArrayBuffer) {
    this.#sinks = sinks;
    this.state = state ?? new SharedArrayBuffer(SERIAL_STATE_BYTES);
    this.#s = new Int32Array(this.state, 0, STATE_BYTES / 4);
    this.#rx = new Uint8Array(this.state, STATE_BYTES, RX_CAPACITY);
    if (!state) {
      this.#s[S.LCR] = 0x03;
      this.#s[S.MCR] = 0x08;
      this.#s[S.DLL] = 0x0c;
    }
  }

  #lock(): void {
    while (Atomics.compareExchange(this.#s, S.LOCK, 0, 1) !== 0);
  }

  #unlock(): void {
    Atomics.store(this.#s, S.LOCK, 0);
  }

  /** Queues bytes from the terminal for the guest; bytes beyond RX_CAPACITY are dropped (LSR.OE). */
  receive(bytes: Uint8Array): void {
    this.#lock();
    try {
      for (const b of bytes) this.#push(b);
      this.#update();
    } finally {
      this.#unlock();
    }
  }

  #push(b: number): void {
    const s = this.#s;
    if (s[S.RX_COUNT] === RX_CAPACITY) {
      s[S.LSR_ERR] |= LSR_OE;
      return;
    }
    this.#rx[(s[S.RX_HEAD] + s[S.RX_COUNT]) % RX_CAPACITY] = b;
    s[S.RX_COUNT]++;
  }

  #iir(): number {
    const s = this.#s;
    const ier = s[S.IER];
    const fifo = s[S.FIFO] ? IIR_FIFO : 0;
    if (ier & IER_RLSI && s[S.LSR_ERR]) return fifo | 0x06;
    if (ier & IER_RDI && s[S.RX_COUNT] > 0) return fifo | IIR_RDI;
    if (ier & IER_THRI && s[S.THR_PENDING]) return fifo | IIR_THRI;
    if (ier & IER_MSI && s[S.MSR_DELTA]) return fifo | IIR_MSI;
    return fifo | IIR_NO_INT;
  }

  #update(): void {
    const level = (this.#iir() & IIR_NO_INT) === 0 ? 1 : 0;
    if (level !== this.#s[S.LINE]) {
      this.#s[S.LINE] = level;
      this.#sinks.irq(level === 1);
    }
  }

  #msr(): number {
    const s = this.#s;
    if (s[S.MCR] & MCR_LOOP) {
      const m = s[S.MCR];
      return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4) | s[S.MSR_DELTA];
    }
    return 0xb0 | s[S.MSR_DELTA]; // DCD, DSR, CTS: a terminal is always there
  }

  read(offset: number, size: number): number {
    if (size !== 1) return (1 << (size * 8)) - 1 >>> 0;
    this.#lock();
    try {
      return this.#read(offset);
    } finally {
      this.#unlock();
    }
  }

  #read(offset: number): number {
    const s = this.#s;
    const dlab = (s[S.LCR] & LCR_DLAB) !== 0;
    let v: number;
    switch (offset) {
      case UART.RBR:
        if (dlab) return s[S.DLL];
        v = 0;
        if (s[S.RX_COUNT] > 0) {
          v = this.#rx[s[S.RX_HEAD]];
          s[S.RX_HEAD] = (s[S.RX_HEAD] + 1) % RX_CAPACITY;
          s[S.RX_COUNT]--;
        }
        break;
      case UART.IER:
        return dlab ? s[S.DLM] : s[S.IER];
      case UART.IIR:
        v = this.#iir();
        if ((v & 0x0f) === IIR_THRI) s[S.THR_PENDING] = 0;
        break;
      case UART.LCR:
        return s[S.LCR];
      case UART.MCR:
        return s[S.MCR];
      case UART.LSR:
        v = (s[S.RX_COUNT] > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | s[S.LSR_ERR];
        s[S.LSR_ERR] = 0;
        break;
      case UART.MSR:
        v = this.#msr();
        s[S.MSR_DELTA] = 0;
        break;
      case UART.SCR:
        return s[S.SCR];
      default:
        return 0xff;
    }
    this.#update();
    return v;
  }

  write(offset: number, size: number, value: number): void {
    if (size !== 1) return;
    this.#lock();
    try {
      this.#write(offset, value & 0xff);
    } finally {
      this.#unlock();
    }
  }

  #write(offset: number, v: number): void {
    const s = this.#s;
    const dlab = (s[S.LCR] & LCR_DLAB) !== 0;
    switch (offset) {
      case UART.THR:
        if (dlab) {
          s[S.DLL] = v;
          return;
        }
        if (s[S.MCR] & MCR_LOOP) this.#push(v);
        else this.#sinks.output(v);
        s[S.THR_PENDING] = 1;
        break;
      case UART.IER:
        if (dlab) {
          s[S.DLM] = v;
          return;
        }
        if (!(s[S.IER] & IER_THRI) && v & IER_THRI) s[S.THR_PENDING] = 1;
        s[S.IER] = v & 0x0f;
        break;
      case UART.FCR:
        s[S.FIFO] = v & FCR_ENABLE;
        if (v & FCR_CLEAR_RX) {
          s[S.RX_HEAD] = 0;
          s[S.RX_COUNT] = 0;
        }
        break;
      case UART.LCR:
        s[S.LCR] = v;
        return;
      case UART.MCR:
        s[S.MCR] = v & 0x1f;
        break;
      case UART.SCR:
        s[S.SCR] = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
    this.#update();
  }
}
