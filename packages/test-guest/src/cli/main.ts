import { Command, Option } from 'commander';
import { buildTestGuest, DEFAULT_GUEST_MODULES } from '../guest/build.js';
import { probedDevices } from '../guest/vmmtest.js';
import { detectKvm } from '../kvm/detect.js';
import { DEVICE_CHECKS } from '../checks/index.js';
import { qemuProbe } from '../qemu/probe.js';
import { qemuRun } from '../qemu/run.js';
import { kvmRunMode, runWhereKvmWorks } from '../run/where.js';
import type { RunResult } from '../run/types.js';

/** Exit status when the run was skipped (no KVM path on this host), as automake's SKIP. */
export const EXIT_SKIPPED = 77;
/** Exit status when the run timed out. */
export const EXIT_TIMEOUT = 124;
/** Exit status for an infrastructure failure of the rig (L1 did not boot, lockup, QEMU error). */
export const EXIT_INFRA = 125;

const log = (line: string): void => console.error(`virtio-test-guest: ${line}`);

function runExit(r: RunResult): number {
  if (r.mode === 'skipped') {
    log(`skipped: ${r.reason}`);
    return EXIT_SKIPPED;
  }
  if (r.infraFailure) {
    log(r.infraFailure);
    return r.timedOut ? EXIT_TIMEOUT : EXIT_INFRA;
  }
  return r.status ?? EXIT_INFRA;
}

/** The `virtio-test-guest` command line; resolves to the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = new Command('virtio-test-guest')
    .description('Linux test guest builder and nested KVM rig for virtio-ts')
    .showHelpAfterError();

  program
    .command('build')
    .description('download (once) and build the test guest; print the kernel, initrd and command line')
    .option('--modules <list>', 'comma-separated modules to load', DEFAULT_GUEST_MODULES.join(','))
    .option('--checks <list>', 'checks for the printed command line', 'boot,probe')
    .option('--refresh', 'ask apt for newer packages even when cached')
    .option('--json', 'print JSON')
    .action(async (o: { modules: string; checks: string; refresh?: boolean; json?: boolean }) => {
      const guest = await buildTestGuest({ modules: o.modules.split(','), refresh: o.refresh, log });
      const out = { kernel: guest.kernel, initrd: guest.initrd, release: guest.release, cmdline: guest.cmdline(o.checks.split(',')) };
      console.log(o.json ? JSON.stringify(out, null, 2) : Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('\n'));
    });

  program
    .command('detect')
    .description('say what backs /dev/kvm and where KVM commands would run')
    .action(() => {
      const kvm = detectKvm();
      const mode = kvmRunMode();
      console.log(`kvm: ${kvm.kind}: ${kvm.reason}`);
      console.log(`runs: ${mode.mode}`);
    });

  program
    .command('run')
    .description('run a command where KVM works (directly, or inside the nested rig)')
    .argument('<cmd...>', 'command and arguments (after --)')
    .option('--timeout <seconds>', 'kill the run after this many seconds', '600')
    .option('-i, --interactive', 'the command uses this terminal')
    .option('--writable <dir...>', 'host directories the command may write (rig)')
    .action(async (cmd: string[], o: { timeout: string; interactive?: boolean; writable?: string[] }) => {
      const r = await runWhereKvmWorks(cmd, {
        timeoutMs: Number(o.timeout) * 1000,
        interactive: o.interactive,
        writableDirs: o.writable,
      });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      status = runExit(r);
    });

  program
    .command('qemu-probe')
    .description('boot the test guest under QEMU+KVM with virtio blk/net/console/rng and print the probe results')
    .option('--timeout <seconds>', 'bound of the whole run', '240')
    .option('--json', 'print the parsed VMMTEST report as JSON')
    .action(async (o: { timeout: string; json?: boolean }) => {
      const { run, report } = await qemuProbe({ timeoutMs: Number(o.timeout) * 1000, log });
      if (o.json) console.log(JSON.stringify(report, null, 2));
      else {
        for (const r of report.results) if (r.check !== 'probe') console.log(`${r.check}: ${r.ok ? 'ok' : 'FAILED'} ${JSON.stringify(r)}`);
        for (const d of probedDevices(report)) {
          console.log(`  ${d.name}: device ${d.device} driver ${d.driver || '(none)'} status 0x${d.status.toString(16)} features ${d.features.join(',')}`);
        }
        console.log(`done: ${report.done} ok: ${report.ok} (${run.mode})`);
      }
      status = run.infraFailure || run.mode === 'skipped' ? runExit(run) : report.ok ? 0 : 1;
    });

  program
    .command('qemu-checks')
    .description('run the device checks (drivers, blk, net, console, rng, reload) against QEMU+KVM and the host-side read-back')
    .option('--checks <list>', 'checks to run, in order', DEVICE_CHECKS.join(','))
    .option('--timeout <seconds>', 'bound of the whole run', '360')
    .option('--json', 'print the report, the peer record and the disk image read-back as JSON')
    .action(async (o: { checks: string; timeout: string; json?: boolean }) => {
      const { run, report, peer, blkImage } = await qemuRun({ checks: o.checks.split(','), timeoutMs: Number(o.timeout) * 1000, log });
      if (o.json) console.log(JSON.stringify({ report, peer, blkImage }, null, 2));
      else {
        for (const r of report.results) console.log(`${r.check}: ${r.ok ? 'ok' : 'FAILED'} ${JSON.stringify(r)}`);
        console.log(`host: ${JSON.stringify({ peer, blkImage })}`);
        console.log(`done: ${report.done} ok: ${report.ok} (${run.mode})`);
      }
      status = run.infraFailure || run.mode === 'skipped' ? runExit(run) : report.ok ? 0 : 1;
    });

  program
    .command('shell')
    .description('an interactive busybox shell in the test guest under QEMU+KVM (type exit to leave)')
    .action(async () => {
      const { run } = await qemuProbe({ checks: ['boot', 'probe', 'shell'], interactive: true, timeoutMs: 24 * 3600_000, log });
      status = runExit(run);
    });

  program
    .command('bench')
    .description('time to L1 /init, to the command start in L1, and the test guest to /init under QEMU in the rig')
    .action(async () => {
      const { runBench } = await import('../../bench/rig.js');
      await runBench();
    });

  await program.parseAsync(argv);
  return status;
}
