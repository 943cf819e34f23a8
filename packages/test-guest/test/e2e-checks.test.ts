// End-to-end: every device check against QEMU's virtio devices under real KVM (inside the nested
// rig here), in one boot; the host side of each check (disk image, TCP streams, console) is
// compared with what the guest reported. This is the baseline our VMM's runs are held to.
import { describe, expect, it } from 'vitest';
import { consoleReply, DEVICE_CHECKS, EXPECTED_DRIVERS, NET_DEFAULTS, RELOAD_CYCLES } from '../src/checks/index.js';
import { findDebugfs } from '../src/verify/blk.js';
import { qemuRun } from '../src/qemu/run.js';
import { kvmRunMode } from '../src/run/where.js';

const where = kvmRunMode();
const MINUTES = 60_000;

describe.skipIf(where.mode === 'skipped')(`device checks against QEMU+KVM (${where.mode}: ${where.reason})`, () => {
  it('drivers, blk, net, console, rng and reload all pass, and the host side agrees with the guest', async () => {
    const { run, report, peer, blkImage } = await qemuRun({ checks: ['probe', ...DEVICE_CHECKS], timeoutMs: 6 * MINUTES });
    expect(run.infraFailure).toBeUndefined();
    expect(run.status).toBe(0);
    const result = (name: string): Record<string, unknown> => {
      const r = report.results.find((x) => x.check === name);
      expect(r, `${name} result`).toBeDefined();
      return r as Record<string, unknown>;
    };
    for (const name of DEVICE_CHECKS) expect(result(name), name).toMatchObject({ ok: true });
    expect(report).toMatchObject({ done: true, ok: true });

    const drivers = result('drivers').drivers as Record<string, string[]>;
    for (const d of EXPECTED_DRIVERS) expect(drivers[d].length, d).toBeGreaterThan(0);
    expect(drivers.virtio_blk).toHaveLength(2);

    // blk: the image holds what the guest wrote and read back; write-zeroes zeroed; the
    // filesystem file is readable on the host; the read-only disk refused the write.
    const blk = result('blk');
    expect(blk).toMatchObject({ flush: true, discard: true, write_zeroes: true, ro_write_refused: true, error: '' });
    expect(blk.ro_disk).not.toBe('');
    expect(blkImage?.dataSha256).toBe(blk.sha256);
    expect(blkImage?.zeroRangeIsZero).toBe(true);
    expect(blk.fs_sha256).toBe(blk.sha256); // the same pattern went into the file
    if (findDebugfs()) expect(blkImage?.fsFileSha256).toBe(blk.fs_sha256);

    // net: both streams' digests agree on both ends.
    const net = result('net');
    expect(net).toMatchObject({ ping: true, bytes: NET_DEFAULTS.bytes, received_bytes: NET_DEFAULTS.bytes });
    expect(peer?.upload).toEqual({ bytes: NET_DEFAULTS.bytes, sha256: net.sent_sha256 });
    expect(peer?.download).toEqual({ bytes: NET_DEFAULTS.bytes, sha256: net.received_sha256 });

    // console: the host saw the guest's line and the guest read the host's reply.
    const con = result('console');
    expect(peer?.console.received).toContain(con.sent);
    expect(con.received).toBe(consoleReply(con.sent as string));

    expect(result('rng')).toMatchObject({ bytes: 4096, read: 4096, current: expect.stringMatching(/^virtio_rng\.\d+$/) });

    const reload = result('reload').devices as { driver: string; ok: number }[];
    expect(reload.map((d) => d.driver).sort()).toEqual(['virtio_blk', 'virtio_blk', 'virtio_console', 'virtio_net', 'virtio_rng']);
    for (const d of reload) expect(d.ok, d.driver).toBe(RELOAD_CYCLES);
    expect(peer?.exit).toEqual({ code: 0, signal: null });
  }, 7 * MINUTES);
});
