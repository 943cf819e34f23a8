// Rig and test-guest boot figures. Absolute numbers inside the rig are those of an emulated
// CPU (QEMU TCG): compare them only side by side within one rig run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestGuest } from '../src/guest/build.js';
import { qemuGuestArgs, PROBE_DISK_BYTES } from '../src/qemu/probe.js';
import { kvmRunMode, runWhereKvmWorks } from '../src/run/where.js';

const RUNS = 3;
const CMD_MARK = 'virtio-bench-command-started';

/** Boots the guest `runs` times inside the rig (or directly) and prints ms to its boot line. */
const L2_TIMER = `
const { spawn } = require('node:child_process');
const [qemu, ...args] = JSON.parse(process.argv[1]);
const runs = Number(process.argv[2]);
(async () => {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    times.push(await new Promise((resolve) => {
      const p = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '', at = null;
      p.stdout.on('data', (b) => {
        out += b;
        if (at === null && out.includes('"check":"boot"')) at = Number(process.hrtime.bigint() - t0) / 1e6;
      });
      p.on('close', () => resolve(at));
    }));
  }
  console.log('BENCH ' + JSON.stringify(times));
})();
`;

function stats(xs: readonly number[]): string {
  if (xs.length === 0) return 'no data';
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(0)} ms, median ${s[Math.floor(s.length / 2)].toFixed(0)} ms (n=${s.length})`;
}

/** Prints the rig's L1 boot and command-start times and the test guest's time to /init. */
export async function runBench(): Promise<void> {
  const where = kvmRunMode();
  console.log(`where: ${where.mode}: ${where.reason}`);
  if (where.mode === 'skipped') return;
  if (where.mode === 'rig') {
    const init: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = Date.now();
      let startAt: number | undefined;
      let seen = '';
      const onConsole = (chunk: string): void => {
        seen += chunk;
        if (startAt === undefined && seen.includes(CMD_MARK)) startAt = Date.now() - t0;
      };
      const r = await runWhereKvmWorks(['sh', '-c', `echo ${CMD_MARK} >/dev/console`], { timeoutMs: 120_000, onConsole });
      if (r.infraFailure || r.status !== 0) {
        console.log(`rig run ${i + 1} failed: ${r.infraFailure ?? `status ${r.status}`}`);
        continue;
      }
      if (r.timings?.l1InitMs !== undefined) init.push(r.timings.l1InitMs);
      if (startAt !== undefined) start.push(startAt);
      console.log(`rig run ${i + 1}: L1 /init ${r.timings?.l1InitMs} ms, command start ${startAt} ms, total ${Date.now() - t0} ms`);
    }
    console.log(`L1 launch -> /init:           ${stats(init)}`);
    console.log(`L1 launch -> command start:   ${stats(start)}`);
  }
  const guest = await buildTestGuest();
  const dir = mkdtempSync(join(tmpdir(), 'virtio-bench-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, new Uint8Array(PROBE_DISK_BYTES));
    const argv = ['qemu-system-x86_64', ...qemuGuestArgs(guest, ['boot'], disk)];
    const r = await runWhereKvmWorks([process.execPath, '-e', L2_TIMER, JSON.stringify(argv), String(RUNS)], {
      timeoutMs: 600_000,
      writableDirs: [dir],
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH '));
    if (!line) {
      console.log(`test guest boot run failed: ${r.infraFailure ?? `status ${r.status}`} ${r.stderr.trim()}`);
      return;
    }
    const times = (JSON.parse(line.slice(6)) as (number | null)[]).filter((t): t is number => t !== null);
    console.log(`QEMU+KVM ${where.mode === 'rig' ? 'in the rig ' : ''}launch -> test guest /init: ${stats(times)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
