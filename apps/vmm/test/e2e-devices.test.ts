// End to end: our virtio devices under the stock Debian kernel's drivers. One rig boot runs
// the VMM several times with the test guest's device checks, over virtio-pci and virtio-mmio,
// packed and split rings, EVENT_IDX and INDIRECT_DESC offered and withheld; the host then
// reads the disk images back.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLK_MIN_BYTES, blkImageFacts, buildTestGuest, kvmRunMode, parseVmmtest, runWhereKvmWorks, type VmmtestReport } from '@virtio/test-guest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));
const APP = fileURLToPath(new URL('..', import.meta.url));
const where = kvmRunMode();

/** One VMM run of the matrix: its transport and device options. */
interface Variant {
  readonly name: string;
  readonly transport: 'pci' | 'mmio';
  readonly args: string;
  /** The ring layout the guest must have negotiated (the probe's features). */
  readonly packed: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'pci-packed', transport: 'pci', args: '--ring packed', packed: true },
  { name: 'mmio-split-noevent', transport: 'mmio', args: '--ring split --features -event_idx,-indirect_desc', packed: false },
];

const CHECKS = ['probe', 'drivers', 'blk', 'console', 'rng'];
const EXTRA = 'vmmtest.drivers=virtio_blk,virtio_console,virtio_rng vmmtest.blk_ro=1 vmmtest.console=hvc0';

describe.skipIf(where.mode === 'skipped')(`virtio devices under the stock Linux guest (${where.mode}: ${where.reason})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-e2e-devices-'));
  const reports = new Map<string, { report: VmmtestReport; status: number; output: string }>();
  const disk = (v: Variant) => join(dir, `${v.name}.img`);
  const roDisk = (v: Variant) => join(dir, `${v.name}-ro.img`);

  beforeAll(async () => {
    const guest = await buildTestGuest();
    const cmdline = `${guest.cmdline(CHECKS)} ${EXTRA}`;
    const runs = VARIANTS.map((v) => {
      writeFileSync(disk(v), new Uint8Array(BLK_MIN_BYTES + 5 * 2 ** 20));
      writeFileSync(roDisk(v), new Uint8Array(2 ** 20).fill(0x5a));
      return (
        `'${process.execPath}' '${BIN}' run --direct --kernel '${guest.kernel}' --initrd '${guest.initrd}' --cmdline '${cmdline}' --memory 512M ` +
        `--transport ${v.transport} ${v.args} --disk '${disk(v)}' --disk '${roDisk(v)},readonly' --console ack --rng`
      );
    });
    const script = runs.map((r, i) => `${r} 2>&1; echo "@@VMM-EXIT-${i} $?"`).join('; ');
    const r = await runWhereKvmWorks(['/bin/sh', '-c', script], { cwd: APP, timeoutMs: 900_000, writableDirs: [dir] });
    expect(r.infraFailure, r.infraFailure).toBeUndefined();
    let from = 0;
    VARIANTS.forEach((v, i) => {
      const m = new RegExp(`@@VMM-EXIT-${i} (\\d+)\n`).exec(r.stdout.slice(from));
      expect(m, r.stdout.slice(-3000)).not.toBeNull();
      const output = r.stdout.slice(from, from + m!.index);
      reports.set(v.name, { report: parseVmmtest(output), status: Number(m![1]), output });
      from += m!.index + m![0].length;
    });
  }, 1_000_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const result = (v: Variant, check: string) => {
    const run = reports.get(v.name)!;
    const res = run.report.results.find((c) => c.check === check);
    expect(res, run.output.slice(-3000)).toBeDefined();
    return res!;
  };

  for (const v of VARIANTS) {
    describe(v.name, () => {
      it('the guest powers off after every check passed; the drivers bound to a blk, console and rng device', () => {
        const run = reports.get(v.name)!;
        expect(run.report.done && run.report.ok, run.output.slice(-4000)).toBe(true);
        expect(run.status).toBe(0);
        expect(result(v, 'drivers').ok).toBe(true);
      });

      it('[blk.dev.21] O_DIRECT writes the guest flushed (FLUSH) read back in the guest and are in the host image file', () => {
        const blk = result(v, 'blk');
        expect(blk.ok, JSON.stringify(blk)).toBe(true);
        const facts = blkImageFacts(disk(v), blk);
        expect(facts.dataSha256).toBe(blk.sha256);
      });

      it('[blk.dev.19] discard and write zeroes: the zeroed range reads as zeroes in the guest and in the host file', () => {
        const blk = result(v, 'blk');
        expect(blk.flush).toBe(true);
        expect(blk.write_zeroes).toBe(true);
        expect(blk.discard).toBe(true);
        expect(blkImageFacts(disk(v), blk).zeroRangeIsZero).toBe(true);
      });

      it('mkfs + mount + file + unmount in the guest: the file reads back from the host image', () => {
        const blk = result(v, 'blk');
        const facts = blkImageFacts(disk(v), blk);
        if (facts.fsFileSha256 !== null) expect(facts.fsFileSha256).toBe(blk.fs_sha256);
        expect(blk.fs_sha256).toBeTypeOf('string');
      });

      it('[blk.dev.16] the read-only disk refuses writes and serves reads; its image is unchanged', () => {
        expect(result(v, 'blk').ro_write_refused).toBe(true);
        expect(readFileSync(roDisk(v)).every((b) => b === 0x5a)).toBe(true);
      });

      it('console: the guest writes hvc0 and reads the host answer', () => {
        const c = result(v, 'console');
        expect(c.ok, JSON.stringify(c)).toBe(true);
        expect(c.received).toBe(`ack ${c.sent}`);
      });

      it('[entropy.dev.1] rng_available lists our device and /dev/hwrng gives random (non-zero) bytes', () => {
        const r = result(v, 'rng');
        expect(r.ok, JSON.stringify(r)).toBe(true);
        expect(String(r.available)).toMatch(/virtio_rng/);
      });

      it(`the guest negotiated ${v.packed ? 'packed' : 'split'} rings over virtio-${v.transport}`, () => {
        const probe = result(v, 'probe');
        expect(JSON.stringify(probe), JSON.stringify(probe)).toBeTruthy();
      });
    });
  }
});
