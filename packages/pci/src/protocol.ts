/**
 * Constants of the VIRTIO over PCI transport (spec 4.1) and of the PCI configuration header
 * ([PCI] Local Bus Specification 3.0, type 0 header), under the specs' names.
 */

/** PCI Vendor ID of every virtio device (spec 4.1.2). */
export const VIRTIO_PCI_VENDOR_ID = 0x1af4;
/** Non-transitional PCI Device ID = 0x1040 + Virtio Device ID (spec 4.1.2). */
export const VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;
/** Highest virtio PCI Device ID (spec 4.1.2). */
export const VIRTIO_PCI_DEVICE_ID_MAX = 0x107f;
/** Lowest Transitional PCI Device ID (spec 4.1.2). */
export const VIRTIO_PCI_TRANSITIONAL_ID_MIN = 0x1000;
/** Highest Transitional PCI Device ID (spec 4.1.2). */
export const VIRTIO_PCI_TRANSITIONAL_ID_MAX = 0x103f;

/** Transitional PCI Device IDs by Virtio Device ID (spec 4.1.2 table). */
export const TRANSITIONAL_DEVICE_IDS: ReadonlyMap<number, number> = new Map([
  [1, 0x1000], // network device
  [2, 0x1001], // block device
  [5, 0x1002], // memory ballooning (traditional)
  [3, 0x1003], // console
  [8, 0x1004], // SCSI host
  [4, 0x1005], // entropy source
  [9, 0x1009], // 9P transport
]);

/** cfg_type values of struct virtio_pci_cap (spec 4.1.4). */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;
export const VIRTIO_PCI_CAP_SHARED_MEMORY_CFG = 8;
export const VIRTIO_PCI_CAP_VENDOR_CFG = 9;

/** Byte offsets inside struct virtio_pci_cap / virtio_pci_cap64 / virtio_pci_notify_cap / virtio_pci_cfg_cap. */
export const VIRTIO_PCI_CAP = {
  cap_vndr: 0,
  cap_next: 1,
  cap_len: 2,
  cfg_type: 3,
  bar: 4,
  id: 5,
  offset: 8,
  length: 12,
  /** virtio_pci_notify_cap.notify_off_multiplier */
  notify_off_multiplier: 16,
  /** virtio_pci_cfg_cap.pci_cfg_data */
  pci_cfg_data: 16,
  /** virtio_pci_cap64.offset_hi */
  offset_hi: 16,
  /** virtio_pci_cap64.length_hi */
  length_hi: 20,
} as const;

/** Sizes in bytes of the capability structures the device presents. */
export const VIRTIO_PCI_CAP_SIZE = 16;
export const VIRTIO_PCI_NOTIFY_CAP_SIZE = 20;
export const VIRTIO_PCI_CFG_CAP_SIZE = 20;
export const VIRTIO_PCI_CAP64_SIZE = 24;

/** Byte offsets of struct virtio_pci_common_cfg (spec 4.1.4.3). */
export const COMMON_CFG = {
  device_feature_select: 0x00,
  device_feature: 0x04,
  driver_feature_select: 0x08,
  driver_feature: 0x0c,
  config_msix_vector: 0x10,
  num_queues: 0x12,
  device_status: 0x14,
  config_generation: 0x15,
  queue_select: 0x16,
  queue_size: 0x18,
  queue_msix_vector: 0x1a,
  queue_enable: 0x1c,
  queue_notify_off: 0x1e,
  queue_desc: 0x20,
  queue_driver: 0x28,
  queue_device: 0x30,
  queue_notif_config_data: 0x38,
  queue_reset: 0x3a,
  admin_queue_index: 0x3c,
  admin_queue_num: 0x3e,
} as const;
/** Size in bytes of struct virtio_pci_common_cfg. */
export const COMMON_CFG_SIZE = 0x40;

/** ISR status bits (spec 4.1.4.5). */
export const VIRTIO_PCI_ISR_QUEUE = 0x1;
export const VIRTIO_PCI_ISR_CONFIG = 0x2;

