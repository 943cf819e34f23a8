// End to end: virtio-scsi, vsock, balloon, input, crypto and pmem under the stock Debian kernel's
// drivers. One rig boot runs the VMM twice with all of them at once, on virtio-pci and on
// virtio-mmio; the host side answers the guest over vsock and connects into it, and reads the
// SCSI images and the pmem file back.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildTestGuest,
  CRYPTO_VECTOR,
  guestHelperFile,
  kvmRunMode,
  parseVmmtest,
  PMEM_LAYOUT,
  probedDevices,
  runWhereKvmWorks,
  SCSI_MIN_BYTES,
  VSOCK_DEFAULTS,
  vsockReply,
  type VmmtestReport,
} from '@virtio/test-guest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));
const PEER = fileURLToPath(new URL('./more-devices-peer.mjs', import.meta.url));
const APP = fileURLToPath(new URL('..', import.meta.url));
const where = kvmRunMode();

const VARIANTS = [
  { name: 'pci', transport: 'pci' },
  { name: 'mmio', transport: 'mmio' },
] as const;
type Variant = (typeof VARIANTS)[number];

const CID = 42;
const BALLOON_MIB = 64;
const DRIVERS = ['virtio_scsi', 'vmw_vsock_virtio_transport', 'virtio_balloon', 'virtio_input', 'virtio_crypto', 'virtio_pmem'];
/** The balloon check rebinds its driver, so it goes last. */
const CHECKS = ['probe', 'drivers', 'scsi', 'vsock', 'input', 'crypto', 'pmem', 'balloon'];
const EXTRA = `vmmtest.drivers=${DRIVERS.join(',')} vmmtest.scsi_ro=1 vmmtest.input=2 vmmtest.input_host=1 vmmtest.balloon_mib=${BALLOON_MIB}`;
/** Virtio device IDs: scsi 8, scsi, vsock 19, balloon 5, input 18 (keyboard, tablet), crypto 20, pmem 27. */
const DEVICE_IDS = [8, 8, 19, 5, 18, 18, 20, 27];
const PMEM_BYTES = 4 << 20;

interface PeerRecord {
  readonly guestLines: string[];
  readonly host: { readonly sent: string; readonly received: string | null; readonly attempts: number };
  /** Tablet moves sent through the --input socket: `abs N N` for N = first, first + 1, ... (`sent` of them). */
  readonly input: { readonly first: number; readonly sent: number };
  readonly exit: number;
}

