// The I/O benchmark's figures: read from fio's and iperf3's JSON documents (as the guest checks
// of io-checks.ts report them) and printed side by side with ratios.

/** One fio job's read figures. */
export interface FioFigures {
  readonly job: string;
  /** Read operations per second. */
  readonly iops: number;
  /** Read bandwidth, bytes per second. */
  readonly bytesPerSecond: number;
  /** Median and 99th percentile completion latency, microseconds (undefined without percentiles). */
  readonly p50Us?: number;
  readonly p99Us?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/**
 * The read figures of every job in a fio `--output-format=json` document.
 * @throws Error when the document has no `jobs` array, a job failed (`error` ≠ 0) or lacks read figures.
 */
export function parseFio(doc: unknown): FioFigures[] {
  const jobs = obj(doc)?.jobs;
  if (!Array.isArray(jobs)) throw new Error('fio JSON has no jobs');
  return jobs.map((j: unknown) => {
    const job = obj(j);
    const name = typeof job?.jobname === 'string' ? job.jobname : '?';
    if (job?.error !== 0) throw new Error(`fio job ${name} failed with error ${String(job?.error)}`);
    const read = obj(job.read);
    const iops = num(read?.iops);
    const bytesPerSecond = num(read?.bw_bytes);
    if (iops === undefined || bytesPerSecond === undefined) throw new Error(`fio job ${name} has no read iops/bw_bytes`);
    const pct = obj(obj(read?.clat_ns)?.percentile);
    const us = (key: string): number | undefined => {
      const ns = num(pct?.[key]);
      return ns === undefined ? undefined : ns / 1000;
    };
    return { job: name, iops, bytesPerSecond, p50Us: us('50.000000'), p99Us: us('99.000000') };
  });
}

/**
 * Receiver-side TCP throughput, bits per second, of an iperf3 `-J` document (`end.sum_received`).
 * @throws Error naming iperf3's own error, or when the figure is missing.
 */
export function parseIperf(doc: unknown): number {
  const d = obj(doc);
  if (typeof d?.error === 'string') throw new Error(`iperf3: ${d.error}`);
  const bps = num(obj(obj(d?.end)?.sum_received)?.bits_per_second);
  if (bps === undefined) throw new Error('iperf3 JSON has no end.sum_received.bits_per_second');
  return bps;
}

/** The figures of one VMM's run; a figure is undefined when its check failed. */
export interface IoFigures {
  readonly fio: readonly FioFigures[];
  readonly uploadBps?: number;
  readonly downloadBps?: number;
  /** Why figures are missing (check errors, parse errors). */
  readonly errors: readonly string[];
}

/** A check result as parseVmmtest gives it. */
type CheckResult = { readonly check: string; readonly ok: boolean; readonly [key: string]: unknown };

/** The figures of one bench guest run from its `fio` and `iperf` check results. */
export function ioFigures(results: readonly CheckResult[]): IoFigures {
  const errors: string[] = [];
  const attempt = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const fio = results.find((r) => r.check === 'fio');
  const iperf = results.find((r) => r.check === 'iperf');
  for (const [name, r] of [['fio', fio], ['iperf', iperf]] as const) {
    if (!r) errors.push(`${name}: no result`);
    else if (!r.ok) errors.push(`${name}: ${String(r.error)}`);
  }
  return {
    fio: fio?.fio ? (attempt('fio', () => parseFio(fio.fio)) ?? []) : [],
    uploadBps: iperf?.upload ? attempt('iperf upload', () => parseIperf(iperf.upload)) : undefined,
    downloadBps: iperf?.download ? attempt('iperf download', () => parseIperf(iperf.download)) : undefined,
    errors,
  };
}

/** One printed row: a label, its unit and each VMM's figure. */
export interface IoRow {
  readonly label: string;
  readonly ours?: number;
  readonly qemu?: number;
}

/** The rows of the bench table: IOPS per random-read job, MB/s (10^6 bytes) per sequential job, TCP Mbit/s each way. */
export function ioRows(ours: IoFigures, qemu: IoFigures): IoRow[] {
  const jobs = [...new Set([...ours.fio, ...qemu.fio].map((f) => f.job))];
  const fio = (x: IoFigures, job: string) => x.fio.find((f) => f.job === job);
  const rows: IoRow[] = [];
  for (const job of jobs) {
    const seq = !job.startsWith('randread');
    const value = (f: FioFigures | undefined) => (f === undefined ? undefined : seq ? f.bytesPerSecond / 1e6 : f.iops);
    rows.push({ label: `${job} ${seq ? 'MB/s' : 'IOPS'}`, ours: value(fio(ours, job)), qemu: value(fio(qemu, job)) });
    if (!seq) rows.push({ label: `${job} p50 µs`, ours: fio(ours, job)?.p50Us, qemu: fio(qemu, job)?.p50Us });
  }
  const mbit = (b: number | undefined) => (b === undefined ? undefined : b / 1e6);
  rows.push({ label: 'TCP guest->host Mbit/s', ours: mbit(ours.uploadBps), qemu: mbit(qemu.uploadBps) });
  rows.push({ label: 'TCP host->guest Mbit/s', ours: mbit(ours.downloadBps), qemu: mbit(qemu.downloadBps) });
  return rows;
}

/** ours / qemu as `0.53x`, or `-` when either is missing or qemu's is 0. */
export function ratio(row: IoRow): string {
  return row.ours === undefined || row.qemu === undefined || row.qemu === 0 ? '-' : `${(row.ours / row.qemu).toFixed(2)}x`;
}

/** The table: one line per row (figure per VMM and the ratio), then one line of all ratios. */
export function formatIoTable(rows: readonly IoRow[]): string[] {
  const fig = (n: number | undefined) => (n === undefined ? '-' : n >= 100 ? n.toFixed(0) : n.toFixed(1)).padStart(12);
  const lines = [`${'figure'.padEnd(28)}${'virtio-vmm'.padStart(12)}${'qemu'.padStart(12)}   ours/qemu`];
  for (const r of rows) lines.push(`${r.label.padEnd(28)}${fig(r.ours)}${fig(r.qemu)}   ${ratio(r)}`);
  lines.push(`ratios virtio-vmm / qemu: ${rows.map((r) => `${r.label.replace(/ \S+$/, '')} ${ratio(r)}`).join(', ')}`);
  return lines;
}
