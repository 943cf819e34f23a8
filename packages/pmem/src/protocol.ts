/** The persistent memory device's constants and structures (spec 5.19), under the spec's names. */

/** Device ID of the PMEM device (spec 5.19.1). */
export const VIRTIO_PMEM_DEVICE_ID = 27;
/** The one virtqueue (spec 5.19.2). */
export const VIRTIO_PMEM_REQ_VQ = 0;
/** Feature bit (spec 5.19.3): the range is a shared memory region instead of config start/size. */
export const VIRTIO_PMEM_F_SHMEM_REGION = 0;
/** The shared memory region ID the range uses under VIRTIO_PMEM_F_SHMEM_REGION ([pmem.dev.1]). */
export const VIRTIO_PMEM_SHMID = 0;

/** struct virtio_pmem_config offsets: le64 start, le64 size (spec 5.19.4). */
export const PMEM_CONFIG_START = 0;
export const PMEM_CONFIG_SIZE_FIELD = 8;
export const PMEM_CONFIG_SIZE = 16;

/** struct virtio_pmem_req { le32 type; } request types. */
export const VIRTIO_PMEM_REQ_TYPE_FLUSH = 0;
/** sizeof(struct virtio_pmem_req) and sizeof(struct virtio_pmem_resp), bytes. */
export const VIRTIO_PMEM_REQ_SIZE = 4;
export const VIRTIO_PMEM_RESP_SIZE = 4;
/** struct virtio_pmem_resp ret values ([pmem.dev.4]): 0 success, -1 failure (as le32 0xffffffff). */
export const VIRTIO_PMEM_RESP_OK = 0;
export const VIRTIO_PMEM_RESP_FAIL = -1;

/** Where the persistent memory lies in guest-physical space. */
export interface PmemRange {
  /** Guest-physical address of the first byte. */
  readonly start: number;
  /** Length in bytes. */
  readonly size: number;
}
