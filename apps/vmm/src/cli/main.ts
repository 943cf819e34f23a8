// The virtio-vmm command line (run by bin/virtio-vmm.mjs under tsx).
import { Command } from 'commander';
import { CliError } from './load-files.js';
import { runCommand } from './run.js';

const program = new Command('virtio-vmm')
  .description('The virtio-ts reference VMM: boots a stock x86-64 Linux kernel on KVM')
  .showHelpAfterError();

program
  .command('run')
  .description('boot a Linux bzImage (default: the test guest, to an interactive shell)')
  .option('--kernel <path>', 'bzImage to boot (default: the cached test guest kernel)')
  .option('--initrd <path>', 'initramfs to load (default with no --kernel: the test guest initramfs)')
  .option('--cmdline <text>', 'kernel command line (default: console=ttyS0, or the test guest shell)')
  .option('--memory <size>', 'guest RAM, e.g. 512M or 2G', '512M')
  .option('--cpus <n>', 'number of vCPUs', '1')
  .option('--stats', 'print device access counts (port I/O and MMIO exits) when the VMM exits')
  .option('--disk <spec>', 'virtio-blk on a raw image: PATH[,readonly][,transport=pci|mmio][,features=-event_idx:...] (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--net <spec>', 'virtio-net on a TAP device (created when missing): tap=NAME[,mac=52:54:00:..][,transport=pci|mmio][,features=...] (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--console [spec]', 'virtio console as hvc0 on the terminal: [tty|ack][,transport=pci|mmio][,features=...] (ack: answer each line L with "ack L", for tests)')
  .option('--rng [spec]', 'virtio entropy device: [transport=pci|mmio][,features=...]')
  .option('--scsi <spec>', 'virtio-scsi controller with a raw image as its disk (target 0, LUN 0): PATH[,readonly][,transport=pci|mmio][,features=...] (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--vsock <spec>', 'virtio-vsock: cid=N[,socket=PATH] (hybrid vsock: "CONNECT <port>" on PATH reaches a guest listener; guest connections to host port P go to PATH_P)[,transport=..][,features=..]')
  .option('--balloon [spec]', 'memory balloon: [size=SIZE (asked for from the start)][,stats=SECONDS (log guest statistics)][,deflate_on_oom][,transport=..][,features=..]')
  .option('--input <kind>', 'virtio-input device: keyboard|mouse|tablet[,transport=pci|mmio][,features=...] (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--crypto [spec]', 'virtio-crypto (AES-CBC/CTR cipher sessions through WebCrypto): [transport=pci|mmio][,features=...]')
  .option('--pmem <spec>', 'virtio-pmem over a file (size a multiple of 2 MiB), mapped from 4 GiB up and written back when the guest flushes: PATH[,transport=pci|mmio][,features=...] (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--transport <kind>', 'transport of devices that do not name one: pci (modern, MSI-X) or mmio (version 2)', undefined)
  .option('--ring <layout>', 'offer packed virtqueues (packed) or only split ones (split); default: offered')
  .option('--features <list>', 'reserved features offered (+name) or withheld (-name) on every device: event_idx, indirect_desc, in_order, ring_packed')
  .option('--direct', "use this host's /dev/kvm even where it cannot run a stock kernel (no nested rig)")
  .action(async (opts) => {
    process.exitCode = await runCommand(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`virtio-vmm: ${e instanceof CliError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
process.exit(process.exitCode ?? 0);
