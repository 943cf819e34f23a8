/**
 * One requestq request, device side (spec 5.23.6): validates the request a driver placed in
 * the device-readable buffer and builds the response, with the spec's status for every
 * malformed or unsupported request ([rtc.dev.2] - [rtc.dev.12]). Never throws.
 */
import {
  isAlarmRequest,
  RTC_MESSAGE_SIZES,
  U64_MAX,
  VIRTIO_RTC_COUNTER_ARM_VCT,
  VIRTIO_RTC_COUNTER_INVALID,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_FLAG_ALARM_CAP,
  VIRTIO_RTC_FLAG_ALARM_ENABLED,
  VIRTIO_RTC_FLAG_CROSS_CAP,
  VIRTIO_RTC_HEAD_SIZE,
  VIRTIO_RTC_REQ_CFG,
  VIRTIO_RTC_REQ_CLOCK_CAP,
  VIRTIO_RTC_REQ_CROSS_CAP,
  VIRTIO_RTC_REQ_READ,
  VIRTIO_RTC_REQ_READ_ALARM,
  VIRTIO_RTC_REQ_READ_CROSS,
  VIRTIO_RTC_REQ_SET_ALARM,
  VIRTIO_RTC_REQ_SET_ALARM_ENABLED,
  VIRTIO_RTC_S_EINVAL,
  VIRTIO_RTC_S_EIO,
  VIRTIO_RTC_S_ENODEV,
  VIRTIO_RTC_S_EOPNOTSUPP,
  VIRTIO_RTC_S_OK,
} from './protocol.js';
import type { RtcClock } from './clocks.js';
import type { Alarms } from './alarms.js';

/** What a request may use of the device. */
export interface RtcRequestTarget {
  readonly clocks: readonly RtcClock[];
  /** Whether VIRTIO_RTC_F_ALARM was negotiated. */
  alarmNegotiated(): boolean;
  readonly alarms: Alarms;
  /** A clock reading in ns. @throws when the clock cannot be read (the request fails with EIO) */
  read(id: number): bigint;
  /** Whether a counter with this hw_counter identifier is configured. */
  hasCounter(hwCounter: number): boolean;
  /** Reading and counter cycles at one instant, or null when the cycles cannot be determined. @throws as {@link read} */
  readCross(id: number, hwCounter: number): { readonly reading: bigint; readonly cycles: bigint } | null;
}

/** hw_counter values the implementation knows: the spec's, plus configured implementation-specific ones. */
const specCounter = (hw: number) => hw === VIRTIO_RTC_COUNTER_ARM_VCT || hw === VIRTIO_RTC_COUNTER_X86_TSC || hw === VIRTIO_RTC_COUNTER_INVALID;

/** Status a failure stops with. */
class Fail {
  constructor(readonly status: number) {}
}

/**
 * Serves one request. `req` holds the first `readable` (at most req.byteLength) bytes of the
 * device-readable buffer, zero beyond; the response is built in `resp` (zeroed first).
 * @returns the status and the response size in bytes (before truncation to the writable buffer)
 */
export function serveRequest(
  target: RtcRequestTarget,
  req: DataView,
  readable: number,
  writable: number,
  resp: DataView,
): { status: number; size: number } {
  for (let i = 0; i < resp.byteLength; i++) resp.setUint8(i, 0);
  let size = VIRTIO_RTC_HEAD_SIZE;
  let status: number;
  try {
    size = execute(target, req, readable, writable, resp);
    status = VIRTIO_RTC_S_OK;
  } catch (err) {
    // [rtc.dev.12] anything not covered by a more specific status, e.g. a failing time source.
    status = err instanceof Fail ? err.status : VIRTIO_RTC_S_EIO;
    for (let i = 0; i < resp.byteLength; i++) resp.setUint8(i, 0);
    size = VIRTIO_RTC_HEAD_SIZE;
  }
  resp.setUint8(0, status);
  return { status, size };
}

