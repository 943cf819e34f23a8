/**
 * Carrying out one framed request against the backend (spec 5.2.6 "Device Operation"):
 * statuses for unsupported types, out-of-range sectors, bad lengths, read-only disks and
 * discard-like segment checks; data moved between guest memory views and the backend without
 * copies.
 */
import type { DescriptorChain, GuestMemory } from '@virtio/ring';
import type { BlockBackend } from './backend.js';
import type { ZoneTable } from './zones.js';
import {
  isValidLifetime,
  VIRTIO_BLK_DISCARD_SEGMENT_SIZE,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_LIFETIME_SIZE,
  VIRTIO_BLK_REQ_HEADER_SIZE,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_GET_LIFETIME,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_SECURE_ERASE,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_T_ZONE_APPEND,
  VIRTIO_BLK_T_ZONE_CLOSE,
  VIRTIO_BLK_T_ZONE_FINISH,
  VIRTIO_BLK_T_ZONE_OPEN,
  VIRTIO_BLK_T_ZONE_REPORT,
  VIRTIO_BLK_T_ZONE_RESET,
  VIRTIO_BLK_T_ZONE_RESET_ALL,
  VIRTIO_BLK_APPEND_SECTOR_SIZE,
  VIRTIO_BLK_S_ZONE_INVALID_CMD,
  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
  type BlkLifetime,
} from './protocol.js';
import { gather, scatter, segmentViews, type BlkRequestFrame } from './request.js';

/** Limits of a negotiated discard-like command, in 512-byte sectors. */
export interface RangeCommand {
  readonly maxSectors: number;
  readonly maxSegments: number;
  /** Sector alignment of every segment's start and length. */
  readonly alignment: number;
}

/** What the device's negotiation and configuration say about executing requests. */
export interface ExecState {
  readonly memory: GuestMemory;
  readonly backend: BlockBackend;
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  /** VIRTIO_BLK_F_RO offered: every write-like request fails with IOERR, writing nothing. */
  readonly readOnly: boolean;
  /** Writes must be stable before they complete (spec 5.2.6.4 cases 1 and 2). */
  readonly writeThrough: boolean;
  /** Null when the feature was not negotiated (the request type is then unsupported). */
  readonly discard: RangeCommand | null;
  readonly writeZeroes: RangeCommand | null;
  readonly secureErase: RangeCommand | null;
  /** VIRTIO_BLK_F_LIFETIME negotiated. */
  readonly lifetime: boolean;
  /** The device ID string, NUL-padded to 20 bytes. */
  readonly idBytes: Uint8Array;
  /** The zones, when VIRTIO_BLK_F_ZONED was negotiated (zone requests are unsupported otherwise). */
  readonly zones: ZoneTable | null;
}

/** A request's status, now or when the backend finishes (backend rejections become IOERR). */
export type Outcome = number | Promise<number>;

const ok = (): number => VIRTIO_BLK_S_OK;
const ioerr = (): number => VIRTIO_BLK_S_IOERR;

/** Runs a backend call, turning a synchronous throw into a rejection, and maps the result to a status. */
function run(call: () => Promise<unknown>): Promise<number> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (err) {
    p = Promise.reject(err);
  }
  return p.then(ok, ioerr);
}

/** Whether `[sector, sector + count)` lies within the disk (`sector` -1 means 2^53 or more). */
function inRange(s: ExecState, sector: number, count: number): boolean {
  return sector >= 0 && sector <= s.capacity && count <= s.capacity - sector;
}

