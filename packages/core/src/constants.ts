/**
 * The spec's numbers: Device IDs (spec 5 "Device Types"), device status bits (spec 2.1
 * "Device Status Field") and the reserved feature bits (spec 6 "Reserved Feature Bits").
 * Feature bits are given as bit numbers; use {@link featureMask} (features.ts) for a BigInt mask.
 */

// ---- Device IDs (spec 5 "Device Types"). 0 is reserved (invalid). ----
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
/** Memory ballooning (traditional). */
export const VIRTIO_ID_BALLOON = 5;
export const VIRTIO_ID_IOMEM = 6;
export const VIRTIO_ID_RPMSG = 7;
export const VIRTIO_ID_SCSI = 8;
export const VIRTIO_ID_9P = 9;
export const VIRTIO_ID_MAC80211_WLAN = 10;
export const VIRTIO_ID_RPROC_SERIAL = 11;
export const VIRTIO_ID_CAIF = 12;
/** Memory balloon (the newer one). */
export const VIRTIO_ID_MEMORY_BALLOON = 13;
export const VIRTIO_ID_GPU = 16;
export const VIRTIO_ID_RTC = 17;
export const VIRTIO_ID_INPUT = 18;
export const VIRTIO_ID_VSOCK = 19;
export const VIRTIO_ID_CRYPTO = 20;
export const VIRTIO_ID_SIGNAL_DIST = 21;
export const VIRTIO_ID_PSTORE = 22;
export const VIRTIO_ID_IOMMU = 23;
export const VIRTIO_ID_MEM = 24;
export const VIRTIO_ID_SOUND = 25;
export const VIRTIO_ID_FS = 26;
export const VIRTIO_ID_PMEM = 27;
export const VIRTIO_ID_RPMB = 28;
export const VIRTIO_ID_MAC80211_HWSIM = 29;
export const VIRTIO_ID_VIDEO_ENCODER = 30;
export const VIRTIO_ID_VIDEO_DECODER = 31;
export const VIRTIO_ID_SCMI = 32;
export const VIRTIO_ID_NITRO_SEC_MOD = 33;
export const VIRTIO_ID_I2C_ADAPTER = 34;
export const VIRTIO_ID_WATCHDOG = 35;
export const VIRTIO_ID_CAN = 36;
export const VIRTIO_ID_PARAM_SERV = 38;
export const VIRTIO_ID_AUDIO_POLICY = 39;
export const VIRTIO_ID_BT = 40;
export const VIRTIO_ID_GPIO = 41;
export const VIRTIO_ID_RDMA = 42;
export const VIRTIO_ID_CAMERA = 43;
export const VIRTIO_ID_ISM = 44;
export const VIRTIO_ID_SPI = 45;
export const VIRTIO_ID_TEE = 46;
export const VIRTIO_ID_CPU_BALLOON = 47;
export const VIRTIO_ID_MEDIA = 48;
export const VIRTIO_ID_USB = 49;

// ---- Device status bits (spec 2.1). ----
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** Set by the device once suspended (VIRTIO_F_SUSPEND, spec 3.4). */
export const VIRTIO_CONFIG_S_SUSPEND = 16;
export const VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET = 64;
export const VIRTIO_CONFIG_S_FAILED = 128;

// ---- Reserved feature bits (spec 6), as bit numbers. ----
/** Legacy only (transitional devices MAY offer it). */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** Legacy only (transitional devices MUST offer it). */
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_SR_IOV = 37;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_F_NOTIF_CONFIG_DATA = 39;
export const VIRTIO_F_RING_RESET = 40;
export const VIRTIO_F_ADMIN_VQ = 41;
export const VIRTIO_F_SUSPEND = 43;

/** Feature sets are at most 128 bits wide in VIRTIO 1.4 (bits 128 and above are reserved). */
export const VIRTIO_FEATURE_BITS = 128;

/** Largest queue size of either layout (spec 2.7 / 2.8: 32768). */
export const VIRTQUEUE_MAX_SIZE = 32768;

/** Largest number of virtqueues a device can have (spec 2.6: indices 0 to 65535). */
export const VIRTQUEUE_MAX_COUNT = 65536;
