/**
 * The driver's half of feature negotiation (spec 2.2.1): from what the device offers, accept
 * only bits the driver understands, that this specification defines for the transport, and
 * whose required features are accepted too.
 */
import { VIRTIO_F_VERSION_1 } from '../constants.js';
import { featureMask, hasFeature } from '../features.js';
import { allowedFeatures, type TransportKind } from '../transport/feature-rules.js';

/** `[feature, ...requires]`: the feature may only be accepted together with every listed bit. */
export type FeatureDependency = readonly [number, ...number[]];

/**
 * @param offered the device's feature bits
 * @param wanted the bits the driver understands and would use (device-specific and reserved)
 * @returns the bits to write as driver features. VIRTIO_F_VERSION_1 is accepted whenever offered.
 */
export function selectFeatures(
  offered: bigint,
  wanted: bigint,
  transport: TransportKind,
  dependencies: readonly FeatureDependency[] = [],
): bigint {
  let accepted = offered & (wanted | featureMask(VIRTIO_F_VERSION_1)) & allowedFeatures(transport);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [feature, ...requires] of dependencies) {
      if (hasFeature(accepted, feature) && requires.some((r) => !hasFeature(accepted, r))) {
        accepted &= ~featureMask(feature);
        changed = true;
      }
    }
  }
  return accepted;
}
