// The I/O benchmark's pure parts: fio and iperf3 JSON (fixtures from Debian's fio 3.33 and
// iperf3 3.12 run on a host) to figures, the table and ratios, and the guest checks' commands.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIO_JOBS, fioCheck, iperfCheck } from '../bench/io-checks.js';
import { formatIoTable, ioFigures, ioRows, parseFio, parseIperf, ratio } from '../bench/io-results.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const fio = fixture('fio-bench.json');
const upload = fixture('iperf3-upload.json');
const download = fixture('iperf3-download.json');

describe('I/O bench: fio and iperf3 JSON', () => {
  it('reads each fio job: IOPS, bytes/s and the p50/p99 completion latency in µs', () => {
    const jobs = parseFio(fio);
    expect(jobs.map((j) => j.job)).toEqual(['randread-4k-qd1', 'seqread-128k']);
    expect(jobs[0]).toEqual({ job: 'randread-4k-qd1', iops: 17452.547453, bytesPerSecond: 71485634, p50Us: 0.564, p99Us: 0.964 });
    expect(jobs[1].bytesPerSecond).toBeGreaterThan(0);
  });

  it('rejects a fio document without jobs, a failed job and a job without read figures', () => {
    expect(() => parseFio({})).toThrow(/no jobs/);
    const jobs = (fio as { jobs: Record<string, unknown>[] }).jobs;
    expect(() => parseFio({ jobs: [{ ...jobs[0], error: 5 }] })).toThrow(/randread-4k-qd1 failed with error 5/);
    expect(() => parseFio({ jobs: [{ ...jobs[0], read: {} }] })).toThrow(/no read/);
  });

  it('reads iperf3 receiver-side bits/s each way and reports iperf3 errors', () => {
    expect(parseIperf(upload)).toBe(23179615519.9437);
    expect(parseIperf(download)).toBe(24338183173.742268);
    expect(() => parseIperf({ start: {}, error: 'unable to connect to server' })).toThrow(/iperf3: unable to connect/);
    expect(() => parseIperf({ end: {} })).toThrow(/sum_received/);
  });

  it('collects one run: check errors and parse errors are listed, the rest of the figures kept', () => {
    const ok = ioFigures([
      { check: 'fio', ok: true, fio },
      { check: 'iperf', ok: true, upload, download },
    ]);
    expect(ok.errors).toEqual([]);
    expect(ok.fio).toHaveLength(2);
    expect(ok.uploadBps).toBe(23179615519.9437);
    const bad = ioFigures([
      { check: 'fio', ok: false, fio: null, error: 'fio: no such device' },
      { check: 'iperf', ok: false, upload, download: null, error: 'download: ' },
    ]);
    expect(bad.errors).toEqual(['fio: fio: no such device', 'iperf: download: ']);
    expect(bad.fio).toEqual([]);
    expect(bad.uploadBps).toBe(23179615519.9437);
    expect(bad.downloadBps).toBeUndefined();
    expect(ioFigures([]).errors).toEqual(['fio: no result', 'iperf: no result']);
  });

  it('prints IOPS for random jobs, MB/s for sequential ones, Mbit/s each way, and ours/qemu beside each', () => {
    const ours = ioFigures([{ check: 'fio', ok: true, fio }, { check: 'iperf', ok: true, upload, download }]);
    const half = { ...ours, fio: ours.fio.map((f) => ({ ...f, iops: f.iops * 2, bytesPerSecond: f.bytesPerSecond * 2 })), uploadBps: undefined };
    const rows = ioRows(ours, half);
    expect(rows.map((r) => r.label)).toEqual(['randread-4k-qd1 IOPS', 'randread-4k-qd1 p50 µs', 'seqread-128k MB/s', 'TCP guest->host Mbit/s', 'TCP host->guest Mbit/s']);
    expect(rows[2].ours).toBeCloseTo(parseFio(fio)[1].bytesPerSecond / 1e6);
    expect(rows.map(ratio)).toEqual(['0.50x', '1.00x', '0.50x', '-', '1.00x']);
    const table = formatIoTable(rows);
    expect(table[1]).toMatch(/^randread-4k-qd1 IOPS\s+17453\s+34905\s+0\.50x$/);
    expect(table.at(-1)).toBe('ratios virtio-vmm / qemu: randread-4k-qd1 0.50x, randread-4k-qd1 p50 1.00x, seqread-128k 0.50x, TCP guest->host -, TCP host->guest 1.00x');
  });
});

describe('I/O bench guest checks', () => {
  it('fio runs every job with O_DIRECT and libaio, read-only, one after another', () => {
    expect(fioCheck.shell).toMatch(/--direct=1 --ioengine=libaio/);
    expect(fioCheck.shell).toMatch(/--readonly/);
    for (const [i, j] of FIO_JOBS.entries()) expect(fioCheck.shell).toContain(`--name=${j.name}${i > 0 ? ' --stonewall' : ''} --rw=${j.rw} --bs=${j.bs} --iodepth=${j.iodepth}`);
    expect(FIO_JOBS.map((j) => [j.bs, j.iodepth])).toEqual([['4k', 1], ['4k', 32], ['128k', 16]]);
  });

  it('iperf measures both directions (-R for the download) with JSON output', () => {
    expect(iperfCheck.shell).toMatch(/iperf3 -c "\$peer" -p "\$port" -t "\$secs" -O "\$omit" -i 0 -J\n/);
    expect(iperfCheck.shell).toMatch(/iperf3 -c "\$peer" -p "\$port" -t "\$secs" -O "\$omit" -i 0 -J -R\n/);
  });
});
