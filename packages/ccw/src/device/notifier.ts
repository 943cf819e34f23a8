/**
 * Host->guest notification of one virtio-ccw device (spec 4.3.3.1): the indicators the driver
 * registered, and the interrupts raised after setting them. Classic queue indicators and
 * two-stage (adapter) indicators exclude each other (spec 4.3.2.6).
 */
import type { TransportCounters } from '@virtio/core';
import type { AdapterIndicators, ClassicIndicators } from './indicators.js';

/** The interrupts a virtio-ccw device raises; the channel subsystem delivers them to the guest. */
export interface CcwInterruptHandlers {
  /**
   * An unsolicited I/O interrupt for this subchannel (classic queue indicators, configuration
   * change). Called only when no interrupt is pending; the guest's TEST SUBCHANNEL
   * (CcwTransport.testSubchannel) makes the next one possible.
   */
  ioInterrupt(): void;
  /** An adapter I/O interrupt for interruption subclass `isc` (0-7) (two-stage indicators). */
  adapterInterrupt(isc: number): void;
}

export class Notifier {
  readonly #handlers: CcwInterruptHandlers;
  readonly #counters: TransportCounters;
  #queue: ClassicIndicators | null = null;
  #config: ClassicIndicators | null = null;
  #adapter: AdapterIndicators | null = null;
  #pending = false;

  constructor(handlers: CcwInterruptHandlers, counters: TransportCounters) {
    this.#handlers = handlers;
    this.#counters = counters;
  }

  /** CCW_CMD_SET_IND. @returns false when two-stage indicators are set up already (a command reject) */
  setQueueIndicators(indicators: ClassicIndicators): boolean {
    if (this.#adapter) return false;
    this.#queue = indicators;
    return true;
  }

  /** CCW_CMD_SET_CONF_IND. */
  setConfigIndicators(indicators: ClassicIndicators): void {
    this.#config = indicators;
  }

  /** CCW_CMD_SET_IND_ADAPTER. @returns false when classic indicators are set up already ([ccw.dev.11]) */
  setAdapterIndicators(indicators: AdapterIndicators): boolean {
    if (this.#queue) return false;
    this.#adapter = indicators;
    return true;
  }

  /** Device reset: every indicator forgotten, nothing pending ([ccw.dev.16]). */
  reset(): void {
    this.#queue = null;
    this.#config = null;
    this.#adapter = null;
    this.#pending = false;
  }

  /** TEST SUBCHANNEL: whether an I/O interrupt was pending; clears it. */
  testSubchannel(): boolean {
    const pending = this.#pending;
    this.#pending = false;
    return pending;
  }

  /** Used buffer notification for queue `queueIndex` (from core, after its checks). */
  usedBuffer(queueIndex: number): void {
    const adapter = this.#adapter;
    if (adapter) {
      // [ccw.dev.12] an adapter interrupt only when the summary indicator was clear.
      if (adapter.set(queueIndex)) this.#handlers.adapterInterrupt(adapter.isc);
      return;
    }
    const classic = this.#queue;
    if (classic && queueIndex < 64) {
      classic.set(queueIndex);
      this.#ioInterrupt();
      return;
    }
    // No queue indicators registered, or a queue beyond the 64 classic bits: nowhere to signal.
    this.#counters.droppedNotifications++;
  }

  /** Configuration change notification: bit 0 of the configuration indicators, always a classic I/O interrupt. */
  configChange(): void {
    const indicators = this.#config;
    if (!indicators) {
      this.#counters.droppedNotifications++;
      return;
    }
    indicators.set(0);
    this.#ioInterrupt();
  }

  #ioInterrupt(): void {
    if (this.#pending) return;
    this.#pending = true;
    this.#handlers.ioInterrupt();
  }
}
