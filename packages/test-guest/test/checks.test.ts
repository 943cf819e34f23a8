// The device checks' shell run in the host's sh against fixture sysfs trees: the logic that
// does not need a device (parameters, discovery, error reporting, the layout the host reads back).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BLK_LAYOUT,
  BLK_MIN_BYTES,
  blkCheck,
  consoleCheck,
  driversCheck,
  netCheck,
  reloadCheck,
  rngCheck,
  type CheckDefinition,
} from '../src/checks/index.js';
import { testGuestInit } from '../src/guest/init.js';
import { parseVmmtest, type VmmtestCheckResult } from '../src/guest/vmmtest.js';
import { RUN_DISK_BYTES } from '../src/qemu/run.js';

const root = mkdtempSync(join(tmpdir(), 'tg-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs one check with the /init helpers in the host's sh; `cmdline` is its kernel command line. */
function run(check: CheckDefinition, sys: string, cmdline = '', extra = ''): VmmtestCheckResult {
  const script = testGuestInit([check]);
  const helpers = script.slice(script.indexOf('VMMTEST_OK=true'), script.indexOf('VMMTEST_CHECK=modules'));
  const cmdFile = join(root, `cmdline-${check.name}`);
  writeFileSync(cmdFile, `console=ttyS0 ${cmdline}\n`);
  const out = execFileSync('sh', ['-c', `${helpers}\n${extra}\nVMMTEST_ERR=""\nVMMTEST_CHECK=${check.name}\ncheck_${check.name}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, VMMTEST_SYS: sys, VMMTEST_CMDLINE: cmdFile },
  });
  const { results } = parseVmmtest(out);
  expect(results).toHaveLength(1);
  return results[0];
}

/** A fixture sysfs with virtio devices bound to the named drivers. */
function sysfs(name: string, bound: Record<string, string>): string {
  const sys = join(root, name);
  for (const [dev, drv] of Object.entries(bound)) {
    const d = join(sys, 'bus/virtio/devices', dev);
    const dr = join(sys, 'bus/virtio/drivers', drv);
    mkdirSync(d, { recursive: true });
    mkdirSync(dr, { recursive: true });
    symlinkSync(dr, join(d, 'driver'));
    symlinkSync(d, join(dr, dev));
    writeFileSync(join(dr, 'bind'), '');
    writeFileSync(join(dr, 'unbind'), '');
  }
  return sys;
}

describe('check helpers', () => {
  it('vmmtest_param reads vmmtest.NAME= from the command line, else the default', () => {
    const probe: CheckDefinition = {
      name: 'param',
      description: 'x',
      shell: 'vmmtest_result true "\\"a\\":\\"$(vmmtest_param a dflt)\\",\\"b\\":\\"$(vmmtest_param b dflt)\\",\\"ab\\":\\"$(vmmtest_param ab none)\\""',
    };
    expect(run(probe, root, 'vmmtest=param vmmtest.b=10.0.2.15/24,10.0.2.2 vmmtest.abc=no')).toMatchObject({ a: 'dflt', b: '10.0.2.15/24,10.0.2.2', ab: 'none' });
  });

  it('vmmtest_try records the first failing step with JSON-safe stderr and skips the rest', () => {
    const probe: CheckDefinition = {
      name: 'try',
      description: 'x',
      shell: `vmmtest_try one true
vmmtest_try two sh -c 'printf "bad \\\\"quote\\\\" \\\\\\\\ x\\nline2" >&2; exit 3'
vmmtest_try three touch ${root}/three
vmmtest_result false "\\"error\\":\\"$VMMTEST_ERR\\",\\"three\\":$([ -e ${root}/three ] && echo true || echo false)"`,
    };
    expect(run(probe, root)).toMatchObject({ ok: false, error: 'two: bad  quote    x line2', three: false });
  });
});

describe('drivers', () => {
  it('drivers: lists each driver with its bound devices and passes when the expected ones have devices', () => {
    const sys = sysfs('drivers-all', { virtio0: 'virtio_net', virtio1: 'virtio_blk', virtio2: 'virtio_blk', virtio3: 'virtio_console', virtio4: 'virtio_rng' });
    mkdirSync(join(sys, 'bus/virtio/drivers/virtio_rproc_serial'));
    expect(run(driversCheck, sys)).toEqual({
      check: 'drivers',
      ok: true,
      drivers: { virtio_blk: ['virtio1', 'virtio2'], virtio_console: ['virtio3'], virtio_net: ['virtio0'], virtio_rng: ['virtio4'], virtio_rproc_serial: [] },
      missing: [],
    });
  });

  it('drivers: fails naming an expected driver without devices; vmmtest.drivers= chooses the expected ones', () => {
    const sys = sysfs('drivers-some', { virtio0: 'virtio_blk' });
    expect(run(driversCheck, sys)).toMatchObject({ ok: false, missing: ['virtio_net', 'virtio_console', 'virtio_rng'] });
    expect(run(driversCheck, sys, 'vmmtest.drivers=virtio_blk')).toMatchObject({ ok: true, missing: [] });
  });
});

describe('reload', () => {
  it('reload: fails a device that is still bound after writing its name to unbind', () => {
    const sys = sysfs('reload', { virtio0: 'virtio_rng' });
    expect(run(reloadCheck, sys, 'vmmtest.reload=3')).toEqual({
      check: 'reload',
      ok: false,
      cycles: 3,
      devices: [{ name: 'virtio0', driver: 'virtio_rng', ok: 0, error: 'still bound after unbind in cycle 1' }],
    });
  });
});

describe('device checks without their device fail with the step that found nothing', () => {
  const empty = sysfs('empty', {});
  it('blk: no writable virtio disk', () => {
    expect(run(blkCheck, empty)).toMatchObject({ ok: false, disk: '', error: 'find: no writable virtio disk' });
  });
  it('net: no virtio_net interface', () => {
    expect(run(netCheck, empty)).toMatchObject({ ok: false, iface: '', ping: false, address: '10.0.2.15/24', peer: '10.0.2.2', error: 'find: no virtio_net interface' });
    expect(run(netCheck, empty, 'vmmtest.net=192.168.7.2/24,192.168.7.1 vmmtest.net_bytes=131072')).toMatchObject({ address: '192.168.7.2/24', peer: '192.168.7.1', bytes: 131072 });
  });
  it('rng: no virtio_rng in rng_available', () => {
    mkdirSync(join(empty, 'class/misc/hw_random'), { recursive: true });
    writeFileSync(join(empty, 'class/misc/hw_random/rng_available'), 'tpm-rng-0 \n');
    expect(run(rngCheck, empty)).toMatchObject({ ok: false, available: 'tpm-rng-0 ', error: 'find: no virtio_rng in rng_available' });
  });
  it('console: no such console device', () => {
    expect(run(consoleCheck, empty, 'vmmtest.console=nosuch0')).toMatchObject({ ok: false, device: '/dev/nosuch0', error: 'open: no character device /dev/nosuch0' });
  });
});

describe('blk layout', () => {
  it('keeps the filesystem and the discard, write-zeroes and data ranges apart, aligned and on the disk', () => {
    const ranges = [{ offset: 0, bytes: BLK_LAYOUT.fsBytes }, BLK_LAYOUT.discard, BLK_LAYOUT.writeZeroes, BLK_LAYOUT.data].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].offset).toBeGreaterThanOrEqual(ranges[i - 1].offset + ranges[i - 1].bytes);
    for (const r of ranges) expect([r.offset % 4096, r.bytes % 4096]).toEqual([0, 0]);
    const end = ranges.at(-1)!;
    expect(end.offset + end.bytes).toBeLessThanOrEqual(BLK_MIN_BYTES);
    expect(BLK_MIN_BYTES).toBeLessThanOrEqual(RUN_DISK_BYTES);
    expect(blkCheck.shell).toContain(`seek=${BLK_LAYOUT.data.offset / 4096} oflag=direct`);
    expect(blkCheck.shell).toContain(`-z -o ${BLK_LAYOUT.writeZeroes.offset} -l ${BLK_LAYOUT.writeZeroes.bytes}`);
  });
});
