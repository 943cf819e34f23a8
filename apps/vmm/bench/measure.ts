// Runs inside the environment where KVM works (directly or in the nested rig): boots the test
// guest N times under virtio-vmm and under QEMU+KVM alternately and prints one JSON line per
// boot: ms from launch to the first VMMTEST line and to exit, and the peak resident memory
// beyond guest RAM (RssAnon + RssFile; guest RAM is shared memory in both VMMs), and when the
// first console byte arrived (the kernel's decompressor: VMM start-up cost).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [kernel, initrd, cmdline, runsText] = process.argv.slice(2);
// The bin as users run it: the prebuilt bundle (`npm run bench` brings it up to date on the host first).
const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));

const vmm = [process.execPath, BIN, 'run', '--direct', '--kernel', kernel, '--initrd', initrd, '--cmdline', cmdline, '--memory', '512M', '--cpus', '1'];
const qemu = ['qemu-system-x86_64', '-enable-kvm', '-cpu', 'host', '-smp', '1', '-m', '512M', '-object', 'memory-backend-memfd,id=ram,size=512M', '-machine', 'pc,memory-backend=ram', '-nographic', '-nodefaults', '-serial', 'stdio', '-no-reboot', '-nic', 'none', '-kernel', kernel, '-initrd', initrd, '-append', cmdline];

/** RssAnon + RssFile of a process and its threads, in KiB (0 once it is gone). */
function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return kib('RssAnon') + kib('RssFile');
  } catch {
    return 0;
  }
}

function boot(name: string, argv: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let firstMs: number | undefined;
    let outputMs: number | undefined;
    let out = '';
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, rssKiB(child.pid!))), 50);
    child.stdout.on('data', (d: Buffer) => {
      outputMs ??= performance.now() - t0;
      out += d.toString('latin1');
      if (firstMs === undefined && out.includes('VMMTEST')) firstMs = performance.now() - t0;
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('latin1')).slice(-300)));
    child.on('exit', (status) => {
      clearInterval(poll);
      resolve({ vmm: name, firstOutputMs: outputMs, firstVmmtestMs: firstMs, exitMs: performance.now() - t0, status, ok: out.includes('"done":true,"ok":true'), peakRssKiB: peak, stderrTail: err.trim().split('\n').pop() ?? '' });
    });
  });
}

for (let i = 0; i < Number(runsText); i++) {
  for (const [name, argv] of [['virtio-vmm', vmm], ['qemu', qemu]] as const) console.log(`BENCH ${JSON.stringify(await boot(name, argv))}`);
}
