import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  featureMask,
  featureWord,
  hasFeature,
  withFeatureWord,
  ringFeatures,
  isPacked,
  decodeNotificationData,
  encodeNotificationData,
  allowedFeatures,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_ANY_LAYOUT,
} from '@virtio/core';

describe('feature helpers', () => {
  it('round-trips any 128-bit feature set through its four 32-bit words', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (f) => {
        let g = 0n;
        for (let w = 0; w < 4; w++) g = withFeatureWord(g, w, featureWord(f, w));
        expect(g).toBe(f);
      }),
    );
  });

  it('replaces one word only and refuses selects outside 0..3', () => {
    expect(withFeatureWord(featureMask(0, 40), 1, 0)).toBe(1n);
    expect(() => withFeatureWord(0n, 4, 1)).toThrow(RangeError);
    expect(() => featureMask(128)).toThrow(RangeError);
  });

  it('derives ring features and the layout from negotiated bits', () => {
    const f = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED);
    expect(hasFeature(f, VIRTIO_F_INDIRECT_DESC)).toBe(true);
    expect(ringFeatures(f)).toEqual({ indirectDesc: true, eventIdx: false, inOrder: false });
    expect(isPacked(f)).toBe(true);
  });

  it('allows SR-IOV only on PCI and the legacy bits only for transitional devices', () => {
    expect(hasFeature(allowedFeatures('pci'), VIRTIO_F_SR_IOV)).toBe(true);
    expect(hasFeature(allowedFeatures('mmio'), VIRTIO_F_SR_IOV)).toBe(false);
    expect(hasFeature(allowedFeatures('mmio'), VIRTIO_F_ANY_LAYOUT)).toBe(false);
    expect(hasFeature(allowedFeatures('mmio', true), VIRTIO_F_ANY_LAYOUT)).toBe(true);
  });
});

describe('notification data (VIRTIO_F_NOTIFICATION_DATA)', () => {
  it('decodes vq_index, next_off and next_wrap as notifications-le.c lays them out', () => {
    expect(decodeNotificationData(0x8005_0003)).toEqual({ vqIndex: 3, nextOff: 5, nextWrap: 1 });
    expect(decodeNotificationData(0x7fff_ffff)).toEqual({ vqIndex: 0xffff, nextOff: 0x7fff, nextWrap: 0 });
  });

  it('round-trips every value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (v) => {
      expect(encodeNotificationData(decodeNotificationData(v))).toBe(v);
    }));
  });
});