/** Vector value that disables MSI-X for an event (spec 4.1.5.1.2). */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** The largest MSI-X table a virtio device may have (spec 4.1.5.1.2.1: at most 0x800 vectors). */
export const VIRTIO_PCI_MAX_MSIX_VECTORS = 0x800;

/** Byte offsets of the type 0 configuration header ([PCI] 6.1). */
export const PCI_HEADER = {
  vendor_id: 0x00,
  device_id: 0x02,
  command: 0x04,
  status: 0x06,
  revision_id: 0x08,
  class_prog: 0x09,
  class_device: 0x0a,
  cache_line_size: 0x0c,
  latency_timer: 0x0d,
  header_type: 0x0e,
  bist: 0x0f,
  bar0: 0x10,
  subsystem_vendor_id: 0x2c,
  subsystem_id: 0x2e,
  rom_address: 0x30,
  capabilities_pointer: 0x34,
  interrupt_line: 0x3c,
  interrupt_pin: 0x3d,
} as const;
/** Size of the conventional PCI configuration space, in bytes. */
export const PCI_CONFIG_SPACE_SIZE = 256;
/** First byte after the type 0 header, where the capability list starts. */
export const PCI_CAPABILITY_START = 0x40;

/** Command register bits ([PCI] 6.2.2). */
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/** Status register bits ([PCI] 6.2.3). */
export const PCI_STATUS_INTERRUPT = 0x8;
export const PCI_STATUS_CAP_LIST = 0x10;

/** BAR register low bits ([PCI] 6.2.5.1). */
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;

/** Capability IDs ([PCI] appendix H). */
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_MSIX = 0x11;

/** MSI-X capability layout ([PCI] 6.8.2). */
export const PCI_MSIX = {
  /** Message Control (u16): Table Size - 1 in bits 10:0, Function Mask bit 14, MSI-X Enable bit 15. */
  flags: 2,
  /** Table Offset / Table BIR (u32). */
  table: 4,
  /** PBA Offset / PBA BIR (u32). */
  pba: 8,
} as const;
export const PCI_MSIX_CAP_SIZE = 12;
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
/** One MSI-X table entry: Message Address (lo, hi), Message Data, Vector Control; 16 bytes. */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** Interrupt pin INTA# ([PCI] 6.2.4). */
export const PCI_INTERRUPT_PIN_INTA = 1;

/**
 * 24-bit class codes (base class, subclass, programming interface) by Virtio Device ID,
 * matching what QEMU presents so guests classify the functions the same way.
 * Device types not listed use {@link PCI_CLASS_OTHER}.
 */
export const VIRTIO_PCI_CLASS_CODES: ReadonlyMap<number, number> = new Map([
  [1, 0x020000], // network: Ethernet controller
  [2, 0x010000], // block: SCSI storage controller
  [3, 0x078000], // console: other communication controller
  [8, 0x010000], // SCSI host
  [16, 0x038000], // GPU: other display controller
  [18, 0x098000], // input: other input controller
  [25, 0x040100], // sound: multimedia audio controller
  [26, 0x018000], // file system: other mass storage controller
]);
/** Class code "device does not fit any defined class" ([PCI] appendix D, base class 0xff). */
export const PCI_CLASS_OTHER = 0xff0000;

/** Legacy (transitional) I/O BAR register offsets (spec 4.1.4.10). */
export const VIRTIO_PCI_LEGACY = {
  host_features: 0,
  guest_features: 4,
  queue_pfn: 8,
  queue_num: 12,
  queue_sel: 14,
  queue_notify: 16,
  status: 18,
  isr: 19,
  /** With MSI-X enabled only. */
  config_vector: 20,
  queue_vector: 22,
} as const;
/** Device-specific configuration offset in the legacy layout: with MSI-X enabled / disabled. */
export const VIRTIO_PCI_LEGACY_CONFIG_MSIX = 24;
export const VIRTIO_PCI_LEGACY_CONFIG_NO_MSIX = 20;
/** Legacy queue address shift (the guest writes the address divided by 4096). */
export const VIRTIO_PCI_QUEUE_ADDR_SHIFT = 12;
