import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnoseConsole, rigJobScript, rigQemuArgs, rigSetupScript } from '../src/rig/index.js';

const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'tg-job-')));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Runs a job script as L1 does: sh -c "$(cat job.sh)". */
function runJob(script: string): { status: number | null; stdout: string } {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: {} });
  return { status: r.status, stdout: r.stdout };
}

describe('rig job script', () => {
  it('runs argv verbatim (spaces, quotes, $ and newlines) in the working directory with the environment', () => {
    const argv = ['sh', '-c', 'pwd; printf "[%s]\\n" "$@"; echo "$GREETING"; echo "$TMPDIR"', 'x', "it's", 'a b', '$HOME', 'line1\nline2'];
    const { status, stdout } = runJob(rigJobScript(argv, cwd, { GREETING: "hello 'rig'" }, { PATH: process.env.PATH }));
    expect(status).toBe(0);
    expect(stdout).toBe(`${cwd}\n[it's]\n[a b]\n[$HOME]\n[line1\nline2]\nhello 'rig'\n/tmp\n`);
  });

  it('passes the command\'s exit status through and exits 125 when the working directory is missing', () => {
    expect(runJob(rigJobScript(['sh', '-c', 'exit 7'], cwd, {})).status).toBe(7);
    expect(runJob(rigJobScript(['true'], join(cwd, 'missing'), {})).status).toBe(125);
  });

  it('passes only the essential host variables and puts node\'s directory on PATH', () => {
    const script = rigJobScript(['true'], '/', {}, { PATH: '/usr/bin:/bin', HOME: '/root', SECRET_TOKEN: 'x' });
    expect(script).toContain("export HOME='/root'");
    expect(script).not.toContain('SECRET_TOKEN');
    const path = execFileSync('sh', ['-c', `${script.replace(/exec 'true'/, 'echo "$PATH"')}`], { encoding: 'utf8' }).trim();
    expect(path.split(':')).toContain(join(process.execPath, '..'));
    expect(() => rigJobScript(['true'], '/', { 'BAD-NAME': '1' })).toThrow(/invalid environment variable/);
  });

  it('mounts writable shares at their host paths and sets the mode and L1 deadline', () => {
    const setup = rigSetupScript(['/tmp/out dir', '/work/x'], true, 70);
    expect(setup).toContain('RIG_INTERACTIVE=1');
    expect(setup).toContain('RIG_DEADLINE=70');
    expect(setup).toContain("mkdir -p '/host/tmp/out dir' && mount -t 9p -o $RIG_9P rw0 '/host/tmp/out dir'");
    expect(setup).toContain("mount -t 9p -o $RIG_9P rw1 '/host/work/x'");
  });
});

describe('rig QEMU command and console diagnosis', () => {
  it('runs L1 on TCG with SVM (-cpu max), 2 vCPUs, 4G, pc, no NIC, lockups panicking, the host root read-only', () => {
    const args = rigQemuArgs('/k', '/i', '/tmp/ctl', ['/tmp/a,b']).join(' ');
    for (const part of ['-accel tcg', '-cpu max', '-smp 2', '-m 4G', '-machine pc', '-nographic', '-no-reboot', '-nic none']) {
      expect(args).toContain(part);
    }
    expect(args).toContain('softlockup_panic=1');
    expect(args).toContain('local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap,readonly=on');
    expect(args).toContain('local,path=/tmp/ctl,mount_tag=ctl,security_model=none,multidevs=remap ');
    expect(args).toContain('local,path=/tmp/a,,b,mount_tag=rw0,security_model=none,multidevs=remap');
  });

  it('tells set-up failures, soft lockups and panics apart', () => {
    expect(diagnoseConsole('VIRTIO-RIG init 2.1\r\nVIRTIO-RIG infra cannot mount the host root over 9p\r\n')).toBe(
      'L1 set-up failed: cannot mount the host root over 9p',
    );
    expect(diagnoseConsole('[ 30.1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [qemu:150]\n[ 30.2] Kernel panic - not syncing: softlockup: hung tasks')).toMatch(
      /^L1 soft lockup: .*CPU#1 stuck/,
    );
    expect(diagnoseConsole('[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs')).toMatch(/^L1 kernel panic: /);
    expect(diagnoseConsole('VIRTIO-RIG init 2.1\nVIRTIO-RIG start\n')).toBeUndefined();
  });
});
