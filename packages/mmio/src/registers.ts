/**
 * The virtio-mmio register layout (spec 4.2.2, table "MMIO Device Register Layout"), byte
 * offsets from the device's base address. All registers are 32 bits, little-endian.
 */
export const MmioReg = {
  /** R: 0x74726976 ("virt"). */
  MagicValue: 0x000,
  /** R: 2 (1 for the legacy interface). */
  Version: 0x004,
  /** R: Device ID (spec 5); 0 = placeholder, no device. */
  DeviceID: 0x008,
  /** R: Subsystem Vendor ID. */
  VendorID: 0x00c,
  /** R: 32 offered feature bits, word DeviceFeaturesSel. */
  DeviceFeatures: 0x010,
  /** W */
  DeviceFeaturesSel: 0x014,
  /** W: 32 accepted feature bits, word DriverFeaturesSel. */
  DriverFeatures: 0x020,
  /** W */
  DriverFeaturesSel: 0x024,
  /** W, legacy only: guest page size in bytes. */
  GuestPageSize: 0x028,
  /** W: selects the queue the Queue* registers apply to. */
  QueueSel: 0x030,
  /** R: maximum size of the selected queue; 0 = not available. */
  QueueSizeMax: 0x034,
  /** W: size of the selected queue. */
  QueueSize: 0x038,
  /** W, legacy only: used ring alignment in bytes. */
  QueueAlign: 0x03c,
  /** RW, legacy only: guest page number of the queue; 0 = not in use. */
  QueuePFN: 0x040,
  /** RW: the selected queue is ready. */
  QueueReady: 0x044,
  /** W: available buffer notification (queue index, or notification data). */
  QueueNotify: 0x050,
  /** R: bit 0 used buffer notification, bit 1 configuration change notification. */
  InterruptStatus: 0x060,
  /** W: acknowledges InterruptStatus bits. */
  InterruptACK: 0x064,
  /** RW: device status; 0 resets. */
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  /** W: selects the shared memory region. */
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  /** RW: writing 1 resets the selected queue (VIRTIO_F_RING_RESET). */
  QueueReset: 0x0c0,
  /** R: configuration atomicity value. */
  ConfigGeneration: 0x0fc,
  /** Device-specific configuration space starts here. */
  Config: 0x100,
} as const;

/** MagicValue: little-endian "virt". */
export const MMIO_MAGIC = 0x74726976;

/** Version of the current interface. */
export const MMIO_VERSION = 2;

/** Version of the legacy interface (spec 4.2.4). */
export const MMIO_LEGACY_VERSION = 1;

/** InterruptStatus bit: used buffer notification. */
export const VIRTIO_MMIO_INT_VRING = 1;

/** InterruptStatus bit: configuration change notification. */
export const VIRTIO_MMIO_INT_CONFIG = 2;
