/**
 * A token bucket in bytes: the optional rate limit of the entropy device. Tokens accrue at
 * `bytesPerSecond` up to `burst`; a request is served only with tokens in hand.
 */

/** Time and timers, injectable so tests run without waiting. Times are in milliseconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's clock: `performance.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface RateLimit {
  /** Sustained rate, in bytes per second (> 0). */
  readonly bytesPerSecond: number;
  /** Bucket size: the most bytes served at once after a pause, in bytes. Default `bytesPerSecond` (at least 1). */
  readonly burst?: number;
}

export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /** @throws RangeError for a non-positive or non-finite rate or burst */
  constructor(limit: RateLimit, clock: Clock) {
    const rate = limit.bytesPerSecond;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`entropy: bytesPerSecond ${rate} is not a positive number`);
    const burst = Math.floor(limit.burst ?? Math.max(1, rate));
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`entropy: burst ${limit.burst} is not at least 1 byte`);
    this.rate = rate;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Whole bytes that may be served now. */
  available(): number {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    return Math.floor(this.#tokens);
  }

  /** Spends `bytes` tokens (at most {@link available}). */
  take(bytes: number): void {
    this.#tokens -= bytes;
  }

  /** Milliseconds until `bytes` (at most `burst`) tokens are in hand; 0 when they already are. */
  msUntil(bytes: number): number {
    const missing = Math.min(bytes, this.burst) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate);
  }

  /** Fills the bucket (device reset). */
  refill(): void {
    this.#tokens = this.burst;
    this.#last = this.#clock.now();
  }
}