function execute(t: RtcRequestTarget, req: DataView, readable: number, writable: number, resp: DataView): number {
  if (readable < 2) throw new Fail(VIRTIO_RTC_S_EINVAL);
  const msgType = req.getUint16(0, true);
  const sizes = RTC_MESSAGE_SIZES.get(msgType);
  if (!sizes) throw new Fail(VIRTIO_RTC_S_EOPNOTSUPP);
  if (readable < sizes.request || writable < sizes.response) throw new Fail(VIRTIO_RTC_S_EINVAL);
  if (isAlarmRequest(msgType) && !t.alarmNegotiated()) throw new Fail(VIRTIO_RTC_S_ENODEV);
  // Reserved bytes (and flag bits) the driver must leave zero: EINVAL, after ENODEV/EOPNOTSUPP.
  let invalid = !zero(req, 2, VIRTIO_RTC_HEAD_SIZE);
  const clock = (at: number): number => {
    const id = req.getUint16(at, true);
    if (id >= t.clocks.length) throw new Fail(VIRTIO_RTC_S_ENODEV);
    return id;
  };
  const alarmClock = (at: number): number => {
    const id = clock(at);
    if (!t.alarms.has(id)) throw new Fail(VIRTIO_RTC_S_ENODEV);
    return id;
  };
  const counter = (at: number): number => {
    const hw = req.getUint8(at);
    if (!specCounter(hw) && !t.hasCounter(hw)) throw new Fail(VIRTIO_RTC_S_EOPNOTSUPP);
    return hw;
  };
  const valid = () => {
    if (invalid) throw new Fail(VIRTIO_RTC_S_EINVAL);
  };
  switch (msgType) {
    case VIRTIO_RTC_REQ_CFG: {
      valid();
      resp.setUint16(8, t.clocks.length, true);
      break;
    }
    case VIRTIO_RTC_REQ_CLOCK_CAP: {
      const id = clock(8);
      invalid ||= !zero(req, 10, 16);
      valid();
      const c = t.clocks[id];
      resp.setUint8(8, c.type);
      resp.setUint8(9, c.reportedSmearing);
      resp.setUint8(10, t.alarmNegotiated() && t.alarms.has(id) ? VIRTIO_RTC_FLAG_ALARM_CAP : 0);
      break;
    }
    case VIRTIO_RTC_REQ_CROSS_CAP: {
      clock(8);
      const hw = counter(10);
      invalid ||= !zero(req, 11, 16);
      valid();
      resp.setUint8(8, t.hasCounter(hw) ? VIRTIO_RTC_FLAG_CROSS_CAP : 0);
      break;
    }
    case VIRTIO_RTC_REQ_READ: {
      const id = clock(8);
      invalid ||= !zero(req, 10, 16);
      valid();
      resp.setBigUint64(8, u64(t.read(id)), true);
      break;
    }
    case VIRTIO_RTC_REQ_READ_CROSS: {
      const id = clock(8);
      const hw = counter(10);
      invalid ||= !zero(req, 11, 16);
      valid();
      // [rtc.dev.4] a known counter this device cannot relate to the guest's: an implementation limitation.
      if (!t.hasCounter(hw)) throw new Fail(VIRTIO_RTC_S_EOPNOTSUPP);
      const x = t.readCross(id, hw);
      if (x === null) throw new Fail(VIRTIO_RTC_S_EIO);
      resp.setBigUint64(8, u64(x.reading), true);
      resp.setBigUint64(16, u64(x.cycles), true);
      break;
    }
    case VIRTIO_RTC_REQ_READ_ALARM: {
      const id = alarmClock(8);
      invalid ||= !zero(req, 10, 16);
      valid();
      const a = t.alarms.get(id);
      resp.setBigUint64(8, a.time, true);
      resp.setUint8(16, a.enabled ? VIRTIO_RTC_FLAG_ALARM_ENABLED : 0);
      break;
    }
    case VIRTIO_RTC_REQ_SET_ALARM: {
      const time = req.getBigUint64(8, true);
      const id = alarmClock(16);
      const flags = req.getUint8(18);
      invalid ||= (flags & ~VIRTIO_RTC_FLAG_ALARM_ENABLED) !== 0 || !zero(req, 19, 24);
      valid();
      t.alarms.set(id, time, (flags & VIRTIO_RTC_FLAG_ALARM_ENABLED) !== 0);
      break;
    }
    case VIRTIO_RTC_REQ_SET_ALARM_ENABLED: {
      const id = alarmClock(8);
      const flags = req.getUint8(10);
      invalid ||= (flags & ~VIRTIO_RTC_FLAG_ALARM_ENABLED) !== 0 || !zero(req, 11, 16);
      valid();
      t.alarms.setEnabled(id, (flags & VIRTIO_RTC_FLAG_ALARM_ENABLED) !== 0);
      break;
    }
  }
  return sizes.response;
}

function zero(v: DataView, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (v.getUint8(i) !== 0) return false;
  return true;
}

/** A reading as an le64 value. @throws (EIO) when the clock is before its epoch or beyond 64 bits */
function u64(v: bigint): bigint {
  if (v < 0n || v > U64_MAX) throw new Fail(VIRTIO_RTC_S_EIO);
  return v;
}
