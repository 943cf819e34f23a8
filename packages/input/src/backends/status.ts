import type { InputEvent } from '../protocol.js';

/** Receives the driver's status feedback from the statusq (e.g. EV_LED keyboard LED updates). */
export interface InputStatusSink {
  /**
   * One event the driver sent. Called synchronously while the device drains the statusq;
   * throwing is caught and ignored (feedback is advisory).
   */
  status(event: InputEvent): void;
}

/** An {@link InputStatusSink} that calls a function per event. */
export class CallbackStatusSink implements InputStatusSink {
  constructor(readonly status: (event: InputEvent) => void) {}
}

/**
 * An in-memory {@link InputStatusSink}: keeps every event (up to `limit`, oldest dropped) and
 * the latest value per (type, code), e.g. whether LED_CAPSL is on.
 */
export class RecordingStatusSink implements InputStatusSink {
  readonly events: InputEvent[] = [];
  readonly #state = new Map<number, number>();

  constructor(readonly limit = 1024) {}

  status(event: InputEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
    this.#state.set((event.type << 16) | event.code, event.value);
  }

  /** The latest value the driver reported for (type, code), or undefined. */
  value(type: number, code: number): number | undefined {
    return this.#state.get((type << 16) | code);
  }
}
