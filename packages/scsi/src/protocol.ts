/**
 * The SCSI host device's structures and constants under the spec's names (spec 5.6), plus the
 * few SAM/SPC/SBC codes the device and the disk emulation use.
 */

/** Feature bits (spec 5.6.3). */
export const VIRTIO_SCSI_F_INOUT = 0;
export const VIRTIO_SCSI_F_HOTPLUG = 1;
export const VIRTIO_SCSI_F_CHANGE = 2;
export const VIRTIO_SCSI_F_T10_PI = 3;

/** Virtqueue indices (spec 5.6.2): controlq, eventq, then request queues. */
export const VIRTIO_SCSI_CONTROLQ = 0;
export const VIRTIO_SCSI_EVENTQ = 1;
export const VIRTIO_SCSI_REQUESTQ_BASE = 2;

/** Defaults of sense_size and cdb_size, restored at reset ([scsi.dev.1]). */
export const VIRTIO_SCSI_SENSE_SIZE_DEFAULT = 96;
export const VIRTIO_SCSI_CDB_SIZE_DEFAULT = 32;

/** Response codes of virtio_scsi_req_cmd and virtio_scsi_ctrl (spec 5.6.6.1, 5.6.6.2). */
export const VIRTIO_SCSI_S_OK = 0;
export const VIRTIO_SCSI_S_OVERRUN = 1;
export const VIRTIO_SCSI_S_ABORTED = 2;
export const VIRTIO_SCSI_S_BAD_TARGET = 3;
export const VIRTIO_SCSI_S_RESET = 4;
export const VIRTIO_SCSI_S_BUSY = 5;
export const VIRTIO_SCSI_S_TRANSPORT_FAILURE = 6;
export const VIRTIO_SCSI_S_TARGET_FAILURE = 7;
export const VIRTIO_SCSI_S_NEXUS_FAILURE = 8;
export const VIRTIO_SCSI_S_FAILURE = 9;
export const VIRTIO_SCSI_S_FUNCTION_COMPLETE = 0;
export const VIRTIO_SCSI_S_FUNCTION_SUCCEEDED = 10;
export const VIRTIO_SCSI_S_FUNCTION_REJECTED = 11;
export const VIRTIO_SCSI_S_INCORRECT_LUN = 12;

/** task_attr values. */
export const VIRTIO_SCSI_S_SIMPLE = 0;
export const VIRTIO_SCSI_S_ORDERED = 1;
export const VIRTIO_SCSI_S_HEAD = 2;
export const VIRTIO_SCSI_S_ACA = 3;

/** controlq request types and task management subtypes. */
export const VIRTIO_SCSI_T_TMF = 0;
export const VIRTIO_SCSI_T_AN_QUERY = 1;
export const VIRTIO_SCSI_T_AN_SUBSCRIBE = 2;
export const VIRTIO_SCSI_T_TMF_ABORT_TASK = 0;
export const VIRTIO_SCSI_T_TMF_ABORT_TASK_SET = 1;
export const VIRTIO_SCSI_T_TMF_CLEAR_ACA = 2;
export const VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET = 3;
export const VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET = 4;
export const VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET = 5;
export const VIRTIO_SCSI_T_TMF_QUERY_TASK = 6;
export const VIRTIO_SCSI_T_TMF_QUERY_TASK_SET = 7;

/** Asynchronous notification event classes (event_requested / event_actual / reason). */
export const VIRTIO_SCSI_EVT_ASYNC_OPERATIONAL_CHANGE = 2;
export const VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT = 4;
export const VIRTIO_SCSI_EVT_ASYNC_EXTERNAL_REQUEST = 8;
export const VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE = 16;
export const VIRTIO_SCSI_EVT_ASYNC_MULTI_HOST = 32;
export const VIRTIO_SCSI_EVT_ASYNC_DEVICE_BUSY = 64;

/** eventq events (spec 5.6.6.3). */
export const VIRTIO_SCSI_T_EVENTS_MISSED = 0x80000000;
export const VIRTIO_SCSI_T_NO_EVENT = 0;
export const VIRTIO_SCSI_T_TRANSPORT_RESET = 1;
export const VIRTIO_SCSI_T_ASYNC_NOTIFY = 2;
export const VIRTIO_SCSI_T_PARAM_CHANGE = 3;
export const VIRTIO_SCSI_EVT_RESET_HARD = 0;
export const VIRTIO_SCSI_EVT_RESET_RESCAN = 1;
export const VIRTIO_SCSI_EVT_RESET_REMOVED = 2;

/** Size of struct virtio_scsi_event in bytes. */
export const VIRTIO_SCSI_EVENT_SIZE = 16;
/** Bytes of virtio_scsi_req_cmd before `cdb`: lun[8], id, task_attr, prio, crn. */
export const VIRTIO_SCSI_CMD_HEADER_SIZE = 19;
/** Bytes of pi_bytesout and pi_bytesin after the cdb (VIRTIO_SCSI_F_T10_PI). */
export const VIRTIO_SCSI_PI_HEADER_SIZE = 8;
/** Bytes of the device-writable part before `sense`: sense_len, residual, status_qualifier, status, response. */
export const VIRTIO_SCSI_CMD_RESP_SIZE = 12;
/** Device-readable bytes of virtio_scsi_ctrl_tmf. */
export const VIRTIO_SCSI_CTRL_TMF_SIZE = 24;
/** Device-readable bytes of virtio_scsi_ctrl_an. */
export const VIRTIO_SCSI_CTRL_AN_SIZE = 16;
/** Device-writable bytes of virtio_scsi_ctrl_an (event_actual, response). */
export const VIRTIO_SCSI_CTRL_AN_RESP_SIZE = 5;

/** SAM status codes written in `status` ([scsi.dev.5]). */
export const SAM_STAT_GOOD = 0x00;
export const SAM_STAT_CHECK_CONDITION = 0x02;
export const SAM_STAT_BUSY = 0x08;

/** SPC sense keys. */
export const SENSE_NO_SENSE = 0x0;
export const SENSE_NOT_READY = 0x2;
export const SENSE_MEDIUM_ERROR = 0x3;
export const SENSE_HARDWARE_ERROR = 0x4;
export const SENSE_ILLEGAL_REQUEST = 0x5;
export const SENSE_UNIT_ATTENTION = 0x6;
export const SENSE_DATA_PROTECT = 0x7;
export const SENSE_ABORTED_COMMAND = 0xb;

/** Peripheral device types (INQUIRY byte 0). */
export const SCSI_TYPE_DISK = 0x00;
export const SCSI_TYPE_MMC = 0x05;

/** A logical unit address in the spec's single format: target 0..255, lun 0..16383. */
export interface ScsiLunAddress {
  readonly target: number;
  readonly lun: number;
}
