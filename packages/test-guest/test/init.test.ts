import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootCheck, builtinChecks, probeCheck, type CheckDefinition } from '../src/checks/index.js';
import { testGuestInit } from '../src/guest/init.js';
import { parseVmmtest, probedDevices } from '../src/guest/vmmtest.js';
import { L1_INIT } from '../src/rig/l1.js';

const sys = mkdtempSync(join(tmpdir(), 'tg-sysfs-'));
afterAll(() => rmSync(sys, { recursive: true, force: true }));

/** A fake /sys/bus/virtio/devices/<name> entry. */
function device(name: string, id: string, features: string, driver?: string): void {
  const d = join(sys, 'bus/virtio/devices', name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'device'), `${id}\n`);
  writeFileSync(join(d, 'vendor'), '0x1af4\n');
  writeFileSync(join(d, 'status'), '0x0000000f\n');
  writeFileSync(join(d, 'features'), `${features}\n`);
  if (driver) {
    mkdirSync(join(sys, 'bus/virtio/drivers', driver), { recursive: true });
    symlinkSync(join(sys, 'bus/virtio/drivers', driver), join(d, 'driver'));
  }
}

/** Runs one check's function with the /init helpers in the host's sh. */
function runCheck(check: CheckDefinition, env: Record<string, string>): string {
  const script = testGuestInit([check]);
  const helpers = script.slice(script.indexOf('VMMTEST_OK=true'), script.indexOf('VMMTEST_CHECK=modules'));
  return execFileSync('sh', ['-c', `${helpers}\nVMMTEST_CHECK=${check.name}\ncheck_${check.name}\necho "VMMTEST {\\"done\\":true,\\"ok\\":$VMMTEST_OK}"`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
}

describe('test guest /init', () => {
  it('is valid sh with one function and one dispatch case per check', () => {
    const script = testGuestInit(builtinChecks);
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
    for (const c of builtinChecks) {
      expect(script).toContain(`check_${c.name}() {`);
      expect(script).toContain(`    ${c.name}) check_${c.name} ;;`);
    }
    expect(script).toMatch(/vmmtest=\*\)/);
    expect(script).toMatch(/poweroff -f\n$/);
  });

  it('takes pluggable checks and refuses bad or duplicate names', () => {
    const extra: CheckDefinition = { name: 'blk_rw', description: 'x', shell: 'vmmtest_result true' };
    expect(testGuestInit([...builtinChecks, extra])).toContain('blk_rw) check_blk_rw ;;');
    expect(() => testGuestInit([{ ...extra, name: 'bad-name' }])).toThrow(/invalid check name/);
    expect(() => testGuestInit([bootCheck, bootCheck])).toThrow(/defined twice/);
  });

  it('boot reports the uptime read when /init began', () => {
    const report = parseVmmtest(runCheck(bootCheck, { VMMTEST_UPTIME: '1.23' }));
    expect(report.results).toEqual([{ check: 'boot', ok: true, uptime: 1.23 }]);
    expect(report).toMatchObject({ done: true, ok: true });
  });

  it('probe lists each virtio device with its ID, driver and negotiated feature bits', () => {
    device('virtio0', '0x0002', `${'0'.repeat(9)}1${'0'.repeat(22)}1${'0'.repeat(31)}`, 'virtio_blk');
    device('virtio1', '0x0001', '1'.padEnd(64, '0'), 'virtio_net');
    const report = parseVmmtest(runCheck(probeCheck, { VMMTEST_SYS: sys }));
    expect(report.ok).toBe(true);
    expect(probedDevices(report)).toEqual([
      { name: 'virtio0', device: 2, vendor: 0x1af4, driver: 'virtio_blk', status: 15, features: [9, 32] },
      { name: 'virtio1', device: 1, vendor: 0x1af4, driver: 'virtio_net', status: 15, features: [0] },
    ]);
  });

  it('probe fails when a device has no driver bound', () => {
    device('virtio2', '0x0004', '0'.repeat(64));
    const report = parseVmmtest(runCheck(probeCheck, { VMMTEST_SYS: sys }));
    expect(report.results[0].ok).toBe(false);
    expect(report.ok).toBe(false);
    expect(probedDevices(report).find((d) => d.name === 'virtio2')).toMatchObject({ device: 4, driver: '', features: [] });
  });
});

describe('rig L1 /init', () => {
  it('is valid sh that mounts the host root read-only, runs the job in a chroot and records its status', () => {
    expect(spawnSync('sh', ['-n', '-c', L1_INIT]).status).toBe(0);
    expect(L1_INIT).toMatch(/mount -t 9p -o \$RIG_9P,ro,cache=loose hostroot \/host/);
    expect(L1_INIT).toContain('chroot /host /bin/sh -c "$(cat /ctl/job.sh)"');
    expect(L1_INIT).toContain('echo $RIG_STATUS > /ctl/status');
  });
});
