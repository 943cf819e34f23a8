// Test set-up: our CryptoDriver drives our CryptoDevice over core's LoopbackTransport.
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import {
  CRYPTO_DRIVER_FEATURES,
  CryptoDevice,
  CryptoDriver,
  RsaAkcipherBackend,
  WebCryptoAeadBackend,
  WebCryptoCipherBackend,
  WebCryptoHashBackend,
  WebCryptoMacBackend,
  type CryptoDeviceOptions,
} from '../src/index.js';

export const MEM_SIZE = 4 << 20;
export const RING_MODES = [
  { name: 'split', ring: 0n },
  { name: 'split+indirect+event_idx', ring: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', ring: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', ring: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** Every service this package implements, on WebCrypto. */
export const allServices = () => ({ backend: new WebCryptoCipherBackend(), hash: new WebCryptoHashBackend(), mac: new WebCryptoMacBackend(), aead: new WebCryptoAeadBackend(), akcipher: new RsaAkcipherBackend() });

/** Without VIRTIO_CRYPTO_F_REVISION_1 and the stateless modes: the original layouts. */
export const LEGACY = featureMask(0, 1, 2, 3, 4, 5);

export function rig(opts: Partial<CryptoDeviceOptions> & { ring?: bigint; queues?: number; legacy?: boolean } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new CryptoDevice({ ...allServices(), ...opts });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const driver = new CryptoDriver(transport, {
    memory,
    allocator: new BumpAllocator(2 << 20, 2 << 20),
    wantedFeatures: (CRYPTO_DRIVER_FEATURES & ~featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED) & ~(opts.legacy ? LEGACY : 0n)) | (opts.ring ?? 0n),
    queues: opts.queues,
  });
  transport.onInterrupt = () => driver.handleInterrupt();
  return { memory, device, driver, transport, state: transport.state };
}

export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}
