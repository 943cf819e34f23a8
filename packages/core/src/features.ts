/**
 * Helpers on feature sets: BigInts whose bit n is feature bit n (spec 2.2 "Feature Bits"),
 * at most {@link VIRTIO_FEATURE_BITS} bits wide. Transports exchange them 32 bits at a time.
 */
import type { RingFeatures } from '@virtio/ring';
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_RING_PACKED,
  VIRTIO_FEATURE_BITS,
} from './constants.js';

/** Number of 32-bit feature words (select values 0..3). */
export const FEATURE_WORDS = VIRTIO_FEATURE_BITS / 32;

const ALL_FEATURES = (1n << BigInt(VIRTIO_FEATURE_BITS)) - 1n;

/** The BigInt mask of feature bit numbers `bits` (each 0..127). @throws RangeError for a bit outside 0..127 */
export function featureMask(...bits: number[]): bigint {
  let mask = 0n;
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit >= VIRTIO_FEATURE_BITS) {
      throw new RangeError(`feature bit ${bit} outside 0..${VIRTIO_FEATURE_BITS - 1}`);
    }
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** Whether feature bit number `bit` is set in `features`. */
export function hasFeature(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}

/**
 * The 32-bit word `select` of `features` (bits select*32 .. select*32+31), as an unsigned number.
 * Words beyond bit 127 read as 0.
 */
export function featureWord(features: bigint, select: number): number {
  if (!Number.isInteger(select) || select < 0 || select >= FEATURE_WORDS) return 0;
  return Number((features >> BigInt(select * 32)) & 0xffff_ffffn);
}

/**
 * `features` with its 32-bit word `select` replaced by `value` (taken as u32).
 * @throws RangeError when `select` is outside 0..3 (callers bound guest-written selectors first)
 */
export function withFeatureWord(features: bigint, select: number, value: number): bigint {
  if (!Number.isInteger(select) || select < 0 || select >= FEATURE_WORDS) {
    throw new RangeError(`feature word select ${select} outside 0..${FEATURE_WORDS - 1}`);
  }
  const shift = BigInt(select * 32);
  const cleared = features & ~(0xffff_ffffn << shift) & ALL_FEATURES;
  return cleared | (BigInt(value >>> 0) << shift);
}

/** The ring-level features @virtio/ring needs, from a negotiated feature set. */
export function ringFeatures(features: bigint): RingFeatures {
  return {
    indirectDesc: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
    eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
    inOrder: hasFeature(features, VIRTIO_F_IN_ORDER),
  };
}

/** Whether the negotiated features select the packed virtqueue layout (VIRTIO_F_RING_PACKED). */
export function isPacked(features: bigint): boolean {
  return hasFeature(features, VIRTIO_F_RING_PACKED);
}
