import { execFileSync } from 'node:child_process';
import { detectKvm } from '../kvm/detect.js';
import { RIG_QEMU, runInRig } from '../rig/run.js';
import { runDirect } from './direct.js';
import type { RunOptions, RunResult } from './types.js';

/** How {@link runWhereKvmWorks} would run a command on this host, and why. */
export interface KvmRunMode {
  readonly mode: 'direct' | 'rig' | 'skipped';
  /** One line: the KVM detection and, for the rig or a skip, what decided it. */
  readonly reason: string;
}

function hasQemu(): boolean {
  try {
    execFileSync(RIG_QEMU, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let cached: KvmRunMode | undefined;

/**
 * Decides where KVM can run a stock kernel: `direct` on hardware SVM/VMX, else `rig` when
 * qemu-system-x86_64 is installed (nested KVM inside a TCG guest), else `skipped`. Cached
 * per process. Use it for `it.skipIf(kvmRunMode().mode === 'skipped')` in e2e tests.
 */
export function kvmRunMode(): KvmRunMode {
  if (cached) return cached;
  const kvm = detectKvm();
  if (kvm.kind === 'hardware') cached = { mode: 'direct', reason: kvm.reason };
  else if (hasQemu()) cached = { mode: 'rig', reason: `${kvm.reason}; running in the nested KVM rig (QEMU TCG L1 with kvm_amd)` };
  else cached = { mode: 'skipped', reason: `${kvm.reason}, and ${RIG_QEMU} for the nested rig is not installed (scripts/setup.sh)` };
  return cached;
}

/**
 * Runs `argv` where KVM can run a stock kernel: directly on a host with hardware
 * virtualization, inside the nested KVM rig otherwise (same root, read-only; same working
 * directory; /tmp the host's under a RAM overlay; `writableDirs` shared read-write), or not at all
 * (`mode: 'skipped'` with a one-line reason). The command's failure is a non-zero `status`;
 * the rig's own failures and timeouts are reported in `infraFailure`.
 * @throws Error (rejects) only for invalid arguments: an empty argv or a bad variable name.
 */
export async function runWhereKvmWorks(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  if (argv.length === 0) throw new Error('runWhereKvmWorks: empty command');
  for (const k of Object.keys(opts.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`runWhereKvmWorks: invalid environment variable name ${JSON.stringify(k)}`);
  }
  const where = kvmRunMode();
  if (where.mode === 'direct') return runDirect(argv, opts, where.reason);
  if (where.mode === 'rig') return runInRig(argv, opts, where.reason);
  return { mode: 'skipped', reason: where.reason, status: null, stdout: '', stderr: '', timedOut: false };
}
