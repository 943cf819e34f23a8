/**
 * The devices beyond blk/net/console/rng: virtio-scsi (a disk LUN on a raw image file),
 * virtio-vsock (Firecracker-style hybrid backend on a Unix socket), the traditional memory
 * balloon, virtio-input (keyboard, mouse, tablet), virtio-crypto (AES through WebCrypto) and
 * virtio-pmem (a file loaded into guest-physical memory by pmem-memory.ts, written back on flush).
 * They live on the device thread (device-worker.ts) like the others.
 */
import { open } from 'node:fs/promises';
import { FileBackend } from '@virtio/blk/node';
import { GuestRam } from '@virtio/kvm';
import { CallbackPmemBackend, PMEM_DEFAULT_RING_FEATURES, PmemDevice } from '@virtio/pmem';
import {
  BalloonDevice,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_S_AVAIL,
  VIRTIO_BALLOON_S_MEMFREE,
  VIRTIO_BALLOON_S_MEMTOT,
  BALLOON_DEFAULT_RING_FEATURES,
  type BalloonStats,
} from '@virtio/balloon';
import { CRYPTO_DEFAULT_RING_FEATURES, CryptoDevice, WebCryptoCipherBackend } from '@virtio/crypto';
import { CallbackStatusSink, EV_LED, INPUT_DEFAULT_RING_FEATURES, InputDevice, keyboardDescription, mouseDescription, tabletDescription } from '@virtio/input';
import { SCSI_DEFAULT_RING_FEATURES, ScsiDevice, ScsiDisk } from '@virtio/scsi';
import { VSOCK_DEFAULT_RING_FEATURES, VsockDevice } from '@virtio/vsock';
import { HybridVsockBackend } from '@virtio/vsock/node';
import { CliError } from '../cli/load-files.js';
import type { DeviceToPlug } from './devices.js';
import { applyEdits, combineEdits, type BalloonSpec, type CryptoSpec, type FeatureEdits, type InputSpec, type PmemSpec, type ScsiSpec, type VsockSpec } from './options.js';
import type { PmemRegion } from './pmem-memory.js';
import { connectInputSocket } from './input-socket.js';

/** The options of the devices this file makes (all optional: absent means none). */
export interface OtherDeviceSpecs {
  readonly scsi?: readonly ScsiSpec[];
  readonly vsock?: VsockSpec;
  readonly balloon?: BalloonSpec;
  readonly inputs?: readonly InputSpec[];
  readonly crypto?: CryptoSpec;
  readonly pmem?: readonly PmemSpec[];
}

/** How many devices `specs` asks for (the device thread makes them in this order after the others). */
export function otherDeviceCount(specs: OtherDeviceSpecs): number {
  return (specs.scsi?.length ?? 0) + (specs.vsock ? 1 : 0) + (specs.balloon ? 1 : 0) + (specs.inputs?.length ?? 0) + (specs.crypto ? 1 : 0) + (specs.pmem?.length ?? 0);
}

/** The devices made, and their host ends to start before the guest runs. */
export interface OtherDevices {
  readonly devices: DeviceToPlug[];
  /** Starts the host ends (hybrid vsock listener, balloon statistics timer, input sockets). @throws CliError when the vsock socket cannot be bound. */
  start(): Promise<void>;
}

/**
 * Opens the --scsi images and creates the devices in the order scsi, vsock, balloon, inputs,
 * crypto, pmem (`pmem`: the ranges mapPmem made, one per --pmem, in order). `log` gets one line
 * per balloon statistics report and keyboard LED change.
 * @throws CliError "cannot open SCSI image PATH: ENOENT" and the like.
 */
