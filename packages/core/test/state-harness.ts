// Shared set-up for the state-machine tests: an EchoDevice behind VirtioTransportState with
// scripted fake queues (see fake-queue.ts).
import { FlatGuestMemory } from '@virtio/ring';
import {
  VirtioTransportState,
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_F_VERSION_1,
  type TransportKind,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { fakeFactory } from './fake-queue.js';

export const V1 = featureMask(VIRTIO_F_VERSION_1);

export function setup(opts: { features?: bigint; queues?: number; queueMaxSize?: number; transport?: TransportKind; hold?: boolean } = {}) {
  const device = new EchoDevice({ features: opts.features, queues: opts.queues ?? 2, queueMaxSize: opts.queueMaxSize, hold: opts.hold });
  const irq = { used: [] as number[], config: 0 };
  const factory = fakeFactory();
  const state = new VirtioTransportState(device, {
    memory: new FlatGuestMemory(new Uint8Array(0x10000)),
    interrupt: { usedBuffer: (i) => irq.used.push(i), configChange: () => irq.config++ },
    transport: opts.transport ?? 'mmio',
    createQueue: factory.create,
  });
  return { device, irq, state, factory };
}

/** ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
export function negotiate(state: VirtioTransportState, features: bigint): number {
  state.writeStatus(ACK);
  state.writeStatus(ACK | DRIVER);
  for (let w = 0; w < 4; w++) state.writeDriverFeatureWord(w, Number((features >> BigInt(32 * w)) & 0xffffffffn));
  state.writeStatus(ACK | DRIVER | FEATURES_OK);
  return state.status;
}

export function enable(state: VirtioTransportState, index: number, size = 8): void {
  const q = state.queue(index)!;
  q.setSize(size);
  q.setAddress('desc', 0x1000 * (index + 1));
  q.setAddress('driver', 0x1000 * (index + 1) + 0x400);
  q.setAddress('device', 0x1000 * (index + 1) + 0x800);
  state.enableQueue(index);
}

export function live(features = V1, opts: Parameters<typeof setup>[0] = {}) {
  const s = setup({ ...opts, features });
  negotiate(s.state, features);
  enable(s.state, 0);
  enable(s.state, 1);
  s.state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
  return s;
}
