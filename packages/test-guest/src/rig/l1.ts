import { fetchGuestPackages } from '../debian/packages.js';
import { cachedInitramfs } from '../guest/build.js';
import { INIT_PRELUDE } from '../guest/init.js';

/** Modules of the rig's L1 guest: 9p for the host root, kvm-amd on QEMU's emulated SVM, TAP/bridge/veth for network tests. */
export const L1_MODULES: readonly string[] = [
  'virtio',
  'virtio_ring',
  'virtio_pci',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  '9pnet',
  '9pnet_virtio',
  'netfs',
  'fscache',
  '9p',
  'irqbypass',
  'ccp',
  'kvm',
  'kvm-amd',
  'tun',
  'bridge',
  'veth',
  'virtio_net',
  'overlay',
];

/** Console markers the L1 /init prints; the host reads them to tell the run's phases apart. */
export const RIG_MARK = 'VIRTIO-RIG';

/**
 * The L1 /init: mounts the host root read-only over 9p (tag hostroot) at /host and the
 * control directory (tag ctl) at /ctl, mounts proc, sysfs, devtmpfs, devpts, tmpfs (/run,
 * /dev/shm) and a RAM overlay over the host's /tmp inside /host, sources /ctl/setup.sh (writable shares, mode, deadline),
 * then runs /ctl/job.sh in `chroot /host`, writes its exit status to /ctl/status and powers
 * off — or powers off at the deadline, should the host side be gone.
 */
export const L1_INIT = `#!/bin/sh
# virtio-ts nested KVM rig, L1 /init.
${INIT_PRELUDE}
echo "${RIG_MARK} init $VMMTEST_UPTIME"
rig_fail() { echo "${RIG_MARK} infra $*"; poweroff -f; }
[ -z "$VMMTEST_MODFAIL" ] || echo "${RIG_MARK} note modules failed to load: $VMMTEST_MODFAIL"
RIG_9P=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /host /ctl
mount -t 9p -o $RIG_9P,ro,cache=loose hostroot /host || rig_fail "cannot mount the host root over 9p"
mount -t 9p -o $RIG_9P ctl /ctl || rig_fail "cannot mount the control directory over 9p"
mount -t proc proc /host/proc || rig_fail "cannot mount proc in the host root"
mount -t sysfs sysfs /host/sys || rig_fail "cannot mount sysfs in the host root"
mount -t devtmpfs devtmpfs /host/dev || rig_fail "cannot mount devtmpfs in the host root"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
# /tmp: the host's files stay visible (a checkout under /tmp must work) and writes go to RAM.
mkdir -p /rig-tmp && mount -t tmpfs -o mode=755 tmpfs /rig-tmp && mkdir -p /rig-tmp/upper /rig-tmp/work
chmod 1777 /rig-tmp/upper
mount -t overlay -o lowerdir=/host/tmp,upperdir=/rig-tmp/upper,workdir=/rig-tmp/work overlay /host/tmp || rig_fail "cannot mount an overlay on /tmp"
mount -t tmpfs -o mode=755 tmpfs /host/run
RIG_INTERACTIVE=0
RIG_DEADLINE=""
. /ctl/setup.sh
# Own deadline, so L1 ends even if the host process that launched QEMU died without killing it.
[ -z "$RIG_DEADLINE" ] || (sleep "$RIG_DEADLINE"; echo "${RIG_MARK} infra deadline of $RIG_DEADLINE s reached inside L1"; poweroff -f) &
ip link set lo up
[ -e /dev/kvm ] || rig_fail "no /dev/kvm in L1: kvm_amd did not load (QEMU -cpu max without SVM?)"
echo "${RIG_MARK} start"
if [ "$RIG_INTERACTIVE" = 1 ]; then
  setsid cttyhack chroot /host /bin/sh -c "$(cat /ctl/job.sh)"
else
  chroot /host /bin/sh -c "$(cat /ctl/job.sh)" </dev/null >/ctl/stdout 2>/ctl/stderr
fi
RIG_STATUS=$?
echo $RIG_STATUS > /ctl/status
echo "${RIG_MARK} exit $RIG_STATUS"
sync
poweroff -f
`;

/** The rig's L1 kernel and initramfs (cached like the test guest). */
export interface RigL1 {
  readonly kernel: string;
  readonly initrd: string;
}

/** Builds (or finds in the cache) the L1 guest of the nested KVM rig. */
export async function buildRigL1(opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<RigL1> {
  const packages = await fetchGuestPackages(opts);
  const initrd = cachedInitramfs(packages, { modules: L1_MODULES, init: L1_INIT, cacheDir: opts.cacheDir, log: opts.log });
  return { kernel: packages.kernel.vmlinuz, initrd };
}