export async function createOtherDevices(
  specs: OtherDeviceSpecs,
  features: FeatureEdits,
  pmem: readonly PmemRegion[],
  log: (line: string) => void,
): Promise<OtherDevices> {
  const devices: DeviceToPlug[] = [];
  const starts: (() => Promise<void>)[] = [];
  const ring = (defaults: bigint, own: FeatureEdits) => applyEdits(defaults, combineEdits(features, own));

  for (const [i, s] of (specs.scsi ?? []).entries()) {
    let backend: FileBackend;
    try {
      backend = await FileBackend.open(s.path, { readOnly: s.readOnly, id: `vmm-scsi-${i}` });
    } catch (e) {
      throw new CliError(`cannot open SCSI image ${s.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const disk = new ScsiDisk({ backend, product: 'VMM SCSI DISK', serial: `vmm-scsi-${i}` });
    devices.push({ device: new ScsiDevice({ units: [{ target: 0, lun: 0, unit: disk }], ringFeatures: ring(SCSI_DEFAULT_RING_FEATURES, s.features) }), transport: s.transport });
  }

  if (specs.vsock) {
    const v = specs.vsock;
    const device = new VsockDevice({ guestCid: v.cid, ringFeatures: ring(VSOCK_DEFAULT_RING_FEATURES, v.features) });
    if (v.socket !== undefined) {
      const hybrid = new HybridVsockBackend(device, { udsPath: v.socket });
      starts.push(() => hybrid.start().catch((e: Error) => Promise.reject(new CliError(`vsock socket ${v.socket}: ${e.message}`))));
    }
    devices.push({ device, transport: v.transport });
  }

  if (specs.balloon) {
    const b = specs.balloon;
    const balloonFeatures = [VIRTIO_BALLOON_F_MUST_TELL_HOST, VIRTIO_BALLOON_F_STATS_VQ];
    if (b.deflateOnOom) balloonFeatures.push(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
    // Reported pages are counted; the host does not reclaim their memory yet (no madvise binding).
    if (b.freePageReporting) balloonFeatures.push(VIRTIO_BALLOON_F_PAGE_REPORTING);
    const device: BalloonDevice = new BalloonDevice({
      balloonFeatures,
      ringFeatures: ring(BALLOON_DEFAULT_RING_FEATURES, b.features),
      backend: { stats: (stats) => log(balloonStatsLine(device.actual, device.counters.reported, stats)) },
    });
    device.setNumPages(b.pages);
    if (b.statsSeconds > 0) {
      starts.push(async () => void setInterval(() => device.requestStats(), b.statsSeconds * 1000));
    }
    devices.push({ device, transport: b.transport });
  }

  for (const inp of specs.inputs ?? []) {
    const description = inp.kind === 'keyboard' ? keyboardDescription('virtio-vmm keyboard') : inp.kind === 'mouse' ? mouseDescription('virtio-vmm mouse') : tabletDescription(32768, 32768, 'virtio-vmm tablet');
    // LED feedback (statusq) is logged: the guest's caps lock shows up on the host.
    const status = new CallbackStatusSink((e) => void (e.type === EV_LED && log(`input ${inp.kind}: LED ${e.code} ${e.value ? 'on' : 'off'}`)));
    const device = new InputDevice({ description, status, ringFeatures: ring(INPUT_DEFAULT_RING_FEATURES, inp.features) });
    if (inp.socket !== undefined) {
      const socket = inp.socket;
      starts.push(async () => connectInputSocket(device, socket, log));
    }
    devices.push({ device, transport: inp.transport });
  }

  if (specs.crypto) {
    devices.push({ device: new CryptoDevice({ backend: new WebCryptoCipherBackend(), ringFeatures: ring(CRYPTO_DEFAULT_RING_FEATURES, specs.crypto.features) }), transport: specs.crypto.transport });
  }

  for (const [i, s] of (specs.pmem ?? []).entries()) {
    const region = pmem[i];
    if (region === undefined) throw new CliError(`pmem ${s.path}: not mapped`);
    const backend = new CallbackPmemBackend(region.size, await fileWriteBack(region));
    devices.push({ device: new PmemDevice({ backend, start: region.guestAddress, ringFeatures: ring(PMEM_DEFAULT_RING_FEATURES, s.features) }), transport: s.transport });
  }

  return {
    devices,
    start: async () => {
      for (const s of starts) await s();
    },
  };
}

/**
 * `balloon: actual N pages, memtot B, memfree B, avail B, reported P pages`: the driver's actual,
 * the statistics in bytes as the guest reported them, and the pages reported free so far.
 */
export function balloonStatsLine(actual: number, reported: number, stats: BalloonStats): string {
  const field = (tag: number, name: string) => (stats.has(tag) ? `, ${name} ${stats.get(tag)}` : '');
  return `balloon: actual ${actual} pages${field(VIRTIO_BALLOON_S_MEMTOT, 'memtot')}${field(VIRTIO_BALLOON_S_MEMFREE, 'memfree')}${field(VIRTIO_BALLOON_S_AVAIL, 'avail')}, reported ${reported} pages`;
}

/** Bytes per write while writing a pmem range back. */
const WRITE_CHUNK = 16 * 2 ** 20;

/**
 * The flush of a pmem range: writes the whole range back to its file and fdatasyncs, so every
 * guest write made before the flush request is durable when it completes ([pmem.dev.3]).
 * @throws CliError when the file cannot be opened for writing.
 */
async function fileWriteBack(region: PmemRegion): Promise<() => Promise<void>> {
  const file = await open(region.path, 'r+').catch((e: NodeJS.ErrnoException) => Promise.reject(new CliError(`cannot open pmem file ${region.path}: ${e.code ?? e.message}`)));
  const bytes = GuestRam.fromAddress(BigInt(region.hostAddress), region.size).bytes(0, region.size);
  return async () => {
    for (let off = 0; off < bytes.length; off += WRITE_CHUNK) {
      const chunk = bytes.subarray(off, Math.min(bytes.length, off + WRITE_CHUNK));
      for (let done = 0; done < chunk.length; ) done += (await file.write(chunk, done, chunk.length - done, off + done)).bytesWritten;
    }
    await file.datasync();
  };
}
