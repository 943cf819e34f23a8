/**
 * The RTC device's structures and constants (spec 5.23 "RTC Device"), under the spec's names.
 * Every structure is little-endian; sizes and offsets are in bytes.
 */
import { VIRTIO_ID_RTC } from '@virtio/core';

/** Device ID of the RTC device (spec 5.23.1). */
export const VIRTIO_RTC_DEVICE_ID = VIRTIO_ID_RTC;
/** Virtqueue indices (spec 5.23.2). The alarmq exists only with VIRTIO_RTC_F_ALARM. */
export const VIRTIO_RTC_REQUESTQ = 0;
export const VIRTIO_RTC_ALARMQ = 1;

/** Feature bit: the device supports alarms (spec 5.23.3). */
export const VIRTIO_RTC_F_ALARM = 0;

/** Response status values (struct virtio_rtc_resp_head.status, spec 5.23.6). */
export const VIRTIO_RTC_S_OK = 0;
export const VIRTIO_RTC_S_EOPNOTSUPP = 2;
export const VIRTIO_RTC_S_ENODEV = 3;
export const VIRTIO_RTC_S_EINVAL = 4;
export const VIRTIO_RTC_S_EIO = 5;

/** Clock types (spec 5.23.6.1.1). */
export const VIRTIO_RTC_CLOCK_UTC = 0;
export const VIRTIO_RTC_CLOCK_TAI = 1;
export const VIRTIO_RTC_CLOCK_MONOTONIC = 2;
export const VIRTIO_RTC_CLOCK_UTC_SMEARED = 3;
export const VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED = 4;

/** Leap second smearing variants (spec 5.23.6.1.2). */
export const VIRTIO_RTC_SMEAR_UNSPECIFIED = 0;
export const VIRTIO_RTC_SMEAR_NOON_LINEAR = 1;
export const VIRTIO_RTC_SMEAR_UTC_SLS = 2;

/** Hardware counter identifiers (spec 5.23.6.1.3); 0xF0..0xFE are implementation-specific. */
export const VIRTIO_RTC_COUNTER_ARM_VCT = 0;
export const VIRTIO_RTC_COUNTER_X86_TSC = 1;
export const VIRTIO_RTC_COUNTER_INVALID = 0xff;

/** Message types: control requests (5.23.6.2), read requests (5.23.6.3), alarm requests and notification (5.23.6.4). */
export const VIRTIO_RTC_REQ_READ = 0x0001;
export const VIRTIO_RTC_REQ_READ_CROSS = 0x0002;
export const VIRTIO_RTC_REQ_CFG = 0x1000;
export const VIRTIO_RTC_REQ_CLOCK_CAP = 0x1001;
export const VIRTIO_RTC_REQ_CROSS_CAP = 0x1002;
export const VIRTIO_RTC_REQ_READ_ALARM = 0x1003;
export const VIRTIO_RTC_REQ_SET_ALARM = 0x1004;
export const VIRTIO_RTC_REQ_SET_ALARM_ENABLED = 0x1005;
export const VIRTIO_RTC_NOTIF_ALARM = 0x2000;

/** struct virtio_rtc_resp_clock_cap.flags: the clock supports an alarm. */
export const VIRTIO_RTC_FLAG_ALARM_CAP = 1 << 0;
/** struct virtio_rtc_resp_cross_cap.flags: cross-timestamping supported for the pair. */
export const VIRTIO_RTC_FLAG_CROSS_CAP = 1 << 0;
/** flags of READ_ALARM responses and SET_ALARM / SET_ALARM_ENABLED requests: the alarm is enabled. */
export const VIRTIO_RTC_FLAG_ALARM_ENABLED = 1 << 0;

/** Size of struct virtio_rtc_req_head { le16 msg_type; u8 reserved[6]; } and of struct virtio_rtc_resp_head { u8 status; u8 reserved[7]; }. */
export const VIRTIO_RTC_HEAD_SIZE = 8;
/** Size of struct virtio_rtc_notif_alarm { struct virtio_rtc_notif_head head; le16 clock_id; u8 reserved[6]; }. */
export const VIRTIO_RTC_NOTIF_ALARM_SIZE = 16;

/** Sizes of the request and response structure of each message type, in bytes. */
export interface RtcMessageSizes {
  readonly request: number;
  readonly response: number;
}

/**
 * Request and response sizes by msg_type (spec 5.23.6.2 - 5.23.6.4). Every request after the
 * head starts with le16 clock_id, except SET_ALARM (le64 alarm_time first) and CFG (no params).
 */
export const RTC_MESSAGE_SIZES: ReadonlyMap<number, RtcMessageSizes> = new Map([
  [VIRTIO_RTC_REQ_READ, { request: 16, response: 16 }],
  [VIRTIO_RTC_REQ_READ_CROSS, { request: 16, response: 24 }],
  [VIRTIO_RTC_REQ_CFG, { request: 8, response: 16 }],
  [VIRTIO_RTC_REQ_CLOCK_CAP, { request: 16, response: 16 }],
  [VIRTIO_RTC_REQ_CROSS_CAP, { request: 16, response: 16 }],
  [VIRTIO_RTC_REQ_READ_ALARM, { request: 16, response: 24 }],
  [VIRTIO_RTC_REQ_SET_ALARM, { request: 24, response: 8 }],
  [VIRTIO_RTC_REQ_SET_ALARM_ENABLED, { request: 16, response: 8 }],
]);

/** The largest request and response structures, in bytes. */
export const VIRTIO_RTC_MAX_REQUEST_SIZE = 24;
export const VIRTIO_RTC_MAX_RESPONSE_SIZE = 24;

/** The alarm request types, which exist only with VIRTIO_RTC_F_ALARM. */
export const isAlarmRequest = (msgType: number): boolean =>
  msgType === VIRTIO_RTC_REQ_READ_ALARM || msgType === VIRTIO_RTC_REQ_SET_ALARM || msgType === VIRTIO_RTC_REQ_SET_ALARM_ENABLED;

/**
 * Whether `hwCounter` is a hardware counter identifier a driver may send (spec 5.23.6.2.1 and
 * 5.23.6.3.1: one the specification defines, or 0xF0..0xFE).
 */
export const isDriverHwCounter = (hwCounter: number): boolean =>
  hwCounter === VIRTIO_RTC_COUNTER_ARM_VCT ||
  hwCounter === VIRTIO_RTC_COUNTER_X86_TSC ||
  hwCounter === VIRTIO_RTC_COUNTER_INVALID ||
  (hwCounter >= 0xf0 && hwCounter <= 0xfe);

/** The largest value of an le64 field. */
export const U64_MAX = (1n << 64n) - 1n;
