// Runs inside the environment where KVM works (directly, or in the nested rig's L1): makes the
// raw disk image, then boots the bench guest once under virtio-vmm and once under QEMU+KVM,
// each with the same image, a virtio NIC on the same TAP device and an iperf3 server on the
// TAP's host side, and prints one `BENCHIO {json}` line per VMM with the guest's check results.
// Usage: node --import tsx bench/io-measure.ts CONFIG.json (see IoMeasureConfig, written by io.ts).
import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseVmmtest } from '@virtio/test-guest';
import type { IoMeasureConfig } from './io-config.js';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as IoMeasureConfig;
const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmm-bench-io-'));
const disk = join(dir, 'disk.img');

/** The image: `diskBytes` of pseudo-random data (one random MiB repeated), no holes. */
function makeImage(): void {
  const chunk = randomFillSync(new Uint8Array(1 << 20));
  const fd = openSync(disk, 'w');
  try {
    for (let off = 0; off < config.diskBytes; off += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, config.diskBytes - off), off);
  } finally {
    closeSync(fd);
  }
}

const memory = `${config.memoryMiB}M`;
const vmms: Record<string, string[]> = {
  'virtio-vmm': [process.execPath, BIN, 'run', '--direct', '--kernel', config.kernel, '--initrd', config.initrd, '--cmdline', config.cmdline, '--memory', memory, '--cpus', '1', '--ring', 'split', '--disk', disk, '--net', `tap=${config.tap}`],
  qemu: [
    ...['qemu-system-x86_64', '-enable-kvm', '-cpu', 'host', '-smp', '1', '-m', memory, '-machine', 'pc', '-nographic', '-nodefaults', '-serial', 'stdio', '-no-reboot'],
    ...['-kernel', config.kernel, '-initrd', config.initrd, '-append', config.cmdline],
    ...['-drive', `file=${disk.replace(/,/g, ',,')},format=raw,if=none,id=d0,cache=writeback,aio=threads`, '-device', 'virtio-blk-pci,drive=d0'],
    ...['-netdev', `tap,id=n0,ifname=${config.tap},script=no,downscript=no,vhost=off`, '-device', 'virtio-net-pci,netdev=n0'],
  ],
};

/** Runs one VMM to its exit (killed after `timeoutMs`); resolves its console output and status. */
function boot(argv: string[]): Promise<{ status: number | null; signal: string | null; ms: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), config.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('latin1')).slice(-2000)));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, ms: performance.now() - t0, out, err });
    });
  });
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'inherit' });

try {
  makeImage();
  for (const [vmm, argv] of Object.entries(vmms)) {
    ip('tuntap', 'add', 'dev', config.tap, 'mode', 'tap');
    ip('addr', 'add', `${config.hostAddress}/24`, 'dev', config.tap);
    ip('link', 'set', config.tap, 'up');
    const server = spawn(config.iperf3.executable, ['-s', '-B', config.hostAddress, '-p', String(config.iperfPort)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LD_LIBRARY_PATH: config.iperf3.libraryDirs.join(':') },
    });
    let serverErr = '';
    server.stderr.on('data', (d: Buffer) => (serverErr = (serverErr + d.toString('latin1')).slice(-1000)));
    try {
      const r = await boot(argv);
      const report = parseVmmtest(r.out);
      const tail = r.out.split('\n').filter((l) => !l.startsWith('VMMTEST ')).slice(-15).join('\n');
      console.log(`BENCHIO ${JSON.stringify({ vmm, status: r.status, signal: r.signal, ms: r.ms, done: report.done, results: report.results, consoleTail: tail, stderrTail: r.err.trim().split('\n').slice(-5).join('\n'), iperfServerStderr: serverErr.trim() })}`);
    } finally {
      server.kill();
      ip('link', 'del', config.tap);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
