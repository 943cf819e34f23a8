/**
 * The constants of spec 4.3 "Virtio Over Channel I/O", under the spec's names, plus the
 * S/390 channel I/O basics (format-1 CCW flags, basic channel commands) the proxy device
 * answers to.
 */

/** Control unit type of every virtio-ccw proxy device (spec 4.3.1, SENSE ID bytes 1-2). */
export const VIRTIO_CCW_CU_TYPE = 0x3832;
/** Channel path type of the virtual channel path (spec 4.3.1). */
export const VIRTIO_CCW_CHPID_TYPE = 0x32;

// Basic channel commands (spec 4.3.1).
/** NO-OPERATION: no data transfer. */
export const CCW_CMD_NOOP = 0x03;
/** BASIC SENSE: reads the sense data of the last unit check. */
export const CCW_CMD_BASIC_SENSE = 0x04;
/** TRANSFER IN CHANNEL: continue the channel program at the data address. */
export const CCW_CMD_TIC = 0x08;
/** SENSE ID: reads the control unit type and model. */
export const CCW_CMD_SENSE_ID = 0xe4;

// Channel commands for virtio (spec 4.3.1.1).
export const CCW_CMD_SET_VQ = 0x13;
export const CCW_CMD_VDEV_RESET = 0x33;
export const CCW_CMD_SET_IND = 0x43;
export const CCW_CMD_SET_CONF_IND = 0x53;
export const CCW_CMD_SET_IND_ADAPTER = 0x73;
export const CCW_CMD_READ_FEAT = 0x12;
export const CCW_CMD_WRITE_FEAT = 0x11;
export const CCW_CMD_READ_CONF = 0x22;
export const CCW_CMD_WRITE_CONF = 0x21;
export const CCW_CMD_WRITE_STATUS = 0x31;
export const CCW_CMD_READ_VQ_CONF = 0x32;
export const CCW_CMD_SET_VIRTIO_REV = 0x83;
export const CCW_CMD_READ_STATUS = 0x72;

// Format-1 CCW flags (z/Architecture Principles of Operation, "Channel-Command Word").
/** Chain data: the next CCW continues this command's data. Not supported by virtio-ccw. */
export const CCW_FLAG_CD = 0x80;
/** Chain command: after this command completes, execute the next CCW. */
export const CCW_FLAG_CC = 0x40;
/** Suppress length indication: a count that differs from the expected length is no error. */
export const CCW_FLAG_SLI = 0x20;
/** Skip: suppress the data transfer of a read. Not supported by virtio-ccw. */
export const CCW_FLAG_SKIP = 0x10;
/** Program-controlled interruption. Accepted and ignored. */
export const CCW_FLAG_PCI = 0x08;
/** Indirect data addressing. Not supported by virtio-ccw. */
export const CCW_FLAG_IDA = 0x04;
/** Suspend. Not supported by virtio-ccw. */
export const CCW_FLAG_SUSPEND = 0x02;
/** Modified indirect data addressing. Not supported by virtio-ccw. */
export const CCW_FLAG_MIDA = 0x01;

/** Flags this implementation executes; any other flag makes the CCW a command reject. */
export const CCW_SUPPORTED_FLAGS = CCW_FLAG_CC | CCW_FLAG_SLI | CCW_FLAG_PCI;

/** Sense byte 0 bit "command reject" (BASIC SENSE data). */
export const SENSE_CMD_REJECT = 0x80;

/** The virtio-ccw revisions of spec 4.3.2.1. */
export const VIRTIO_CCW_REV_LEGACY = 0;
export const VIRTIO_CCW_REV_1 = 1;
/** Revision 2 adds CCW_CMD_READ_STATUS. */
export const VIRTIO_CCW_REV_2 = 2;
/** The highest revision this implementation supports. */
export const VIRTIO_CCW_REV_MAX = VIRTIO_CCW_REV_2;

/** DIAGNOSE 0x500 subcode 3: virtio-ccw notification (spec 4.3.3.2). */
export const KVM_S390_VIRTIO_CCW_NOTIFY = 3;

/**
 * Value a notification returns in GPR2 when it could not be delivered (no such subchannel
 * or queue): a negative errno, as KVM and QEMU return it (-EINVAL).
 */
export const VIRTIO_CCW_NOTIFY_ERROR = -22n;

/** Ring alignment a legacy (revision 0) Linux driver uses for vq_info_block_legacy. */
export const KVM_VIRTIO_CCW_RING_ALIGN = 4096;
