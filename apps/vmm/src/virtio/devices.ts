/**
 * Builds the virtio devices the command line asks for (blk on raw image files, net on TAP,
 * console, entropy). They live on the device thread (device-worker.ts); see README
 * "Virtio devices and threads".
 */
import { writeSync } from 'node:fs';
import { createConnection } from 'node:net';
import { BlkDevice, DEFAULT_RING_FEATURES } from '@virtio/blk';
import { FileBackend } from '@virtio/blk/node';
import { CallbackPortBackend, CONSOLE_DEFAULT_RING_FEATURES, ConsoleDevice, type ConsolePort } from '@virtio/console';
import { NetDevice } from '@virtio/net';
import { TapBackend } from '@virtio/net/node';
import { CryptoEntropySource, ENTROPY_DEFAULT_RING_FEATURES, EntropyDevice } from '@virtio/entropy';
import { CliError } from '../cli/load-files.js';
import { applyEdits, combineEdits, type ConsoleSpec, type DiskSpec, type FeatureEdits, type NetSpec, type RngSpec, type TransportKind } from './options.js';
import { featureMask, VIRTIO_F_IN_ORDER, type VirtioDevice } from '@virtio/core';
import { otherDeviceCount, type OtherDeviceSpecs } from './other-devices.js';

/**
 * The virtio devices of one run. `features` (from --ring and --features) applies to every device.
 * The devices of {@link OtherDeviceSpecs} (scsi, vsock, balloon, input, crypto) come after rng.
 */
export interface VirtioSpecs extends OtherDeviceSpecs {
  readonly disks: readonly DiskSpec[];
  readonly nets: readonly NetSpec[];
  readonly console?: ConsoleSpec;
  readonly rng?: RngSpec;
  readonly features: FeatureEdits;
}

/** How many devices `specs` asks for (every kind, in the device thread's order). */
export function deviceCount(specs: VirtioSpecs): number {
  return specs.disks.length + specs.nets.length + (specs.console ? 1 : 0) + (specs.rng ? 1 : 0) + otherDeviceCount(specs);
}

/**
 * Opens every --disk image (before the machine exists, so a bad image fails before KVM is touched).
 * @throws CliError "cannot open disk image PATH: ENOENT" and the like.
 */
export async function openDisks(disks: readonly DiskSpec[]): Promise<FileBackend[]> {
  const out: FileBackend[] = [];
  for (const d of disks) {
    try {
      out.push(await FileBackend.open(d.path, { readOnly: d.readOnly, id: `vmm-disk-${out.length}` }));
    } catch (e) {
      throw new CliError((e as Error).message.replace(/^blk: /, ''));
    }
  }
  return out;
}

/**
 * Opens (creating when missing) every --net TAP device. An `optional` one that cannot be
 * opened is left out with a note through `log`.
 * @throws CliError "TAP tap0: TUNSETIFF tap0 failed: EPERM — ..." when the host does not allow a required one.
 */
export function openTaps(nets: readonly NetSpec[], log: (line: string) => void): { nets: NetSpec[]; taps: TapBackend[] } {
  const out = { nets: [] as NetSpec[], taps: [] as TapBackend[] };
  for (const n of nets) {
    try {
      out.taps.push(new TapBackend({ name: n.tap }));
      out.nets.push(n);
    } catch (e) {
      const line = `TAP ${n.tap}: ${(e as Error).message}`;
      if (n.optional) {
        log(`${line}; running without a network card`);
        continue;
      }
      for (const t of out.taps) t.close();
      throw new CliError(line);
    }
  }
  return out;
}

/** Answers each complete line L the guest writes with `ack L\n` (the test guest's `console` check). */
function ackBackend(port: () => ConsolePort | undefined): CallbackPortBackend {
  let line: number[] = [];
  return new CallbackPortBackend((data) => {
    for (const b of data) {
      if (b === 0x0a || b === 0x0d) {
        if (line.length > 0) port()?.push(new TextEncoder().encode(`ack ${String.fromCharCode(...line)}\n`));
        line = [];
      } else line.push(b);
    }
  });
}

/**
 * Connects the console to the Unix socket `path`: guest output is written to it, what it
 * sends goes to the guest. A socket that fails or closes leaves the port writing nowhere.
 */
function socketBackend(path: string, port: () => ConsolePort | undefined): CallbackPortBackend {
  const socket = createConnection(path);
  let open = true;
  socket.on('data', (d: Buffer) => void port()?.push(d));
  socket.on('error', (e) => {
    open = false;
    process.stderr.write(`virtio-vmm: console socket ${path}: ${e.message}\n`);
  });
  socket.on('close', () => (open = false));
  socket.unref();
  return new CallbackPortBackend((data) => {
    if (open) socket.write(Uint8Array.prototype.slice.call(data));
  });
}

/** A device made from the options, and the transport it goes on. */
export interface DeviceToPlug {
  readonly device: VirtioDevice;
  readonly transport: TransportKind;
}

/**
 * Creates the devices: disks (in order), network cards, then the console, then the entropy
 * device. `consoleFd` receives the console's output in tty mode.
 */
export function createDevices(
  specs: VirtioSpecs,
  backends: { readonly disks: readonly FileBackend[]; readonly taps: readonly TapBackend[] },
  consoleFd: number,
): { devices: DeviceToPlug[]; console?: ConsolePort } {
  const devices: DeviceToPlug[] = [];
  specs.disks.forEach((d, i) => {
    // Never VIRTIO_F_IN_ORDER, even when asked: requests complete out of order.
    const ringFeatures = applyEdits(DEFAULT_RING_FEATURES, combineEdits(specs.features, d.features)) & ~featureMask(VIRTIO_F_IN_ORDER);
    devices.push({ device: new BlkDevice({ backend: backends.disks[i], readOnly: d.readOnly, ringFeatures }), transport: d.transport });
  });
  specs.nets.forEach((n, i) => {
    // @virtio/net offers every ring feature it supports; edits can only withhold.
    const withhold = combineEdits(specs.features, n.features).clear;
    devices.push({ device: new NetDevice({ backend: backends.taps[i], mac: n.mac, withhold }), transport: n.transport });
  });
  let console: ConsolePort | undefined;
  if (specs.console) {
    const c = specs.console;
    const ringFeatures = applyEdits(CONSOLE_DEFAULT_RING_FEATURES, combineEdits(specs.features, c.features));
    const backend =
      c.mode === 'ack'
        ? ackBackend(() => console)
        : c.mode === 'socket'
          ? socketBackend(c.socket!, () => console)
          : new CallbackPortBackend((data) => {
              for (let off = 0; off < data.length; ) off += writeSync(consoleFd, data, off);
            });
    const device = new ConsoleDevice({ ports: [{ backend }], ringFeatures, emergencyWrite: false });
    console = device.port(0);
    devices.push({ device, transport: c.transport });
  }
  if (specs.rng) {
    const ringFeatures = applyEdits(ENTROPY_DEFAULT_RING_FEATURES, combineEdits(specs.features, specs.rng.features));
    devices.push({ device: new EntropyDevice({ source: new CryptoEntropySource(), ringFeatures }), transport: specs.rng.transport });
  }
  return { devices, console };
}
