// Boot benchmark: virtio-vmm beside QEMU+KVM booting the same stock kernel and initramfs,
// side by side in the same run (inside the nested rig where this host's KVM cannot run a
// stock kernel, so only the ratio is meaningful there). Prints min/median per VMM and ratios.
// Run: node --import tsx bench/index.ts [runs]   (from apps/vmm, TSX_TSCONFIG_PATH=tsconfig.json)
import { fileURLToPath } from 'node:url';
import { buildTestGuest, runWhereKvmWorks } from '@virtio/test-guest';

const runs = Number(process.argv[2] ?? 3);
const guest = await buildTestGuest();
const measure = fileURLToPath(new URL('./measure.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
const argv = [process.execPath, '--import', import.meta.resolve('tsx'), measure, guest.kernel, guest.initrd, guest.cmdline(['boot']), String(runs)];
const r = await runWhereKvmWorks(argv, { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { TSX_TSCONFIG_PATH: tsconfig }, timeoutMs: 1_800_000 });
console.log(`where: ${r.mode} (${r.reason})`);
if (r.mode === 'skipped' || r.infraFailure) {
  console.log(r.infraFailure ?? 'skipped');
  process.exit(r.mode === 'skipped' ? 0 : 1);
}

interface Boot {
  vmm: string;
  firstOutputMs?: number;
  firstVmmtestMs?: number;
  exitMs: number;
  ok: boolean;
  peakRssKiB: number;
  stderrTail?: string;
}
const boots: Boot[] = r.stdout.split('\n').filter((l) => l.startsWith('BENCH ')).map((l) => JSON.parse(l.slice(6)));
for (const b of boots.filter((x) => !x.ok)) console.log(`failed boot (${b.vmm}): ${b.stderrTail ?? ''}`);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
};
const rows: Record<string, { output: { min: number; median: number }; first: { min: number; median: number }; exit: { min: number; median: number }; rss: { min: number; median: number }; ok: string }> = {};
for (const name of ['virtio-vmm', 'qemu']) {
  const b = boots.filter((x) => x.vmm === name);
  if (b.length === 0) continue;
  rows[name] = {
    output: stats(b.map((x) => x.firstOutputMs ?? NaN)),
    first: stats(b.map((x) => x.firstVmmtestMs ?? NaN)),
    exit: stats(b.map((x) => x.exitMs)),
    rss: stats(b.map((x) => x.peakRssKiB / 1024)),
    ok: `${b.filter((x) => x.ok).length}/${b.length}`,
  };
}
const f = (n: number) => n.toFixed(0).padStart(7);
console.log(`${runs} boots each, stock ${guest.release} kernel + test initramfs, 512 MiB, 1 vCPU`);
console.log('VMM          first console byte ms   first VMMTEST ms   exit ms            RSS beyond guest RAM MiB   ok    (each min / median)');
for (const [name, x] of Object.entries(rows)) {
  console.log(`${name.padEnd(12)} ${f(x.output.min)} /${f(x.output.median)}    ${f(x.first.min)} /${f(x.first.median)}   ${f(x.exit.min)} /${f(x.exit.median)}   ${f(x.rss.min)} /${f(x.rss.median)}           ${x.ok}`);
}
const a = rows['virtio-vmm'];
const q = rows.qemu;
if (a && q) {
  console.log(`ratio virtio-vmm / qemu (medians): first VMMTEST ${(a.first.median / q.first.median).toFixed(2)}x, exit ${(a.exit.median / q.exit.median).toFixed(2)}x, RSS ${(a.rss.median / q.rss.median).toFixed(2)}x`);
}
