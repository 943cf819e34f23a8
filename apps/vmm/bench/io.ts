// I/O benchmark: fio (4 KiB random reads at QD1 and QD32, 128 KiB sequential reads; O_DIRECT,
// libaio) on a raw image and iperf3 TCP throughput over TAP both ways, in the stock Linux guest
// under virtio-vmm and under QEMU+KVM in the same run (inside the nested rig here: only the
// ratio is meaningful there). fio and iperf3 come from Debian's packages, in a bench guest
// only. Prints figures and ratios, asserts nothing.
// Run: npm run bench:io (from apps/vmm), or node --import tsx bench/io.ts [fio-seconds] [iperf-seconds]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DEBIAN_PROGRAMS, buildTestGuest, DEFAULT_DEBIAN_PROGRAMS, parseVmmtest, resolveDebianProgram, runWhereKvmWorks } from '@virtio/test-guest';
import { FIO_JOBS, fioCheck, IO_BENCH_DEFAULTS, iperfCheck } from './io-checks.js';
import type { IoMeasureConfig } from './io-config.js';
import { formatIoTable, ioFigures, ioRows, type IoFigures } from './io-results.js';

const fioSeconds = Number(process.argv[2] ?? IO_BENCH_DEFAULTS.fioRuntime);
const iperfSeconds = Number(process.argv[3] ?? IO_BENCH_DEFAULTS.iperfTime);
const HOST = '10.0.2.2';
const log = (line: string) => console.log(`  ${line}`);

const guest = await buildTestGuest({ debianPrograms: [...DEFAULT_DEBIAN_PROGRAMS, ...BENCH_DEBIAN_PROGRAMS], checks: [fioCheck, iperfCheck], log });
const iperf3 = await resolveDebianProgram(BENCH_DEBIAN_PROGRAMS.find((p) => p.package === 'iperf3')!, { log });
const params = [
  `vmmtest.fio_runtime=${fioSeconds}`,
  `vmmtest.fio_ramp=${IO_BENCH_DEFAULTS.fioRamp}`,
  `vmmtest.iperf_time=${iperfSeconds}`,
  `vmmtest.iperf_omit=${IO_BENCH_DEFAULTS.iperfOmit}`,
  `vmmtest.iperf_port=${IO_BENCH_DEFAULTS.iperfPort}`,
  `vmmtest.net=10.0.2.15/24,${HOST}`,
];
const config: IoMeasureConfig = {
  kernel: guest.kernel,
  initrd: guest.initrd,
  cmdline: `${guest.cmdline(['fio', 'iperf'])} ${params.join(' ')}`,
  memoryMiB: 1024,
  diskBytes: 256 << 20,
  tap: 'vmmtap0',
  hostAddress: HOST,
  iperfPort: IO_BENCH_DEFAULTS.iperfPort,
  iperf3: { executable: iperf3.executable, libraryDirs: iperf3.libraryDirs },
  timeoutMs: 600_000,
};
const dir = mkdtempSync(join(tmpdir(), 'vmm-bench-io-'));
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
const measure = fileURLToPath(new URL('./io-measure.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
const argv = [process.execPath, '--import', import.meta.resolve('tsx'), measure, join(dir, 'config.json')];
const r = await runWhereKvmWorks(argv, { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { TSX_TSCONFIG_PATH: tsconfig }, timeoutMs: 1_500_000 });
rmSync(dir, { recursive: true, force: true });
console.log(`where: ${r.mode} (${r.reason})`);
if (r.mode === 'skipped' || r.infraFailure) {
  console.log(r.infraFailure ?? 'skipped');
  process.exit(r.mode === 'skipped' ? 0 : 1);
}

interface Run {
  vmm: string;
  status: number | null;
  signal: string | null;
  ms: number;
  done: boolean;
  results: ReturnType<typeof parseVmmtest>['results'];
  consoleTail: string;
  stderrTail: string;
  iperfServerStderr: string;
}
const runs: Run[] = r.stdout.split('\n').filter((l) => l.startsWith('BENCHIO ')).map((l) => JSON.parse(l.slice(8)) as Run);
const figures: Record<string, IoFigures> = {};
for (const name of ['virtio-vmm', 'qemu']) {
  const run = runs.find((x) => x.vmm === name);
  if (!run) {
    figures[name] = { fio: [], errors: ['no run (see the rig output above)'], uploadBps: undefined, downloadBps: undefined };
    continue;
  }
  figures[name] = ioFigures(run.results);
  const errors = [...figures[name].errors, ...(run.done && run.status === 0 ? [] : [`exit status ${run.status ?? run.signal} after ${(run.ms / 1000).toFixed(0)} s${run.done ? '' : ', guest did not finish'}`])];
  for (const e of errors) console.log(`${name}: ${e}`);
  if (errors.length > 0) console.log(`${name} console tail:\n${run.consoleTail}\n${name} stderr tail:\n${run.stderrTail}\niperf3 server stderr: ${run.iperfServerStderr}`);
  else console.log(`${name}: boot + all jobs ${(run.ms / 1000).toFixed(0)} s`);
}
if (runs.length === 0) console.log(r.stdout.slice(-3000), r.stderr.slice(-2000));
const jobs = FIO_JOBS.map((j) => `${j.name} (${j.rw} ${j.bs} iodepth ${j.iodepth})`).join(', ');
console.log(`stock ${guest.release} kernel, 1 vCPU, ${config.memoryMiB} MiB; virtio-blk on a ${config.diskBytes >> 20} MiB raw image (fio ${jobs}; O_DIRECT, libaio, ${fioSeconds} s each after ${IO_BENCH_DEFAULTS.fioRamp} s ramp); virtio-net on TAP, iperf3 ${iperfSeconds} s each way; split rings; QEMU with cache=writeback aio=threads, vhost=off`);
for (const line of formatIoTable(ioRows(figures['virtio-vmm'], figures.qemu))) console.log(line);
