// End-to-end: real KVM, directly on a host with hardware virtualization or inside the nested
// rig here. One file so the runs are sequential; each is bounded by a generous timeout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probedDevices } from '../src/guest/vmmtest.js';
import { qemuProbe } from '../src/qemu/probe.js';
import { kvmRunMode, runWhereKvmWorks } from '../src/run/where.js';

const where = kvmRunMode();
const pkg = fileURLToPath(new URL('..', import.meta.url));
const MINUTES = 60_000;

describe.skipIf(where.mode === 'skipped')(`real KVM (${where.mode}: ${where.reason})`, () => {
  // One rig boot for both: node and koffi/KVM work inside, and a failing status comes back.
  it('runs node -e and a koffi script that creates a VM, and carries a failing status, stdout and stderr back', async () => {
    // /proc must be the guest's own proc (it shows svm/vmx there), so nested callers run direct.
    const node = `node -e "console.log(process.version, /\\b(svm|vmx)\\b/.test(require('fs').readFileSync('/proc/cpuinfo', 'utf8')))"`;
    // A checkout may live under the host's /tmp (CI clones anywhere): what the host wrote
    // there is visible in the run, and /tmp stays writable.
    const hostTmp = mkdtempSync(join(tmpdir(), 'rig-e2e-'));
    writeFileSync(join(hostTmp, 'from-host'), 'host-file\n');
    const tmpCheck = `cat ${hostTmp}/from-host && echo in-run > ${hostTmp}/scratch && cat ${hostTmp}/scratch`;
    const script = `${node} && ${tmpCheck} && node test/fixtures/kvm-create-vm.mjs && echo to-stderr >&2 && exit 7`;
    const r = await runWhereKvmWorks(['sh', '-c', script], { cwd: pkg, timeoutMs: 5 * MINUTES });
    expect(r.infraFailure).toBeUndefined();
    expect(r.mode).toBe(where.mode);
    const [version, fromHost, scratch, kvm] = r.stdout.trim().split('\n');
    expect(version).toBe(`${process.version} true`);
    expect([fromHost, scratch]).toEqual(['host-file', 'in-run']);
    expect(JSON.parse(kvm)).toMatchObject({ api: 12 });
    expect(JSON.parse(kvm).vm).toBeGreaterThanOrEqual(0);
    expect(r).toMatchObject({ status: 7, stderr: 'to-stderr\n', timedOut: false });
  }, 5 * MINUTES);

  it('kills a hanging command at the timeout and reports it as such', async () => {
    const r = await runWhereKvmWorks(['sleep', '1000'], { timeoutMs: 40_000 });
    expect(r.timedOut).toBe(true);
    expect(r.status).toBeNull();
    expect(r.infraFailure).toMatch(/^timed out after 40 s/);
    if (where.mode === 'rig') expect(r.infraFailure).toMatch(/the command was still running/);
  }, 2 * MINUTES);

  it('boots the test guest under QEMU+KVM: probe lists virtio blk, net, console and rng bound to their drivers', async () => {
    const { run, report } = await qemuProbe({ checks: ['boot', 'probe', 'nosuch'], timeoutMs: 5 * MINUTES });
    expect(run.infraFailure).toBeUndefined();
    expect(run.status).toBe(0);
    const byId = new Map(probedDevices(report).map((d) => [d.device, d]));
    expect(byId.get(1)).toMatchObject({ driver: 'virtio_net', vendor: 0x1af4, status: 15 });
    expect(byId.get(2)).toMatchObject({ driver: 'virtio_blk', status: 15 });
    expect(byId.get(3)).toMatchObject({ driver: 'virtio_console', status: 15 });
    expect(byId.get(4)).toMatchObject({ driver: 'virtio_rng', status: 15 });
    for (const d of byId.values()) expect(d.features).toContain(32); // VIRTIO_F_VERSION_1
    expect(report.results.find((r) => r.check === 'modules')?.ok).toBe(true);
    expect(report.results.find((r) => r.check === 'boot')?.ok).toBe(true);
    // An unknown check fails and so fails the run's verdict, while the others still ran.
    expect(report.results.find((r) => r.check === 'nosuch')).toMatchObject({ ok: false, error: 'unknown check' });
    expect(report).toMatchObject({ done: true, ok: false });
  }, 5 * MINUTES);
});
