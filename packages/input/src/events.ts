/**
 * Builders of the event sequences that make one input device update, each ending with
 * EV_SYN/SYN_REPORT as evdev expects (spec 5.8.6.2: a sequence is delivered or dropped whole).
 */
import { ABS_X, ABS_Y, EV_ABS, EV_KEY, EV_REL, EV_SYN, REL_WHEEL, REL_X, REL_Y, SYN_REPORT } from './event-codes.js';
import type { InputEvent } from './protocol.js';

const syn: InputEvent = { type: EV_SYN, code: SYN_REPORT, value: 0 };

/** A key or button press (`down`) or release. */
export function keyEvents(code: number, down: boolean): InputEvent[] {
  return [{ type: EV_KEY, code, value: down ? 1 : 0 }, syn];
}

/** Relative motion by (dx, dy) and optionally a wheel step; zero axes are left out. */
export function relativeMoveEvents(dx: number, dy: number, wheel = 0): InputEvent[] {
  const out: InputEvent[] = [];
  if (dx !== 0) out.push({ type: EV_REL, code: REL_X, value: dx });
  if (dy !== 0) out.push({ type: EV_REL, code: REL_Y, value: dy });
  if (wheel !== 0) out.push({ type: EV_REL, code: REL_WHEEL, value: wheel });
  out.push(syn);
  return out;
}

/** An absolute position (tablet). */
export function absoluteMoveEvents(x: number, y: number): InputEvent[] {
  return [{ type: EV_ABS, code: ABS_X, value: x }, { type: EV_ABS, code: ABS_Y, value: y }, syn];
}
