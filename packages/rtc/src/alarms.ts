/**
 * Alarm state of the clocks that support one (spec 5.23.6.4 "Alarm Operation"): alarm time and
 * enabled flag per clock, detection of alarm expiration events, and which events are being
 * served (awaiting an alarmq buffer for their VIRTIO_RTC_NOTIF_ALARM).
 */
import type { RtcTimer } from './time/source.js';

const NS_PER_MS = 1_000_000n;

interface Alarm {
  /** Alarm time, in the clock's nanoseconds (any u64). */
  time: bigint;
  enabled: boolean;
  /** The clock was at or after `time` at the last check. */
  reached: boolean;
  /** An expiration event is being served: a notification is owed. */
  serving: boolean;
}

export interface AlarmHooks {
  /** The current reading of clock `id`, or null when it cannot be read (then nothing is decided). */
  read(id: number): bigint | null;
  /** An expiration event for clock `id` happened (its serving began). */
  expired(id: number): void;
}

/** The alarms of a device; clocks without alarm support have none. */
export class Alarms {
  readonly #alarms: (Alarm | undefined)[];
  readonly #hooks: AlarmHooks;
  readonly #timer: RtcTimer;
  readonly #maxDelayMs: number;
  #handle: unknown;
  #armed = false;
  readonly #onTimer = () => {
    this.#armed = false;
    this.check();
  };

  /**
   * @param capable per clock id, whether it supports an alarm
   * @param maxDelayMs longest timer delay: how soon a step of the host's clock is noticed
   */
  constructor(capable: readonly boolean[], hooks: AlarmHooks, timer: RtcTimer, maxDelayMs: number) {
    this.#alarms = capable.map((c) => (c ? { time: 0n, enabled: false, reached: false, serving: false } : undefined));
    this.#hooks = hooks;
    this.#timer = timer;
    this.#maxDelayMs = maxDelayMs;
  }

  has(id: number): boolean {
    return this.#alarms[id] !== undefined;
  }

  /** Alarm time and enabled flag of clock `id` (which must have an alarm). */
  get(id: number): { readonly time: bigint; readonly enabled: boolean } {
    const a = this.#alarms[id] as Alarm;
    return { time: a.time, enabled: a.enabled };
  }

  /** Whether an expiration event of clock `id` is being served. */
  serving(id: number): boolean {
    return this.#alarms[id]?.serving ?? false;
  }

  /** VIRTIO_RTC_REQ_SET_ALARM: sets time and enabled flag; an enabled alarm already reached expires. */
  set(id: number, time: bigint, enabled: boolean): void {
    const a = this.#alarms[id] as Alarm;
    a.time = time;
    a.enabled = enabled;
    // Disabling stops serving before the response is used; a new time makes the old expiration obsolete.
    a.serving = false;
    this.#evaluate(id, a, true);
    this.#arm();
  }

  /** VIRTIO_RTC_REQ_SET_ALARM_ENABLED: keeps the time; enabling an alarm already reached expires it. */
  setEnabled(id: number, enabled: boolean): void {
    const a = this.#alarms[id] as Alarm;
    a.enabled = enabled;
    if (!enabled) a.serving = false;
    this.#evaluate(id, a, enabled);
    this.#arm();
  }

  /** Marks the expiration event of clock `id` served (its notification was used). */
  served(id: number): void {
    const a = this.#alarms[id];
    if (a) a.serving = false;
  }

  /** A served alarm whose clock stepped back before its time is dropped: nothing was reached. */
  stillDue(id: number, reading: bigint): boolean {
    const a = this.#alarms[id];
    if (!a?.serving) return false;
    if (reading < a.time) {
      a.serving = false;
      return false;
    }
    return true;
  }

  /**
   * Device reset: alarms are kept (`retain`; an enabled alarm already reached then expires,
   * since the reset is an expiration event) or return to time 0, disabled.
   */
  reset(retain: boolean): void {
    this.#alarms.forEach((a, id) => {
      if (!a) return;
      a.serving = false;
      if (retain) {
        this.#evaluate(id, a, true);
      } else {
        a.time = 0n;
        a.enabled = false;
        a.reached = false;
      }
    });
    this.#arm();
  }

  /** Reads the clocks with enabled alarms: a clock that progressed (or stepped) to its alarm time expires it. */
  check(): void {
    this.#alarms.forEach((a, id) => {
      if (a?.enabled) this.#evaluate(id, a, false);
    });
    this.#arm();
  }

  /**
   * Updates `reached` from the clock. An enabled alarm expires when `force` (set/enable/reset
   * found it reached) or when the clock moved from before the alarm time to it or past it.
   * A clock back before the alarm time makes a served expiration obsolete.
   */
  #evaluate(id: number, a: Alarm, force: boolean): void {
    const now = this.#hooks.read(id);
    if (now === null) return;
    const reached = now >= a.time;
    const crossed = reached && !a.reached;
    a.reached = reached;
    if (!reached) a.serving = false;
    if (a.enabled && reached && (force || crossed)) {
      a.serving = true;
      this.#hooks.expired(id);
    }
  }

  /**
   * One timer while any alarm is enabled: due at the nearest alarm time not yet reached, and at
   * most the check interval away, so a step of the clock (back before a reached alarm time, or
   * forward past one) is noticed.
   */
  #arm(): void {
    if (this.#armed) {
      this.#timer.clearTimeout(this.#handle);
      this.#armed = false;
    }
    const max = BigInt(this.#maxDelayMs) * NS_PER_MS;
    let best: bigint | undefined;
    this.#alarms.forEach((a, id) => {
      if (!a?.enabled) return;
      let left = max;
      if (!a.reached) {
        const now = this.#hooks.read(id);
        if (now !== null && a.time - now < max) left = a.time - now;
      }
      if (best === undefined || left < best) best = left;
    });
    if (best === undefined) return;
    const ms = best <= 0n ? 1 : Number((best + NS_PER_MS - 1n) / NS_PER_MS);
    this.#handle = this.#timer.setTimeout(this.#onTimer, ms);
    this.#armed = true;
  }
}
