// Test rig: core's EchoDevice behind a PciTransport, our PciDriverTransport in front of it,
// guest memory and an interrupt recorder.
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_RING_PACKED,
  hasFeature,
  resetDevice,
  ringFeatures,
  type ActivateContext,
  type DeviceHost,
  type SharedMemoryRegion,
  type VirtioDevice,
} from '@virtio/core';
import { EchoDevice, type EchoDeviceOptions } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory, createDriverQueue, type DeviceQueue, type DriverQueue } from '@virtio/ring';
import { PciDriverTransport, PciTransport, type PciFunctionAccess, type PciTransportOptions } from '../src/index.js';

/** A Virtio Device ID with a PCI Device ID (EchoDevice's own 0xff has none: 0x1040 + 0xff > 0x107f). */
export const TEST_DEVICE_ID = 0x3f;

/** EchoDevice under another Device ID; everything else delegated. */
export class RenumberedDevice implements VirtioDevice {
  constructor(
    readonly inner: VirtioDevice,
    readonly deviceId: number,
    readonly sharedMemoryRegions?: readonly SharedMemoryRegion[],
  ) {}
  get deviceFeatures(): bigint {
    return this.inner.deviceFeatures;
  }
  get numQueues(): number {
    return this.inner.numQueues;
  }
  get configSize(): number {
    return this.inner.configSize;
  }
  queueMaxSize(i: number): number {
    return this.inner.queueMaxSize(i);
  }
  readConfig(o: number, w: 1 | 2 | 4): number {
    return this.inner.readConfig(o, w);
  }
  writeConfig(o: number, w: 1 | 2 | 4, v: number): void {
    this.inner.writeConfig(o, w, v);
  }
  attach(host: DeviceHost): void {
    this.inner.attach?.(host);
  }
  activate(ctx: ActivateContext): void {
    this.inner.activate(ctx);
  }
  queueNotify(i: number, data?: number): void {
    this.inner.queueNotify(i, data);
  }
  reset(): void | Promise<void> {
    return this.inner.reset();
  }
  resetQueue(i: number): void | Promise<void> {
    return this.inner.resetQueue?.(i);
  }
  enableQueue(i: number, q: DeviceQueue): void {
    this.inner.enableQueue?.(i, q);
  }
}

export interface Msi {
  vector: number;
  addressLo: number;
  addressHi: number;
  data: number;
}

export const MEM_SIZE = 1 << 20;
/** Where test buffers live; rings are allocated above. */
export const BUF_BASE = 0x1000;
export const RING_BASE = 0x40000;

export function rig(opts: { echo?: EchoDeviceOptions; pci?: Partial<PciTransportOptions>; device?: VirtioDevice } = {}) {
  const memory = new FlatGuestMemory(new ArrayBuffer(MEM_SIZE));
  const echo = new EchoDevice(opts.echo);
  const msis: Msi[] = [];
  const intx: boolean[] = [];
  const device = opts.device ?? new RenumberedDevice(echo, TEST_DEVICE_ID);
  /** Optional observers, called when an interrupt leaves the device (before it is recorded). */
  const hooks: { onMsi?: (m: Msi) => void; onIntx?: (level: boolean) => void } = {};
  const pci = new PciTransport(device, {
    memory,
    interrupt: {
      msi: (vector, addressLo, addressHi, data) => {
        const m = { vector, addressLo, addressHi, data };
        hooks.onMsi?.(m);
        msis.push(m);
      },
      intx: (level) => {
        hooks.onIntx?.(level);
        intx.push(level);
      },
    },
    ...opts.pci,
  });
  return { memory, echo, pci, msis, intx, device, hooks };
}

/** The MSI message our driver programs for vector v: x86's 0xfee00000 and data = 0x40 + v. */
export const message = (v: number) => ({ addressLo: 0xfee00000, addressHi: 0, data: 0x40 + v });

export type Rig = ReturnType<typeof rig>;

/**
 * Runs spec 3.1.1 with our driver: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues,
 * DRIVER_OK. With `msix`, vector 0 is the configuration vector and queue i uses vector 1 + i.
 */
export function bringUp(
  r: Rig,
  opts: { features?: bigint; msix?: boolean; queueSize?: number; access?: PciFunctionAccess } = {},
) {
  const driver = new PciDriverTransport(opts.access ?? r.pci);
  resetDevice(driver);
  driver.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  driver.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  const features = driver.readDeviceFeatures() & (opts.features ?? driver.readDeviceFeatures());
  driver.writeDriverFeatures(features);
  driver.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  if (!(driver.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK)) throw new Error('FEATURES_OK refused');
  if (opts.msix) {
    driver.enableMsix(message);
    if (!driver.setConfigVector(0)) throw new Error('config vector refused');
  }
  const alloc = new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE);
  const queues: DriverQueue<number>[] = [];
  for (let i = 0; i < driver.numQueues; i++) {
    const size = opts.queueSize ?? driver.queueMaxSize(i);
    const dq = createDriverQueue<number>(r.memory, alloc, {
      size,
      packed: hasFeature(features, VIRTIO_F_RING_PACKED),
      features: ringFeatures(features),
    });
    const { descTable, driverArea, deviceArea } = dq.config;
    if (!driver.setupQueue(i, { size, descTable, driverArea, deviceArea, vector: opts.msix ? 1 + i : undefined })) {
      throw new Error(`queue ${i} vector refused`);
    }
    queues.push(dq);
  }
  driver.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  return { driver, queues, features };
}