/** The request's status, synchronously when no backend work is needed. */
export function execute(s: ExecState, chain: DescriptorChain, f: BlkRequestFrame): Outcome {
  switch (f.type) {
    case VIRTIO_BLK_T_IN: {
      if (f.inLength % VIRTIO_BLK_SECTOR_SIZE !== 0) return VIRTIO_BLK_S_IOERR;
      if (!inRange(s, f.sector, f.inLength / VIRTIO_BLK_SECTOR_SIZE)) return VIRTIO_BLK_S_IOERR;
      if (s.zones) {
        const z = s.zones.checkRead(f.sector, f.inLength / VIRTIO_BLK_SECTOR_SIZE);
        if (z !== VIRTIO_BLK_S_OK) return z;
      }
      if (f.inLength === 0) return VIRTIO_BLK_S_OK;
      const views = segmentViews(s.memory, chain.writable, 0, f.inLength);
      const zones = s.zones;
      if (!zones) return run(() => s.backend.read(f.sector * VIRTIO_BLK_SECTOR_SIZE, views));
      // [blk.dev.42] [blk.dev.43] unwritten data of sequential zones reads as zeroes.
      const memory = s.memory;
      const writable = chain.writable;
      const zero = (first: number, count: number) => {
        for (const v of segmentViews(memory, writable, (first - f.sector) * VIRTIO_BLK_SECTOR_SIZE, count * VIRTIO_BLK_SECTOR_SIZE)) v.fill(0);
      };
      return run(() => s.backend.read(f.sector * VIRTIO_BLK_SECTOR_SIZE, views).then(() => zones.forUnwritten(f.sector, f.inLength / VIRTIO_BLK_SECTOR_SIZE, zero)));
    }
    case VIRTIO_BLK_T_OUT: {
      if (s.readOnly) return VIRTIO_BLK_S_IOERR;
      if (f.outLength % VIRTIO_BLK_SECTOR_SIZE !== 0) return VIRTIO_BLK_S_IOERR;
      if (!inRange(s, f.sector, f.outLength / VIRTIO_BLK_SECTOR_SIZE)) return VIRTIO_BLK_S_IOERR;
      if (s.zones) {
        const at = s.zones.write(f.sector, f.outLength / VIRTIO_BLK_SECTOR_SIZE, false);
        if (at < 0) return -at;
      }
      if (f.outLength === 0) return VIRTIO_BLK_S_OK;
      const views = segmentViews(s.memory, chain.readable, VIRTIO_BLK_REQ_HEADER_SIZE, f.outLength);
      const b = s.backend;
      const offset = f.sector * VIRTIO_BLK_SECTOR_SIZE;
      if (s.writeThrough) return run(() => b.write(offset, views).then(() => b.flush()));
      return run(() => b.write(offset, views));
    }
    case VIRTIO_BLK_T_FLUSH:
      return run(() => s.backend.flush());
    case VIRTIO_BLK_T_GET_ID: {
      const n = Math.min(f.inLength, VIRTIO_BLK_ID_BYTES);
      scatter(s.memory, chain.writable, s.idBytes.subarray(0, n));
      return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_GET_LIFETIME: {
      const lifetime = s.backend.lifetime;
      if (!s.lifetime || !lifetime) return VIRTIO_BLK_S_UNSUPP;
      if (f.inLength < VIRTIO_BLK_LIFETIME_SIZE) return VIRTIO_BLK_S_IOERR;
      const memory = s.memory;
      const writable = chain.writable;
      let p: Promise<BlkLifetime>;
      try {
        p = lifetime.call(s.backend);
      } catch (err) {
        p = Promise.reject(err);
      }
      return p.then((l) => {
        // Never send reserved values (spec 5.2.6.4): a backend reporting them fails the request.
        if (!isValidLifetime(l)) return VIRTIO_BLK_S_IOERR;
        const b = new Uint8Array(VIRTIO_BLK_LIFETIME_SIZE);
        const dv = new DataView(b.buffer);
        dv.setUint16(0, l.preEolInfo, true);
        dv.setUint16(2, l.deviceLifetimeEstTypA, true);
        dv.setUint16(4, l.deviceLifetimeEstTypB, true);
        scatter(memory, writable, b);
        return VIRTIO_BLK_S_OK;
      }, ioerr);
    }
    case VIRTIO_BLK_T_DISCARD:
      return ranges(s, chain, f, s.discard, 'discard');
    case VIRTIO_BLK_T_WRITE_ZEROES:
      return ranges(s, chain, f, s.writeZeroes, 'write-zeroes');
    case VIRTIO_BLK_T_SECURE_ERASE:
      return ranges(s, chain, f, s.secureErase, 'secure-erase');
    case VIRTIO_BLK_T_ZONE_APPEND:
      return s.zones ? append(s, s.zones, chain, f) : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_ZONE_REPORT: {
      if (!s.zones) return VIRTIO_BLK_S_UNSUPP;
      const report = s.zones.report(f.sector, f.inLength);
      if (typeof report === 'number') return report;
      // The whole buffer is written: the report, then zeroes.
      for (const v of segmentViews(s.memory, chain.writable, 0, f.inLength)) v.fill(0);
      scatter(s.memory, chain.writable, report);
      return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_ZONE_OPEN:
      return s.zones ? s.zones.open(f.sector) : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_ZONE_CLOSE:
      return s.zones ? s.zones.close(f.sector) : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_ZONE_FINISH:
      return s.zones ? s.zones.finish(f.sector) : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_ZONE_RESET:
      return s.zones ? s.zones.reset(f.sector) : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_ZONE_RESET_ALL:
      return s.zones ? s.zones.resetAll() : VIRTIO_BLK_S_UNSUPP;
    default:
      // Unknown types, header too short (-1).
      return f.type === -1 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_UNSUPP;
  }
}

/**
 * VIRTIO_BLK_T_ZONE_APPEND (struct virtio_blk_req_za): the data goes to the zone's write
 * pointer, whose old value the device returns in `append_sector` ([blk.dev.34]), the first 8
 * bytes of the device-writable part.
 */
function append(s: ExecState, zones: ZoneTable, chain: DescriptorChain, f: BlkRequestFrame): Outcome {
  if (s.readOnly) return VIRTIO_BLK_S_IOERR;
  if (f.outLength % VIRTIO_BLK_SECTOR_SIZE !== 0 || f.inLength < VIRTIO_BLK_APPEND_SECTOR_SIZE) return VIRTIO_BLK_S_IOERR;
  if (f.sector < 0) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
  const at = zones.write(f.sector, f.outLength / VIRTIO_BLK_SECTOR_SIZE, true);
  if (at < 0) return -at;
  const memory = s.memory;
  const writable = chain.writable;
  const result = new Uint8Array(VIRTIO_BLK_APPEND_SECTOR_SIZE);
  new DataView(result.buffer).setBigUint64(0, BigInt(at), true);
  const done = () => scatter(memory, writable, result);
  if (f.outLength === 0) return (done(), VIRTIO_BLK_S_OK);
  const views = segmentViews(memory, chain.readable, VIRTIO_BLK_REQ_HEADER_SIZE, f.outLength);
  const b = s.backend;
  const offset = at * VIRTIO_BLK_SECTOR_SIZE;
  return run(() => b.write(offset, views).then(() => (s.writeThrough ? b.flush() : undefined)).then(done));
}

type RangeKind = 'discard' | 'write-zeroes' | 'secure-erase';

/**
 * DISCARD, WRITE_ZEROES and SECURE_ERASE: every struct virtio_blk_discard_write_zeroes segment
 * is checked before any is carried out.
 */
function ranges(s: ExecState, chain: DescriptorChain, f: BlkRequestFrame, cmd: RangeCommand | null, kind: RangeKind): Outcome {
  if (!cmd) return VIRTIO_BLK_S_UNSUPP;
  if (s.readOnly) return VIRTIO_BLK_S_IOERR;
  const len = f.outLength;
  if (len === 0 || len % VIRTIO_BLK_DISCARD_SEGMENT_SIZE !== 0) return VIRTIO_BLK_S_IOERR;
  const count = len / VIRTIO_BLK_DISCARD_SEGMENT_SIZE;
  if (count > cmd.maxSegments) return VIRTIO_BLK_S_UNSUPP;
  const raw = new Uint8Array(len);
  gather(s.memory, chain.readable, VIRTIO_BLK_REQ_HEADER_SIZE, raw);
  const dv = new DataView(raw.buffer);
  const offsets: number[] = [];
  const lengths: number[] = [];
  const unmaps: boolean[] = [];
  let status = VIRTIO_BLK_S_OK;
  for (let i = 0; i < count; i++) {
    const o = i * VIRTIO_BLK_DISCARD_SEGMENT_SIZE;
    const lo = dv.getUint32(o, true);
    const hi = dv.getUint32(o + 4, true);
    const sector = hi >= 2 ** 21 ? -1 : hi * 2 ** 32 + lo;
    const num = dv.getUint32(o + 8, true);
    const flags = dv.getUint32(o + 12, true);
    const unmap = (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0;
    // Unknown flags, and unmap anywhere but write zeroes, are unsupported (spec 5.2.6.4).
    if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0 || (unmap && kind !== 'write-zeroes')) return VIRTIO_BLK_S_UNSUPP;
    if (status !== VIRTIO_BLK_S_OK) continue;
    if (num > cmd.maxSectors || !inRange(s, sector, num) || sector % cmd.alignment !== 0 || num % cmd.alignment !== 0) {
      status = VIRTIO_BLK_S_IOERR;
      continue;
    }
    offsets.push(sector * VIRTIO_BLK_SECTOR_SIZE);
    lengths.push(num * VIRTIO_BLK_SECTOR_SIZE);
    unmaps.push(unmap);
  }
  if (status !== VIRTIO_BLK_S_OK) return status;
  const b = s.backend;
  const writeThrough = s.writeThrough;
  return run(async () => {
    for (let i = 0; i < offsets.length; i++) {
      if (lengths[i] === 0) continue;
      if (kind === 'discard') await b.discard(offsets[i], lengths[i]);
      // Secure erase overwrites: deallocating alone would leave the old blocks on the host.
      else await b.writeZeroes(offsets[i], lengths[i], kind === 'write-zeroes' && unmaps[i]);
    }
    if (writeThrough && kind !== 'discard') await b.flush();
  });
}

/**
 * The `len` to report in the used ring: bytes written from the start of the writable part.
 * Data and status are contiguous only when all data was written.
 */
export function writtenLength(f: BlkRequestFrame, status: number): number {
  const whole = f.inLength + 1;
  if (status === VIRTIO_BLK_S_OK) {
    if (f.type === VIRTIO_BLK_T_IN || f.type === VIRTIO_BLK_T_ZONE_REPORT) return whole;
    if (f.type === VIRTIO_BLK_T_ZONE_APPEND) return f.inLength === VIRTIO_BLK_APPEND_SECTOR_SIZE ? whole : VIRTIO_BLK_APPEND_SECTOR_SIZE;
    if (f.type === VIRTIO_BLK_T_GET_ID) return f.inLength <= VIRTIO_BLK_ID_BYTES ? whole : VIRTIO_BLK_ID_BYTES;
    if (f.type === VIRTIO_BLK_T_GET_LIFETIME) return f.inLength <= VIRTIO_BLK_LIFETIME_SIZE ? whole : VIRTIO_BLK_LIFETIME_SIZE;
  }
  return f.inLength === 0 ? 1 : 0;
}
