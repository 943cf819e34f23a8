// The I/O benchmark's guest side: two checks of the bench guest's /init that run Debian's fio
// on the virtio disk and iperf3 against the host side of the virtio NIC, each reporting the
// tool's own JSON inside its VMMTEST line (parsed by io-results.ts).
import type { CheckDefinition } from '@virtio/test-guest';

/** One fio job of the bench: a name, the access pattern, block size and queue depth. */
export interface FioJob {
  readonly name: string;
  readonly rw: 'randread' | 'read';
  readonly bs: string;
  readonly iodepth: number;
}

/** The jobs, run one after another (stonewall) on the whole disk: 4 KiB random reads at QD1 and QD32, 128 KiB sequential reads. */
export const FIO_JOBS: readonly FioJob[] = [
  { name: 'randread-4k-qd1', rw: 'randread', bs: '4k', iodepth: 1 },
  { name: 'randread-4k-qd32', rw: 'randread', bs: '4k', iodepth: 32 },
  { name: 'seqread-128k-qd16', rw: 'read', bs: '128k', iodepth: 16 },
];

/** Defaults of the checks' parameters (`vmmtest.NAME=VALUE` on the kernel command line). */
export const IO_BENCH_DEFAULTS = {
  /** `vmmtest.fio_runtime`: seconds measured per job, after the ramp. */
  fioRuntime: 10,
  /** `vmmtest.fio_ramp`: seconds per job before measuring. */
  fioRamp: 2,
  /** `vmmtest.iperf_time`: seconds measured per direction. */
  iperfTime: 10,
  /** `vmmtest.iperf_omit`: seconds per direction before measuring (TCP slow start). */
  iperfOmit: 2,
  /** `vmmtest.iperf_port`: the host-side iperf3 server's port. */
  iperfPort: 5201,
  /** `vmmtest.net=ADDRESS/PREFIX,SERVER`: the guest's address and the iperf3 server's. */
  net: '10.0.2.15/24,10.0.2.2',
} as const;

const jobArgs = FIO_JOBS.map((j, i) => `--name=${j.name}${i > 0 ? ' --stonewall' : ''} --rw=${j.rw} --bs=${j.bs} --iodepth=${j.iodepth}`).join(' ');

/** fio's JSON file on one line (fio pretty-prints with newlines and tabs; no string holds either). */
const ONE_LINE = `sed -n '/^{/,$p' FILE | tr -d '\\n\\t' | tr -s ' '`;

/**
 * `fio`: runs {@link FIO_JOBS} with O_DIRECT and libaio on the first virtio_blk disk (or
 * `vmmtest.fio_disk=vdX`), read-only, time-based. JSON: disk, fio (fio's
 * `--output-format=json` document), error.
 */
export const fioCheck: CheckDefinition = {
  name: 'fio',
  description: 'fio O_DIRECT libaio read jobs on the virtio disk (fio JSON in the result)',
  shell: `local disk n runtime ramp json=null
disk=$(vmmtest_param fio_disk "")
if [ -z "$disk" ]; then
  for n in /sys/bus/virtio/drivers/virtio_blk/virtio*/block/*; do [ -e "$n" ] && { disk=$(basename "$n"); break; }; done
fi
[ -n "$disk" ] || VMMTEST_ERR="find: no virtio_blk disk"
runtime=$(vmmtest_param fio_runtime ${IO_BENCH_DEFAULTS.fioRuntime})
ramp=$(vmmtest_param fio_ramp ${IO_BENCH_DEFAULTS.fioRamp})
vmmtest_try fio fio --output-format=json --output=/tmp/fio.json --filename="/dev/$disk" --readonly --direct=1 --ioengine=libaio --thread --time_based --runtime="$runtime" --ramp_time="$ramp" --clat_percentiles=1 --percentile_list=50:99 ${jobArgs}
[ -z "$VMMTEST_ERR" ] && json=$(${ONE_LINE.replace('FILE', '/tmp/fio.json')})
[ -n "$json" ] || json=null
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"disk\\":\\"$disk\\",\\"fio\\":$json,\\"error\\":\\"$VMMTEST_ERR\\""`,
};

/**
 * `iperf`: static address on the first virtio_net interface (`vmmtest.net`, as the `net`
 * check), then iperf3 TCP client runs against SERVER:`vmmtest.iperf_port`: guest → server
 * (upload), then server → guest (`-R`, download). JSON: iface, upload and download (iperf3's
 * `-J` documents, null when a run failed), error.
 */
export const iperfCheck: CheckDefinition = {
  name: 'iperf',
  description: 'iperf3 TCP throughput to the host side of the virtio NIC, both directions (iperf3 JSON in the result)',
  shell: `local cfg addr peer port secs omit iface="" n up=null down=null
cfg=$(vmmtest_param net ${IO_BENCH_DEFAULTS.net})
addr=\${cfg%%,*}
peer=\${cfg#*,}
port=$(vmmtest_param iperf_port ${IO_BENCH_DEFAULTS.iperfPort})
secs=$(vmmtest_param iperf_time ${IO_BENCH_DEFAULTS.iperfTime})
omit=$(vmmtest_param iperf_omit ${IO_BENCH_DEFAULTS.iperfOmit})
for n in /sys/bus/virtio/drivers/virtio_net/virtio*/net/*; do [ -e "$n" ] && { iface=$(basename "$n"); break; }; done
[ -n "$iface" ] || VMMTEST_ERR="find: no virtio_net interface"
vmmtest_try lo ip link set lo up
vmmtest_try address ip addr add "$addr" dev "$iface"
vmmtest_try up ip link set "$iface" up
vmmtest_try ping ping -c 1 -w 20 "$peer"
vmmtest_try upload iperf3 -c "$peer" -p "$port" -t "$secs" -O "$omit" -i 0 -J
[ -z "$VMMTEST_ERR" ] && up=$(${ONE_LINE.replace('FILE', '/tmp/vmmtest.out')})
vmmtest_try download iperf3 -c "$peer" -p "$port" -t "$secs" -O "$omit" -i 0 -J -R
[ -z "$VMMTEST_ERR" ] && down=$(${ONE_LINE.replace('FILE', '/tmp/vmmtest.out')})
[ -n "$up" ] || up=null
[ -n "$down" ] || down=null
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"iface\\":\\"$iface\\",\\"upload\\":$up,\\"download\\":$down,\\"error\\":\\"$VMMTEST_ERR\\""`,
};