/** Sends `bytes` through queue `index` and returns what the device echoed and the used length. */
export function echoThrough(r: Rig, up: ReturnType<typeof bringUp>, index: number, bytes: Uint8Array) {
  const out = BUF_BASE;
  const inn = BUF_BASE + 0x8000;
  r.memory.write(out, bytes);
  const dq = up.queues[index];
  if (!dq.add([{ addr: out, len: bytes.length }], [{ addr: inn, len: bytes.length }], 7)) throw new Error('queue full');
  if (dq.kick()) up.driver.notify(index);
  const used = dq.reap();
  const got = new Uint8Array(bytes.length);
  r.memory.read(inn, got);
  return { used, got };
}

/** The capability list as the device presents it: offset, capability ID, and a reader. */
export function capList(pci: PciTransport): { at: number; id: number; cfgType: number }[] {
  const out: { at: number; id: number; cfgType: number }[] = [];
  let at = pci.configRead(0x34, 1);
  while (at !== 0) {
    out.push({ at, id: pci.configRead(at, 1), cfgType: pci.configRead(at + 3, 1) });
    at = pci.configRead(at + 1, 1);
    if (out.length > 64) throw new Error('capability list loops');
  }
  return out;
}

/** The first virtio capability of `cfgType`: its fields as presented. */
export function virtioCap(pci: PciTransport, cfgType: number) {
  const c = capList(pci).find((x) => x.id === 0x09 && x.cfgType === cfgType);
  if (!c) return undefined;
  const at = c.at;
  return {
    at,
    capLen: pci.configRead(at + 2, 1),
    bar: pci.configRead(at + 4, 1),
    id: pci.configRead(at + 5, 1),
    offset: pci.configRead(at + 8, 4),
    length: pci.configRead(at + 12, 4),
    extra: pci.configRead(at + 16, 4),
    extra2: pci.configRead(at + 20, 4),
  };
}

/** Common configuration access through the BAR the device declared. */
export function commonCfg(pci: PciTransport) {
  const c = virtioCap(pci, 1)!;
  return {
    read: (field: number, width: 1 | 2 | 4) => pci.barRead(c.bar, c.offset + field, width),
    write: (field: number, width: 1 | 2 | 4, value: number) => pci.barWrite(c.bar, c.offset + field, width, value),
  };
}

export interface Access {
  kind: 'cfgR' | 'cfgW' | 'barR' | 'barW';
  bar: number;
  offset: number;
  width: number;
  value: number;
}

/**
 * A PciFunctionAccess in front of `inner` that records every access and can replace values
 * the driver reads (`patchRead` returns undefined to pass the device's value through).
 */
export function recorder(
  inner: PciFunctionAccess,
  patchRead?: (a: { kind: 'cfgR' | 'barR'; bar: number; offset: number; width: number }, value: number) => number | undefined,
) {
  const log: Access[] = [];
  const access: PciFunctionAccess = {
    configRead(offset, width) {
      const v = inner.configRead(offset, width);
      const value = patchRead?.({ kind: 'cfgR', bar: -1, offset, width }, v) ?? v;
      log.push({ kind: 'cfgR', bar: -1, offset, width, value });
      return value;
    },
    configWrite(offset, width, value) {
      log.push({ kind: 'cfgW', bar: -1, offset, width, value });
      inner.configWrite(offset, width, value);
    },
    barRead(bar, offset, width) {
      const v = inner.barRead(bar, offset, width);
      const value = patchRead?.({ kind: 'barR', bar, offset, width }, v) ?? v;
      log.push({ kind: 'barR', bar, offset, width, value });
      return value;
    },
    barWrite(bar, offset, width, value) {
      log.push({ kind: 'barW', bar, offset, width, value });
      inner.barWrite(bar, offset, width, value);
    },
  };
  return { access, log };
}

/** A PciFunctionAccess whose configuration space reads come from a patched copy of `pci`'s. */
export function patchedConfig(pci: PciTransport, patch: (bytes: Uint8Array) => void): PciFunctionAccess {
  const bytes = new Uint8Array(256);
  for (let i = 0; i < 256; i++) bytes[i] = pci.configRead(i, 1);
  patch(bytes);
  return {
    configRead(offset, width) {
      let v = 0;
      for (let i = 0; i < width; i++) v |= bytes[offset + i] << (8 * i);
      return v >>> 0;
    },
    configWrite: (o, w, v) => pci.configWrite(o, w, v),
    barRead: (b, o, w) => pci.barRead(b, o, w),
    barWrite: (b, o, w, v) => pci.barWrite(b, o, w, v),
  };
}
