/**
 * A DriverTransport straight over a VirtioTransportState, with no register encoding in between:
 * the driver side of @virtio/core tested against its own device side. Interrupts are latched
 * until the driver takes them, as an interrupt status register would.
 */
import type { GuestMemory, QueueConfig } from '@virtio/ring';
import type { VirtioDevice } from '../device.js';
import type { DriverTransport, InterruptCauses } from '../driver/transport.js';
import { featureWord, FEATURE_WORDS, withFeatureWord } from '../features.js';
import type { TransportKind } from '../transport/feature-rules.js';
import { VirtioTransportState, type TransportStateOptions } from '../transport/state.js';

export class LoopbackTransport implements DriverTransport {
  readonly state: VirtioTransportState;
  readonly kind: TransportKind;
  /** Called whenever the device raises a notification (the "interrupt line"). */
  onInterrupt: (() => void) | undefined;
  #used = false;
  #config = false;

  constructor(device: VirtioDevice, opts: Omit<TransportStateOptions, 'interrupt'> & { memory: GuestMemory }) {
    this.kind = opts.transport;
    this.state = new VirtioTransportState(device, {
      ...opts,
      interrupt: {
        usedBuffer: () => {
          this.#used = true;
          this.onInterrupt?.();
        },
        configChange: () => {
          this.#config = true;
          this.onInterrupt?.();
        },
      },
    });
  }

  getStatus(): number {
    return this.state.status;
  }
  setStatus(status: number): void {
    this.state.writeStatus(status);
  }
  readDeviceFeatures(): bigint {
    let f = 0n;
    for (let w = 0; w < FEATURE_WORDS; w++) f = withFeatureWord(f, w, this.state.deviceFeatureWord(w));
    return f;
  }
  writeDriverFeatures(features: bigint): void {
    for (let w = 0; w < FEATURE_WORDS; w++) this.state.writeDriverFeatureWord(w, featureWord(features, w));
  }
  queueMaxSize(index: number): number {
    return this.state.queue(index)?.maxSize ?? 0;
  }
  setupQueue(index: number, config: QueueConfig): void {
    const q = this.state.queue(index);
    if (!q) return;
    q.setSize(config.size);
    q.setAddress('desc', config.descTable);
    q.setAddress('driver', config.driverArea);
    q.setAddress('device', config.deviceArea);
    this.state.enableQueue(index);
  }
  queueEnabled(index: number): boolean {
    return this.state.queue(index)?.enabled ?? false;
  }
  resetQueue(index: number): boolean {
    this.state.resetQueue(index);
    return !this.queueEnabled(index);
  }
  notify(index: number, data?: number): void {
    this.state.notify(index, data);
  }
  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.state.readConfig(offset, width);
  }
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.state.writeConfig(offset, width, value);
  }
  configGeneration(): number {
    return this.state.configGeneration;
  }
  takeInterrupt(): InterruptCauses {
    const causes = { usedBuffer: this.#used, configChange: this.#config };
    this.#used = false;
    this.#config = false;
    return causes;
  }
}
