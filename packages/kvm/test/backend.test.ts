// Detecting which module provides /dev/kvm, from a fake /sys/module.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeKvmBackend, kvmBackend } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sysModule(...modules: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sys-module-'));
  dirs.push(dir);
  for (const name of modules) mkdirSync(join(dir, name));
  return dir;
}

it('names kvm_pvm first, then kvm_intel or kvm_amd, else unknown', () => {
  expect(kvmBackend(sysModule('kvm', 'kvm_amd', 'kvm_pvm'))).toBe('pvm');
  expect(kvmBackend(sysModule('kvm', 'kvm_intel'))).toBe('intel');
  expect(kvmBackend(sysModule('kvm', 'kvm_amd'))).toBe('amd');
  expect(kvmBackend(sysModule('kvm'))).toBe('unknown');
});

it('says in one line what a kvm-pvm host can run', () => {
  expect(describeKvmBackend('pvm')).toMatch(/kvm-pvm.*stock Linux kernel does not/);
  expect(describeKvmBackend('amd')).not.toContain('\n');
});
