/**
 * The entropy device's numbers (spec 5.4 "Entropy Device"). It has no feature bits and no
 * device configuration (spec 5.4.3, 5.4.4).
 */
import { VIRTIO_ID_RNG } from '@virtio/core';

/** Device ID of the entropy device (spec 5.4.1). */
export const VIRTIO_ENTROPY_DEVICE_ID = VIRTIO_ID_RNG;
/** Index of the only virtqueue, requestq (spec 5.4.2). */
export const VIRTIO_ENTROPY_REQUESTQ = 0;
/** Largest piece crypto.getRandomValues fills in one call (Web Crypto's QuotaExceededError limit), in bytes. */
export const GET_RANDOM_VALUES_MAX = 65536;
