/**
 * Parsing of the virtio device options of `virtio-vmm run`: --disk, --net, --console, --rng,
 * --scsi, --vsock, --balloon, --input, --crypto, --pmem, --ring and --features. Errors are CliError
 * with a one-line message.
 */
import { parseMemorySize } from '../boot/layout.js';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_IN_ORDER, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { CliError } from '../cli/load-files.js';

/** Which virtio transport a device sits on: virtio-pci (modern, MSI-X) or virtio-mmio (version 2). */
export type TransportKind = 'pci' | 'mmio';

/** One `--disk PATH[,readonly][,transport=pci|mmio][,features=...]`. */
export interface DiskSpec {
  readonly path: string;
  readonly readOnly: boolean;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/**
 * `--console [tty|ack|socket=PATH][,transport=...]`: hvc0 on the terminal; connected to the
 * Unix socket PATH; or (tests) answering each line L the guest writes with `ack L`.
 */
export interface ConsoleSpec {
  readonly mode: 'tty' | 'ack' | 'socket';
  /** The Unix socket of mode `socket`. */
  readonly socket?: string;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** One `--net tap=NAME[,mac=52:54:00:..][,transport=...][,features=...][,optional]`. */
export interface NetSpec {
  readonly tap: string;
  /** `optional`: where the TAP cannot be opened (not permitted), run without this card. */
  readonly optional: boolean;
  /** 6 bytes; undefined: @virtio/net's default. */
  readonly mac?: Uint8Array;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** `--rng [transport=...]`. */
export interface RngSpec {
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** One `--scsi PATH[,readonly][,transport=...][,features=...]`: a virtio-scsi controller with the image as its disk (target 0, LUN 0). */
export interface ScsiSpec {
  readonly path: string;
  readonly readOnly: boolean;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** `--vsock cid=N[,socket=PATH][,transport=...][,features=...]`: the guest's CID and the hybrid vsock's Unix socket. */
export interface VsockSpec {
  /** The guest's context ID, 3..2^32-2. */
  readonly cid: number;
  /** Host end (Firecracker's hybrid vsock): `CONNECT <port>` on PATH reaches a guest listener; guest connections to host port P go to `PATH_P`. */
  readonly socket?: string;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** `--balloon [size=SIZE][,stats=SECONDS][,deflate_on_oom][,free_page_reporting][,transport=...][,features=...]`. */
export interface BalloonSpec {
  /** The balloon size the host asks for from the start, in 4096-byte pages (num_pages). */
  readonly pages: number;
  /** Seconds between statistics requests (each logged with `actual`); 0: none. */
  readonly statsSeconds: number;
  /** Offer VIRTIO_BALLOON_F_DEFLATE_ON_OOM (the guest then keeps ballooned pages in MemTotal). */
  readonly deflateOnOom: boolean;
  /** Offer VIRTIO_BALLOON_F_PAGE_REPORTING: the guest reports free pages on reporting_vq (counted in the statistics line). */
  readonly freePageReporting: boolean;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** The kinds of `--input`. */
export type InputKind = 'keyboard' | 'mouse' | 'tablet';

/** One `--input keyboard|mouse|tablet[,socket=PATH][,transport=...][,features=...]`. */
export interface InputSpec {
  readonly kind: InputKind;
  /** A Unix socket the VMM connects to; each line (`key CODE 0|1`, `rel DX DY`, `abs X Y`) becomes one device update. */
  readonly socket?: string;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** `--crypto [transport=...][,features=...]`: AES-CBC/CTR through WebCrypto. */
export interface CryptoSpec {
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** One `--pmem PATH[,transport=...][,features=...]`: virtio-pmem over a file (a whole number of 2 MiB). */
export interface PmemSpec {
  readonly path: string;
  readonly transport: TransportKind;
  readonly features: FeatureEdits;
}

/** Reserved feature bits to add to (`set`) or remove from (`clear`) a device's offer. */
export interface FeatureEdits {
  readonly set: bigint;
  readonly clear: bigint;
}

/** The reserved (ring) features the options can name. */
export const NAMED_FEATURES: Readonly<Record<string, number>> = {
  event_idx: VIRTIO_F_EVENT_IDX,
  indirect_desc: VIRTIO_F_INDIRECT_DESC,
  in_order: VIRTIO_F_IN_ORDER,
  ring_packed: VIRTIO_F_RING_PACKED,
};

export const NO_EDITS: FeatureEdits = { set: 0n, clear: 0n };

/**
 * Parses `-event_idx,+in_order,...` (names of NAMED_FEATURES; `+` or no sign offers, `-` withholds).
 * Separated by commas or, inside a device option, by `:` (`features=-event_idx:-indirect_desc`).
 * @throws CliError for an unknown name.
 */
export function parseFeatures(text: string): FeatureEdits {
  let set = 0n;
  let clear = 0n;
  for (const word of text.split(/[,:]/).filter((w) => w !== '')) {
    const sign = word[0] === '-' ? '-' : '+';
    const name = word.replace(/^[-+]/, '').toLowerCase();
    const bit = NAMED_FEATURES[name];
    if (bit === undefined) throw new CliError(`unknown feature "${name}" (known: ${Object.keys(NAMED_FEATURES).join(', ')})`);
    if (sign === '-') clear |= featureMask(bit);
    else set |= featureMask(bit);
  }
  return { set, clear };
}

/** `later` applied over `earlier` (a device's own edits win over --features and --ring). */
export function combineEdits(earlier: FeatureEdits, later: FeatureEdits): FeatureEdits {
  return { set: (earlier.set & ~later.clear) | later.set, clear: (earlier.clear & ~later.set) | later.clear };
}

/** Applies edits to a device's default ring-feature offer. */
export function applyEdits(defaults: bigint, edits: FeatureEdits): bigint {
  return (defaults | edits.set) & ~edits.clear;
}

/** `--ring packed|split`: offer VIRTIO_F_RING_PACKED (Linux then uses packed rings) or withhold it. */
export function parseRing(text: string): FeatureEdits {
  if (text === 'packed') return { set: featureMask(VIRTIO_F_RING_PACKED), clear: 0n };
  if (text === 'split') return { set: 0n, clear: featureMask(VIRTIO_F_RING_PACKED) };
  throw new CliError(`invalid --ring "${text}" (expected packed or split)`);
}

function parseTransport(value: string, option: string): TransportKind {
  if (value === 'pci' || value === 'mmio') return value;
  throw new CliError(`invalid transport "${value}" in ${option} (expected pci or mmio)`);
}

/** Splits `a,b=c` into the bare words and key=value pairs; unknown keys are errors. */
function words(text: string, option: string, keys: readonly string[]): { bare: string[]; kv: Map<string, string> } {
  const bare: string[] = [];
  const kv = new Map<string, string>();
  for (const w of text.split(',')) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      bare.push(w);
      continue;
    }
    const key = w.slice(0, eq);
    if (!keys.includes(key)) throw new CliError(`unknown ${option} option "${key}" (known: ${keys.join(', ')})`);
    kv.set(key, w.slice(eq + 1));
  }
  return { bare, kv };
}

/** Parses one --disk value. @throws CliError for a malformed value. */
export function parseDisk(text: string, defaultTransport: TransportKind): DiskSpec {
  const { bare, kv } = words(text, '--disk', ['transport', 'features']);
  const [path, ...flags] = bare;
  if (!path) throw new CliError(`--disk "${text}": the image path comes first`);
  for (const f of flags) if (f !== 'readonly' && f !== 'ro') throw new CliError(`unknown --disk flag "${f}" (known: readonly)`);
  return {
    path,
    readOnly: flags.length > 0,
    transport: parseTransport(kv.get('transport') ?? defaultTransport, '--disk'),
    features: parseFeatures(kv.get('features') ?? ''),
  };
}

/** Parses the --console value (`true` when given bare). @throws CliError for a malformed value. */
export function parseConsole(text: string | true, defaultTransport: TransportKind): ConsoleSpec {
  const { bare, kv } = words(text === true ? '' : text, '--console', ['transport', 'features', 'socket']);
  const mode = bare.filter((w) => w !== '');
  const socket = kv.get('socket');
  if (mode.length > 1 || (mode[0] !== undefined && mode[0] !== 'tty' && mode[0] !== 'ack') || (socket !== undefined && mode.length > 0)) {
    throw new CliError(`invalid --console "${text}" (expected tty, ack or socket=PATH)`);
  }
  if (socket === '') throw new CliError('--console socket= needs a path');
  return {
    mode: socket !== undefined ? 'socket' : ((mode[0] as 'tty' | 'ack' | undefined) ?? 'tty'),
    socket,
    transport: parseTransport(kv.get('transport') ?? defaultTransport, '--console'),
    features: parseFeatures(kv.get('features') ?? ''),
  };
}

/** Parses the --rng value (`true` when given bare). @throws CliError for a malformed value. */
export function parseRng(text: string | true, defaultTransport: TransportKind): RngSpec {
  const { bare, kv } = words(text === true ? '' : text, '--rng', ['transport', 'features']);
  if (bare.some((w) => w !== '')) throw new CliError(`invalid --rng value "${bare.join(',')}"`);
  return { transport: parseTransport(kv.get('transport') ?? defaultTransport, '--rng'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses --transport (the default for devices that do not name one). */
export function parseDefaultTransport(text: string | undefined): TransportKind {
  return parseTransport(text ?? 'pci', '--transport');
}

/** Parses one --net value. @throws CliError for a malformed value. */
export function parseNet(text: string, defaultTransport: TransportKind): NetSpec {
  const { bare, kv } = words(text, '--net', ['tap', 'mac', 'transport', 'features']);
  const flags = bare.filter((w) => w !== '');
  if (flags.some((f) => f !== 'optional')) throw new CliError(`invalid --net value "${flags.join(',')}" (expected tap=NAME[,mac=..][,transport=..][,optional])`);
  const tap = kv.get('tap');
  if (!tap) throw new CliError('--net needs tap=NAME');
  const macText = kv.get('mac');
  let mac: Uint8Array | undefined;
  if (macText !== undefined) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(macText)) throw new CliError(`invalid MAC address "${macText}" (expected xx:xx:xx:xx:xx:xx)`);
    mac = Uint8Array.from(macText.split(':').map((h) => parseInt(h, 16)));
  }
  return { tap, optional: flags.length > 0, mac, transport: parseTransport(kv.get('transport') ?? defaultTransport, '--net'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses one --scsi value. @throws CliError for a malformed value. */
export function parseScsi(text: string, defaultTransport: TransportKind): ScsiSpec {
  const { bare, kv } = words(text, '--scsi', ['transport', 'features']);
  const [path, ...flags] = bare;
  if (!path) throw new CliError(`--scsi "${text}": the image path comes first`);
  for (const f of flags) if (f !== 'readonly' && f !== 'ro') throw new CliError(`unknown --scsi flag "${f}" (known: readonly)`);
  return { path, readOnly: flags.length > 0, transport: parseTransport(kv.get('transport') ?? defaultTransport, '--scsi'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses the --vsock value. @throws CliError for a malformed value or a reserved CID (0, 1, 2, 2^32-1). */
export function parseVsock(text: string, defaultTransport: TransportKind): VsockSpec {
  const { bare, kv } = words(text, '--vsock', ['cid', 'socket', 'transport', 'features']);
  if (bare.some((w) => w !== '')) throw new CliError(`invalid --vsock value "${bare.join(',')}" (expected cid=N[,socket=PATH])`);
  const cidText = kv.get('cid');
  if (cidText === undefined) throw new CliError('--vsock needs cid=N (3 or more)');
  const cid = Number(cidText);
  if (!/^\d+$/.test(cidText) || cid < 3 || cid >= 0xffffffff) throw new CliError(`invalid --vsock cid "${cidText}" (expected 3-4294967294)`);
  const socket = kv.get('socket');
  if (socket === '') throw new CliError('--vsock socket= needs a path');
  return { cid, socket, transport: parseTransport(kv.get('transport') ?? defaultTransport, '--vsock'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses the --balloon value (`true` when given bare). @throws CliError for a malformed value. */
export function parseBalloon(text: string | true, defaultTransport: TransportKind): BalloonSpec {
  const { bare, kv } = words(text === true ? '' : text, '--balloon', ['size', 'stats', 'transport', 'features']);
  const flags = bare.filter((w) => w !== '');
  if (flags.some((f) => f !== 'deflate_on_oom' && f !== 'free_page_reporting')) {
    throw new CliError(`invalid --balloon value "${flags.join(',')}" (expected size=SIZE[,stats=SECONDS][,deflate_on_oom][,free_page_reporting])`);
  }
  let bytes = 0;
  const size = kv.get('size');
  if (size !== undefined) {
    try {
      bytes = parseMemorySize(size);
    } catch {
      throw new CliError(`invalid --balloon size "${size}" (e.g. 64M)`);
    }
    if (bytes % 4096 !== 0 || bytes / 4096 > 0xffffffff) throw new CliError(`invalid --balloon size "${size}" (whole 4 KiB pages)`);
  }
  const statsText = kv.get('stats') ?? '0';
  const statsSeconds = Number(statsText);
  if (!/^\d+$/.test(statsText) || statsSeconds > 3600) throw new CliError(`invalid --balloon stats "${statsText}" (seconds, 0-3600)`);
  return {
    pages: bytes / 4096,
    statsSeconds,
    deflateOnOom: flags.includes('deflate_on_oom'),
    freePageReporting: flags.includes('free_page_reporting'),
    transport: parseTransport(kv.get('transport') ?? defaultTransport, '--balloon'),
    features: parseFeatures(kv.get('features') ?? ''),
  };
}

/** Parses one --input value. @throws CliError for a malformed value. */
export function parseInput(text: string, defaultTransport: TransportKind): InputSpec {
  const { bare, kv } = words(text, '--input', ['socket', 'transport', 'features']);
  const kinds = bare.filter((w) => w !== '');
  if (kinds.length !== 1 || !['keyboard', 'mouse', 'tablet'].includes(kinds[0])) throw new CliError(`invalid --input "${text}" (expected keyboard, mouse or tablet)`);
  const socket = kv.get('socket');
  if (socket === '') throw new CliError('--input socket= needs a path');
  return { kind: kinds[0] as InputKind, socket, transport: parseTransport(kv.get('transport') ?? defaultTransport, '--input'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses the --crypto value (`true` when given bare). @throws CliError for a malformed value. */
export function parseCrypto(text: string | true, defaultTransport: TransportKind): CryptoSpec {
  const { bare, kv } = words(text === true ? '' : text, '--crypto', ['transport', 'features']);
  if (bare.some((w) => w !== '')) throw new CliError(`invalid --crypto value "${bare.join(',')}"`);
  return { transport: parseTransport(kv.get('transport') ?? defaultTransport, '--crypto'), features: parseFeatures(kv.get('features') ?? '') };
}

/** Parses one --pmem value. @throws CliError for a malformed value. */
export function parsePmem(text: string, defaultTransport: TransportKind): PmemSpec {
  const { bare, kv } = words(text, '--pmem', ['transport', 'features']);
  const [path, ...flags] = bare;
  if (!path) throw new CliError(`--pmem "${text}": the file path comes first`);
  if (flags.length > 0) throw new CliError(`unknown --pmem flag "${flags[0]}"`);
  return { path, transport: parseTransport(kv.get('transport') ?? defaultTransport, '--pmem'), features: parseFeatures(kv.get('features') ?? '') };
}