describe.skipIf(where.mode === 'skipped')(`scsi, vsock, balloon, input, crypto and pmem under the stock Linux guest (${where.mode}: ${where.reason})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-e2e-more-'));
  const runs = new Map<string, { report: VmmtestReport; status: number; output: string; log: string; peer: PeerRecord | undefined }>();
  const disk = (v: Variant) => join(dir, `${v.name}-scsi.img`);
  const roDisk = (v: Variant) => join(dir, `${v.name}-scsi-ro.img`);
  const peerOut = (v: Variant) => join(dir, `${v.name}-peer.json`);
  const pmemFile = (v: Variant) => join(dir, `${v.name}-pmem.img`);
  const pmemInitial = new Map<string, Buffer>();
  const vmmLog = (v: Variant) => join(dir, `${v.name}-stderr.log`);
  let elapsedMs = 0;

  beforeAll(async () => {
    const guest = await buildTestGuest({ extraFiles: [guestHelperFile()] });
    const steps = VARIANTS.map((v, i) => {
      writeFileSync(disk(v), new Uint8Array(SCSI_MIN_BYTES + 2 ** 20));
      writeFileSync(roDisk(v), new Uint8Array(2 ** 20).fill(0x5a));
      pmemInitial.set(v.name, randomBytes(PMEM_BYTES));
      writeFileSync(pmemFile(v), pmemInitial.get(v.name)!);
      const command = [process.execPath, BIN, 'run', '--direct', '--kernel', guest.kernel, '--initrd', guest.initrd, '--memory', '512M'];
      command.push('--cmdline', `${guest.cmdline(CHECKS)} ${EXTRA}`, '--transport', v.transport);
      command.push('--scsi', disk(v), '--scsi', `${roDisk(v)},readonly`);
      // The hybrid vsock socket lives in the rig's /tmp (a Unix socket cannot be made on the 9p share).
      const socket = `/tmp/vmm-e2e-vsock-${v.name}.sock`;
      command.push('--vsock', `cid=${CID},socket=${socket}`, '--balloon', `size=${BALLOON_MIB}M,stats=1,free_page_reporting`);
      const inputSocket = `/tmp/vmm-e2e-input-${v.name}.sock`;
      command.push('--input', 'keyboard', '--input', `tablet,socket=${inputSocket}`, '--crypto', '--pmem', pmemFile(v));
      const config = {
        command,
        out: peerOut(v),
        vsock: { socket, hostPort: VSOCK_DEFAULTS.hostPort, guestPort: VSOCK_DEFAULTS.guestPort },
        input: { socket: inputSocket },
      };
      writeFileSync(join(dir, `peer-${i}.json`), JSON.stringify(config));
      // The VMM's own lines (balloon statistics every second, LEDs) go to a file of their own: on
      // the shared stream they would land inside the guest's VMMTEST lines.
      return `'${process.execPath}' '${PEER}' '${join(dir, `peer-${i}.json`)}' 2> '${vmmLog(v)}'; echo "@@VMM-EXIT-${i} $?"`;
    });
    const started = Date.now();
    const r = await runWhereKvmWorks(['/bin/sh', '-c', steps.join('; ')], { cwd: APP, timeoutMs: 900_000, writableDirs: [dir] });
    elapsedMs = Date.now() - started;
    expect(r.infraFailure, r.infraFailure).toBeUndefined();
    let from = 0;
    VARIANTS.forEach((v, i) => {
      const m = new RegExp(`@@VMM-EXIT-${i} (\\d+)\n`).exec(r.stdout.slice(from));
      expect(m, r.stdout.slice(-3000)).not.toBeNull();
      const output = r.stdout.slice(from, from + m!.index);
      const peer = existsSync(peerOut(v)) ? (JSON.parse(readFileSync(peerOut(v), 'utf8')) as PeerRecord) : undefined;
      const log = existsSync(vmmLog(v)) ? readFileSync(vmmLog(v), 'utf8') : '';
      runs.set(v.name, { report: parseVmmtest(output), status: Number(m![1]), output, log, peer });
      from += m!.index + m![0].length;
    });
  }, 1_000_000);

  afterAll(() => {
    process.stderr.write(`e2e-more-devices: one rig run of ${VARIANTS.length} VMM boots took ${(elapsedMs / 1000).toFixed(1)} s\n`);
    rmSync(dir, { recursive: true, force: true });
  });

  const result = (v: Variant, check: string) => {
    const run = runs.get(v.name)!;
    const res = run.report.results.find((c) => c.check === check);
    expect(res, run.output.slice(-3000)).toBeDefined();
    return res!;
  };

  for (const v of VARIANTS) {
    describe(`virtio-${v.transport}`, () => {
      it('the guest powers off after every check passed; each driver bound to its device', () => {
        const run = runs.get(v.name)!;
        expect(run.report.done && run.report.ok, `${run.output.slice(-4000)}\n${run.log.slice(-2000)}`).toBe(true);
        expect(run.status).toBe(0);
        const drivers = result(v, 'drivers');
        expect(drivers.ok, JSON.stringify(drivers)).toBe(true);
        const bound = drivers.drivers as Record<string, string[]>;
        expect(bound.virtio_scsi).toHaveLength(2);
        expect(bound.virtio_input).toHaveLength(2);
      });

      it(`every device is on virtio-${v.transport}, with the expected device IDs`, () => {
        const devices = probedDevices(runs.get(v.name)!.report);
        expect(devices.map((d) => d.device).sort((a, b) => a - b), JSON.stringify(devices)).toEqual([...DEVICE_IDS].sort((a, b) => a - b));
        // virtio-mmio's VendorID register reads "QEMU"; virtio-pci's is the PCI subsystem vendor.
        for (const d of devices) expect(d.vendor === 0x554d4551, JSON.stringify(d)).toBe(v.transport === 'mmio');
      });

      it('[scsi.dev.5] [scsi.dev.6] sd on virtio_scsi: O_DIRECT data with SYNCHRONIZE CACHE reads back in the guest and is in the host image', () => {
        const s = result(v, 'scsi');
        expect(s.ok, JSON.stringify(s)).toBe(true);
        expect(s.sectors).toBe((SCSI_MIN_BYTES + 2 ** 20) / 512);
        expect(s.vendor).toBe('VIRTIO');
        const image = readFileSync(disk(v));
        const start = (s.data_sector as number) * 512;
        const data = image.subarray(start, start + (s.data_sectors as number) * 512);
        expect(createHash('sha256').update(data).digest('hex')).toBe(s.sha256);
      });

      it('[scsi.dev.5] the write-protected LUN: sd sees it read-only (MODE SENSE WP), refuses a write, serves a read; the image is unchanged', () => {
        const s = result(v, 'scsi');
        expect(s.ro_disk).not.toBe('');
        expect(s.ro_write_refused).toBe(true);
        expect(readFileSync(roDisk(v)).every((b) => b === 0x5a)).toBe(true);
      });

      it('[vsock.dev.6] [vsock.dev.7] vsock: the guest has our CID, reaches host port 1234 (hybrid socket) and the host reaches its listener', () => {
        const s = result(v, 'vsock');
        expect(s.ok, JSON.stringify(s)).toBe(true);
        expect(s.cid).toBe(String(CID));
        const peer = runs.get(v.name)!.peer;
        expect(peer?.guestLines).toContain(s.sent);
        expect(s.received).toBe(vsockReply(s.sent as string));
        expect(peer?.host.received, JSON.stringify(peer)).toBe(vsockReply(peer!.host.sent));
        expect(s.served).toBe(peer?.host.sent);
      });

      it('[pmem.dev.2] [pmem.dev.3] pmem: /dev/pmem0 shows the host file at the range the device gave; data the guest flushed is in the file', () => {
        const p = result(v, 'pmem');
        expect(p.ok, JSON.stringify(p)).toBe(true);
        expect(p.bytes).toBe(PMEM_BYTES);
        const initial = pmemInitial.get(v.name)!;
        const { head, data } = PMEM_LAYOUT;
        expect(p.head_sha256).toBe(createHash('sha256').update(initial.subarray(head.offset, head.offset + head.bytes)).digest('hex'));
        const file = readFileSync(pmemFile(v));
        expect(createHash('sha256').update(file.subarray(data.offset, data.offset + data.bytes)).digest('hex')).toBe(p.sha256);
      });

      it('balloon: reaches the size the host asked for, MemTotal gives it back on unbind; statsq reports the same MemTotal; reporting_vq (queue 3 without free page hinting) gets free pages', () => {
        const b = result(v, 'balloon');
        expect(b.ok, JSON.stringify(b)).toBe(true);
        expect(b.pages).toBe(BALLOON_MIB * 256);
        expect((b.mem_total_deflated_kb as number) - (b.mem_total_kb as number)).toBe(BALLOON_MIB * 1024);
        const output = runs.get(v.name)!.log;
        const memtot = BigInt(b.mem_total_kb as number) * 1024n;
        expect(output).toContain(`balloon: actual ${BALLOON_MIB * 256} pages, memtot ${memtot}`);
        const reported = [...output.matchAll(/balloon: .*, reported (\d+) pages/g)].map((m) => Number(m[1]));
        expect(Math.max(0, ...reported), output.slice(-2000)).toBeGreaterThan(0);
      });

      it('[input.dev.1] input: evdev devices named by our description, with exactly its capabilities; caps lock reaches the host; host tablet moves reach the guest', () => {
        const r = result(v, 'input');
        expect(r.ok, JSON.stringify(r)).toBe(true);
        const devices = r.devices as { name: string; ev: string; key: string; rel: string; abs: string; props: string; led: boolean; host_abs_x: number }[];
        const kbd = devices.find((d) => d.name === 'virtio-vmm keyboard');
        const tablet = devices.find((d) => d.name === 'virtio-vmm tablet');
        expect(kbd, JSON.stringify(devices)).toBeDefined();
        expect(tablet, JSON.stringify(devices)).toBeDefined();
        // Sizes of zero for what the device does not support: no axes on the keyboard, only X/Y on the tablet.
        expect(kbd!.rel).toBe('0');
        expect(kbd!.abs).toBe('0');
        expect(tablet!.abs).toBe('3');
        expect(tablet!.props).toBe('2'); // INPUT_PROP_DIRECT
        expect(kbd!.led).toBe(true);
        const sent = runs.get(v.name)!.peer!.input;
        const x = tablet!.host_abs_x;
        expect(x).toBeGreaterThanOrEqual(sent.first);
        expect(x).toBeLessThan(sent.first + sent.sent);
        const output = runs.get(v.name)!.log;
        expect(output).toContain('input keyboard: LED 1 on');
        expect(output).toContain('input keyboard: LED 1 off');
      });

      it('[crypto.dev.1] crypto: virtio_crypto_aes_cbc passes the kernel self-test and encrypts through AF_ALG like Node does', () => {
        const c = result(v, 'crypto');
        expect(c.ok, JSON.stringify(c)).toBe(true);
        expect(c.drivers).toContain('virtio_crypto_aes_cbc');
        const cipher = createCipheriv('aes-128-cbc', Buffer.from(CRYPTO_VECTOR.key, 'hex'), Buffer.from(CRYPTO_VECTOR.iv, 'hex')).setAutoPadding(false);
        const expected = Buffer.concat([cipher.update(new Uint8Array(CRYPTO_VECTOR.bytes)), cipher.final()]);
        expect(c.sha256).toBe(createHash('sha256').update(expected).digest('hex'));
      });
    });
  }
});
