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

/** How the UART talks to the outside: guest output bytes and its interrupt line level. */
export interface SerialSinks {
  output(byte: number): void;
  irq(level: boolean): void;
}

/**
 * A 16550A UART (the 8 registers at base 0x3F8 for COM1, IRQ 4). Transmission is immediate
 * (THR is always empty: LSR.THRE|TEMT set); received bytes queue in a buffer of RX_CAPACITY.
 * The interrupt line is level-like: high while an enabled interrupt is pending, by priority
 * receiver data (RDI), THR empty (THRI), modem status (MSI). Loopback (MCR bit 4) routes THR
 * to the receiver and MCR's outputs to MSR, as Linux's 8250 autoconfiguration tests.
 */
export class Serial implements BusDevice {
  readonly #sinks: SerialSinks;
  readonly #rx = new Uint8Array(RX_CAPACITY);
  #rxHead = 0;
  #rxCount = 0;
  #ier = 0;
  #lcr = 0x03;
  #mcr = 0x08;
  #lsrErrors = 0;
  #msrDelta = 0;
  #scr = 0;
  #dll = 0x0c;
  #dlm = 0;
  #fifo = false;
  #thrEmptyPending = false;
  #line = false;

  constructor(sinks: SerialSinks) {
    this.#sinks = sinks;
  }

  /** Queues bytes from the terminal for the guest; bytes beyond RX_CAPACITY are dropped (LSR.OE). */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.#push(b);
    this.#update();
  }

  #push(b: number): void {
    if (this.#rxCount === RX_CAPACITY) {
      this.#lsrErrors |= LSR_OE;
      return;
    }
    this.#rx[(this.#rxHead + this.#rxCount) % RX_CAPACITY] = b;
    this.#rxCount++;
  }

  #iir(): number {
    const fifo = this.#fifo ? IIR_FIFO : 0;
    if (this.#ier & IER_RLSI && this.#lsrErrors) return fifo | 0x06;
    if (this.#ier & IER_RDI && this.#rxCount > 0) return fifo | IIR_RDI;
    if (this.#ier & IER_THRI && this.#thrEmptyPending) return fifo | IIR_THRI;
    if (this.#ier & IER_MSI && this.#msrDelta) return fifo | IIR_MSI;
    return fifo | IIR_NO_INT;
  }

  #update(): void {
    const level = (this.#iir() & IIR_NO_INT) === 0;
    if (level !== this.#line) {
      this.#line = level;
      this.#sinks.irq(level);
    }
  }

  #msr(): number {
    if (this.#mcr & MCR_LOOP) {
      const m = this.#mcr;
      return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4) | this.#msrDelta;
    }
    return 0xb0 | this.#msrDelta; // DCD, DSR, CTS: a terminal is always there
  }

  read(offset: number, size: number): number {
    if (size !== 1) return (1 << (size * 8)) - 1 >>> 0;
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    let v: number;
    switch (offset) {
      case UART.RBR:
        if (dlab) return this.#dll;
        v = 0;
        if (this.#rxCount > 0) {
          v = this.#rx[this.#rxHead];
          this.#rxHead = (this.#rxHead + 1) % RX_CAPACITY;
          this.#rxCount--;
        }
        break;
      case UART.IER:
        return dlab ? this.#dlm : this.#ier;
      case UART.IIR:
        v = this.#iir();
        if ((v & 0x0f) === IIR_THRI) this.#thrEmptyPending = false;
        break;
      case UART.LCR:
        return this.#lcr;
      case UART.MCR:
        return this.#mcr;
      case UART.LSR:
        v = (this.#rxCount > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | this.#lsrErrors;
        this.#lsrErrors = 0;
        break;
      case UART.MSR:
        v = this.#msr();
        this.#msrDelta = 0;
        break;
      case UART.SCR:
        return this.#scr;
      default:
        return 0xff;
    }
    this.#update();
    return v;
  }

  write(offset: number, size: number, value: number): void {
    if (size !== 1) return;
    const v = value & 0xff;
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART.THR:
        if (dlab) {
          this.#dll = v;
          return;
        }
        if (this.#mcr & MCR_LOOP) this.#push(v);
        else this.#sinks.output(v);
        this.#thrEmptyPending = true;
        break;
      case UART.IER:
        if (dlab) {
          this.#dlm = v;
          return;
        }
        if (!(this.#ier & IER_THRI) && v & IER_THRI) this.#thrEmptyPending = true;
        this.#ier = v & 0x0f;
        break;
      case UART.FCR:
        this.#fifo = (v & FCR_ENABLE) !== 0;
        if (v & FCR_CLEAR_RX) {
          this.#rxHead = 0;
          this.#rxCount = 0;
        }
        break;
      case UART.LCR:
        this.#lcr = v;
        return;
      case UART.MCR:
        this.#mcr = v & 0x1f;
        break;
      case UART.SCR:
        this.#scr = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
    this.#update();
  }
}
