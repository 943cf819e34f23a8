// End to end: the stock Debian kernel boots under our VMM to the test guest's /init, which
// prints VMMTEST lines and powers off; the VMM exits 0. Runs directly on hardware KVM, in
// the nested rig where /dev/kvm is kvm-pvm, and is skipped (with the reason) otherwise.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTestGuest, type CheckDefinition, kvmRunMode, parseVmmtest, runWhereKvmWorks } from '@virtio/test-guest';
import { describe, expect, it } from 'vitest';
import { fakeBzImage } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/virtio-vmm.mjs', import.meta.url));
const APP = fileURLToPath(new URL('..', import.meta.url));

function vmm(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('CLI errors (no KVM needed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-cli-'));
  const garbage = join(dir, 'garbage');
  const tiny = join(dir, 'tiny-bzimage');
  writeFileSync(garbage, new Uint8Array(100_000).map((_, i) => (i * 7919) & 0xff));
  writeFileSync(tiny, fakeBzImage());

  it('reports a missing kernel file in one line', () => {
    const r = vmm('run', '--kernel', join(dir, 'nope'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`virtio-vmm: cannot read kernel ${join(dir, 'nope')}: no such file\n`);
  });

  it('reports a file that is not a bzImage in one line', () => {
    const r = vmm('run', '--kernel', garbage);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`virtio-vmm: ${garbage}: not a bzImage: no "HdrS" setup header magic\n`);
  });

  it('reports too little memory, a bad memory size and a bad vCPU count in one line', () => {
    expect(vmm('run', '--kernel', tiny, '--memory', '16M').stderr).toBe('virtio-vmm: memory too small: 16M given, at least 64M is needed\n');
    expect(vmm('run', '--kernel', tiny, '--memory', 'lots').stderr).toMatch(/^virtio-vmm: invalid memory size "lots".*\n$/);
    expect(vmm('run', '--kernel', tiny, '--cpus', '0').stderr).toBe('virtio-vmm: invalid --cpus "0" (expected 1-254)\n');
  });

  it('reports a missing initrd in one line', () => {
    const r = vmm('run', '--kernel', tiny, '--initrd', join(dir, 'none.cpio'));
    expect(r.stderr).toBe(`virtio-vmm: cannot read initrd ${join(dir, 'none.cpio')}: no such file\n`);
    rmSync(dir, { recursive: true, force: true });
  });
});

const where = kvmRunMode();

/** Reports how many CPUs the guest kernel brought online (the APs come up through INIT/SIPI). */
/** Reboots the guest from /init (busybox reboot -f: the kernel resets through the i8042). */
const rebootCheck: CheckDefinition = { name: 'reboot', description: 'reboot -f', shell: 'reboot -f' };

const cpusCheck: CheckDefinition = {
  name: 'cpus',
  description: 'number of online CPUs',
  shell: `vmmtest_result true "\\"online\\":$(grep -c ^processor /proc/cpuinfo)"`,
};

describe(`stock Linux boot (${where.mode}: ${where.reason})`, () => {
  it.skipIf(where.mode === 'skipped')(
    'boots the Debian kernel to /init and powers off with status 0 on 1 and 2 vCPUs; reboot and panic end the VMM',
    async () => {
      const guest = await buildTestGuest({ checks: [cpusCheck, rebootCheck] });
      const cmdline = guest.cmdline(['boot', 'cpus']);
      // One rig boot for all runs: a shell prints each VMM's exit status after its output.
      const vmm = (cpus: number, line: string) => `'${process.execPath}' '${BIN}' run --direct --kernel '${guest.kernel}' --initrd '${guest.initrd}' --cmdline '${line}' --memory 512M --cpus ${cpus}`;
      const runs = [vmm(1, cmdline), vmm(2, cmdline), vmm(1, guest.cmdline(['reboot'])), vmm(1, `${cmdline} rdinit=/no-such-init init=/no-such-init`)];
      const script = runs.map((r, i) => `${r} 2>&1; echo "@@VMM-EXIT-${i} $?"`).join('; ');
      const r = await runWhereKvmWorks(['/bin/sh', '-c', script], { cwd: APP, timeoutMs: 1_500_000 });
      expect(r.infraFailure, r.infraFailure).toBeUndefined();
      const outputs: string[] = [];
      const statuses: number[] = [];
      let from = 0;
      for (let i = 0; i < runs.length; i++) {
        const m = new RegExp(`@@VMM-EXIT-${i} (\\d+)\n`).exec(r.stdout.slice(from));
        expect(m, r.stdout.slice(-3000)).not.toBeNull();
        outputs.push(r.stdout.slice(from, from + m!.index));
        statuses.push(Number(m![1]));
        from += m!.index + m![0].length;
      }
      // 1 and 2 vCPUs: every check passed, the APs came online, poweroff -f gave status 0.
      for (const i of [0, 1]) {
        const report = parseVmmtest(outputs[i]);
        expect(report.done && report.ok, outputs[i].slice(-2000)).toBe(true);
        expect(report.results.find((c) => c.check === 'cpus')?.online, outputs[i].slice(-2000)).toBe(i + 1);
        expect(statuses[i]).toBe(0);
      }
      // reboot -f: status 0 and the documented line.
      expect(outputs[2], outputs[2].slice(-2000)).toMatch(/virtio-vmm: guest rebooted\n/);
      expect(statuses[2]).toBe(0);
      // A kernel panic (no init; panic=-1 resets): status 1 with the panic line.
      expect(outputs[3], outputs[3].slice(-2000)).toMatch(/virtio-vmm: guest Kernel panic - not syncing: .*\n/);
      expect(statuses[3]).toBe(1);
    },
    1_600_000,
  );
});
