import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunOptions, RunResult } from '../run/types.js';
import { rigJobScript, rigSetupScript } from './job.js';
import { buildRigL1, RIG_MARK } from './l1.js';

/** The QEMU that runs L1 (TCG exposes AMD SVM with nested paging to `-cpu max`). */
export const RIG_QEMU = 'qemu-system-x86_64';

/** Seconds L1 waits past the host's timeout before powering itself off. */
export const L1_DEADLINE_MARGIN_S = 30;

/** L1 kernel command line: a soft lockup panics and a panic exits QEMU (-no-reboot). */
export const L1_CMDLINE = 'console=ttyS0 quiet softlockup_panic=1 panic=-1';

// multidevs=remap: the host root spans several filesystems whose inode numbers collide (the
// roots of proc, sysfs, devtmpfs and tmpfs are all inode 1); without remapping, the guest's
// 9p client aliases such directories and a mount on /host/proc also appears on /host/sys.
function virtfs(path: string, tag: string, readonly: boolean): string[] {
  const p = path.replace(/,/g, ',,');
  return ['-virtfs', `local,path=${p},mount_tag=${tag},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`];
}

/** The QEMU arguments of an L1 run (interactive: only emergency kernel messages on the shared terminal). */
export function rigQemuArgs(kernel: string, initrd: string, ctl: string, writableDirs: readonly string[], interactive = false): string[] {
  return [
    ...['-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '4G', '-machine', 'pc'],
    ...['-nographic', '-no-reboot', '-nic', 'none'],
    ...['-kernel', kernel, '-initrd', initrd, '-append', interactive ? `${L1_CMDLINE} loglevel=1` : L1_CMDLINE],
    ...virtfs('/', 'hostroot', true),
    ...virtfs(ctl, 'ctl', false),
    ...writableDirs.flatMap((d, i) => virtfs(d, `rw${i}`, false)),
  ];
}

/**
 * Explains from L1's console why a run ended without the command's exit status, or
 * undefined when the console shows no known failure.
 */
export function diagnoseConsole(console: string): string | undefined {
  const lines = console.split(/\r?\n/);
  const infra = lines.find((l) => l.includes(`${RIG_MARK} infra `));
  if (infra) return `L1 set-up failed: ${infra.slice(infra.indexOf(`${RIG_MARK} infra `) + RIG_MARK.length + 7).trim()}`;
  const lockup = lines.find((l) => /soft lockup/.test(l));
  if (lockup) return `L1 soft lockup: ${lockup.trim()}`;
  const panic = lines.find((l) => /Kernel panic/.test(l));
  if (panic) return `L1 kernel panic: ${panic.trim()}`;
  return undefined;
}

function tail(text: string, n: number): string {
  return text.trim().split(/\r?\n/).slice(-n).join(' | ');
}

/**
 * Runs `argv` inside the nested KVM rig: QEMU TCG boots the L1 guest, which shares this host's
 * root read-only, loads kvm_amd and runs the command in a chroot of the host root with the same
 * working directory. Captures stdout, stderr and the exit status through a shared control
 * directory. Failures of the rig itself are reported in `infraFailure`; rejects only for an
 * empty argv or an invalid environment variable name.
 */
export async function runInRig(argv: readonly string[], opts: RunOptions, reason: string): Promise<RunResult> {
  const started = Date.now();
  const fail = (infraFailure: string): RunResult => ({ mode: 'rig', reason, status: null, stdout: '', stderr: '', timedOut: false, infraFailure });
  let l1;
  try {
    l1 = await buildRigL1({ cacheDir: opts.cacheDir });
  } catch (e) {
    return fail(`cannot build the rig's L1 guest: ${(e as Error).message}`);
  }
  const ctl = mkdtempSync(join(tmpdir(), 'virtio-rig-'));
  try {
    const writable = (opts.writableDirs ?? []).map((d) => resolve(d));
    for (const d of writable) if (!existsSync(d)) return fail(`writable directory ${d} does not exist`);
    writeFileSync(join(ctl, 'job.sh'), rigJobScript(argv, resolve(opts.cwd ?? process.cwd()), opts.env ?? {}));
    // L1's own deadline comes after the host's timeout, which normally ends the run first.
    writeFileSync(join(ctl, 'setup.sh'), rigSetupScript(writable, opts.interactive === true, opts.timeoutMs / 1000 + L1_DEADLINE_MARGIN_S));
    const run = await launch(rigQemuArgs(l1.kernel, l1.initrd, ctl, writable, opts.interactive), opts, started);
    const read = (name: string): string => (existsSync(join(ctl, name)) ? readFileSync(join(ctl, name), 'utf8') : '');
    const statusText = read('status').trim();
    const base = {
      mode: 'rig' as const,
      reason,
      stdout: read('stdout'),
      stderr: read('stderr'),
      timedOut: run.timedOut,
      ...(opts.interactive ? {} : { console: run.console }),
      timings: run.timings,
    };
    if (statusText !== '' && !run.timedOut) return { ...base, status: Number(statusText) };
    let why: string;
    if (run.timedOut) {
      const phase = opts.interactive
        ? 'interactive run'
        : run.timings.commandStartMs !== undefined
          ? 'the command was still running'
          : run.timings.l1InitMs !== undefined
            ? 'L1 reached /init but the command had not started'
            : 'L1 had not reached /init';
      why = `timed out after ${opts.timeoutMs / 1000} s (${phase}); QEMU was killed`;
    } else if (run.spawnError) {
      why = `cannot start ${RIG_QEMU}: ${run.spawnError}`;
    } else {
      const diagnosis = diagnoseConsole(run.console);
      const boot = opts.interactive
        ? 'L1 ended without the command\'s exit status (its console is above)'
        : run.timings.l1InitMs === undefined
          ? 'L1 did not boot'
          : 'L1 ended without the command\'s exit status';
      why = diagnosis ?? `${boot} (QEMU exit ${run.exitCode}; ${tail(run.qemuStderr || run.console, 5) || 'no output'})`;
    }
    return { ...base, status: null, infraFailure: why };
  } finally {
    rmSync(ctl, { recursive: true, force: true });
  }
}

interface Launched {
  console: string;
  qemuStderr: string;
  exitCode: number | null;
  timedOut: boolean;
  spawnError?: string;
  timings: { l1InitMs?: number; commandStartMs?: number; totalMs: number };
}

function launch(args: string[], opts: RunOptions, started: number): Promise<Launched> {
  return new Promise((done) => {
    const child = spawn(RIG_QEMU, args, { stdio: opts.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    const timings: Launched['timings'] = { totalMs: 0 };
    let console = '';
    let qemuStderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    child.stdout?.on('data', (b: Buffer) => {
      const chunk = b.toString('latin1');
      console += chunk;
      opts.onConsole?.(chunk);
      if (timings.l1InitMs === undefined && console.includes(`${RIG_MARK} init`)) timings.l1InitMs = Date.now() - started;
      if (timings.commandStartMs === undefined && console.includes(`${RIG_MARK} start`)) timings.commandStartMs = Date.now() - started;
    });
    child.stderr?.on('data', (b: Buffer) => (qemuStderr += b.toString()));
    child.on('error', (e) => (spawnError = e.message));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      timings.totalMs = Date.now() - started;
      done({ console, qemuStderr, exitCode: code, timedOut, spawnError, timings });
    });
  });
}
