import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectKvm } from '../src/kvm/detect.js';

const base = mkdtempSync(join(tmpdir(), 'tg-detect-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const EPYC_FLAGS = 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext lm';

/** A fixture root with /proc/cpuinfo, optionally /dev/kvm and /sys/module/kvm_pvm. */
function host(name: string, o: { flags: string; kvm: boolean; pvm?: boolean }): string {
  const root = join(base, name);
  mkdirSync(join(root, 'proc'), { recursive: true });
  writeFileSync(join(root, 'proc/cpuinfo'), `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: ${o.flags}\n\nprocessor\t: 1\nflags\t\t: ${o.flags}\n`);
  if (o.kvm) {
    mkdirSync(join(root, 'dev'), { recursive: true });
    writeFileSync(join(root, 'dev/kvm'), '');
  }
  if (o.pvm) mkdirSync(join(root, 'sys/module/kvm_pvm'), { recursive: true });
  return root;
}

describe('detectKvm', () => {
  it('reports hardware AMD SVM and Intel VMX', () => {
    expect(detectKvm(host('amd', { flags: `${EPYC_FLAGS} svm npt`, kvm: true }))).toEqual({
      kind: 'hardware',
      reason: '/dev/kvm on hardware AMD SVM (kvm_amd)',
    });
    expect(detectKvm(host('intel', { flags: `${EPYC_FLAGS} vmx ept`, kvm: true })).reason).toMatch(/Intel VMX/);
  });

  it('reports kvm-pvm, which cannot run a stock kernel, even if the CPU shows svm', () => {
    expect(detectKvm(host('pvm', { flags: EPYC_FLAGS, kvm: true, pvm: true })).kind).toBe('pvm');
    expect(detectKvm(host('pvm-svm', { flags: `${EPYC_FLAGS} svm`, kvm: true, pvm: true })).kind).toBe('pvm');
  });

  it('reports none without /dev/kvm or without virtualization flags', () => {
    expect(detectKvm(host('nokvm', { flags: `${EPYC_FLAGS} svm`, kvm: false }))).toEqual({ kind: 'none', reason: 'no /dev/kvm on this host' });
    expect(detectKvm(host('noflags', { flags: EPYC_FLAGS, kvm: true })).kind).toBe('none');
  });

  it('does not mistake flags that merely contain the letters (e.g. "svm_lock") for svm', () => {
    expect(detectKvm(host('lookalike', { flags: `${EPYC_FLAGS} svm_lock vmx_x`, kvm: true })).kind).toBe('none');
  });
});
