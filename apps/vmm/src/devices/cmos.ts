import type { BusDevice } from '../bus/io-bus.js';

/** CMOS RTC register numbers (MC146818). */
export const RTC = { SECONDS: 0x00, MINUTES: 0x02, HOURS: 0x04, WEEKDAY: 0x06, DAY: 0x07, MONTH: 0x08, YEAR: 0x09, A: 0x0a, B: 0x0b, C: 0x0c, D: 0x0d, CENTURY: 0x32 } as const;
const B_24H = 0x02;
const B_BINARY = 0x04;

/**
 * The CMOS/RTC at ports 0x70 (index; bit 7 is the NMI mask) and 0x71 (data). Time registers
 * read the host clock (UTC) in BCD or binary and 12/24-hour form as register B selects;
 * register A never reports an update in progress; D reports valid RAM and time. Writes to
 * the time registers are ignored (the clock follows the host); the other 114 bytes are
 * plain CMOS RAM. `now` is injectable for tests.
 */
export class Cmos implements BusDevice {
  readonly #ram = new Uint8Array(128);
  readonly #now: () => Date;
  #index = 0;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
    this.#ram[RTC.A] = 0x26;
    this.#ram[RTC.B] = B_24H;
    this.#ram[RTC.D] = 0x80;
  }

  read(offset: number, size: number): number {
    if (size !== 1) return (1 << (size * 8)) - 1 >>> 0;
    if (offset === 0) return this.#index;
    return this.#register(this.#index);
  }

  write(offset: number, size: number, value: number): void {
    if (size !== 1) return;
    if (offset === 0) {
      this.#index = value & 0x7f;
      return;
    }
    const i = this.#index;
    if (i === RTC.B) this.#ram[i] = value & 0xff;
    else if (i === RTC.A) this.#ram[i] = value & 0x7f; // UIP is read-only
    else if (i > RTC.D && i !== RTC.CENTURY) this.#ram[i] = value & 0xff;
  }

  #register(i: number): number {
    const b = this.#ram[RTC.B];
    const enc = (n: number) => (b & B_BINARY ? n : ((n / 10) | 0) * 16 + (n % 10));
    const t = this.#now();
    switch (i) {
      case RTC.SECONDS:
        return enc(t.getUTCSeconds());
      case RTC.MINUTES:
        return enc(t.getUTCMinutes());
      case RTC.HOURS: {
        const h = t.getUTCHours();
        if (b & B_24H) return enc(h);
        return enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
      }
      case RTC.WEEKDAY:
        return enc(t.getUTCDay() + 1);
      case RTC.DAY:
        return enc(t.getUTCDate());
      case RTC.MONTH:
        return enc(t.getUTCMonth() + 1);
      case RTC.YEAR:
        return enc(t.getUTCFullYear() % 100);
      case RTC.CENTURY:
        return enc(Math.floor(t.getUTCFullYear() / 100));
      case RTC.C:
        return 0;
      default:
        return this.#ram[i];
    }
  }
}
