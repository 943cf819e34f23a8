import type { CheckDefinition } from './check.js';

const MiB = 1 << 20;

/** What the `pmem` check reads and writes on /dev/pmemN (bytes): the head digested as the host wrote it, then pseudo-random data flushed. */
export const PMEM_LAYOUT = { head: { offset: 0, bytes: MiB }, data: { offset: MiB, bytes: MiB } } as const;

/** Smallest pmem range the `pmem` check accepts, bytes. */
export const PMEM_MIN_BYTES = 2 * MiB;

const BS = 4096;

/**
 * `pmem`: waits (≤ 20 s) for a pmem block device behind virtio_pmem (`/sys/block/pmem*` whose
 * device path runs through a virtio device; nd_pmem over the device's range), digests
 * {@link PMEM_LAYOUT}.head as the host left it, then writes {@link PMEM_LAYOUT}.data with
 * pseudo-random bytes and fsyncs (a REQ_PREFLUSH: virtio_pmem's flush request), reads it back
 * and compares. JSON: disk, bytes (the range's size), head_sha256, data_offset, data_bytes,
 * sha256, error.
 */
export const pmemCheck: CheckDefinition = {
  name: 'pmem',
  description: 'virtio-pmem: /dev/pmemN shows the host file; written data flushed through the device',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" disk="" b i sz=0 head="" sum="" back ok
i=0
while [ $i -lt 40 ] && [ -z "$disk" ]; do
  for b in "$sys"/block/pmem*; do
    [ -e "$b" ] || continue
    case "$(readlink -f "$b")" in */virtio*) disk=$(basename "$b"); break ;; esac
  done
  [ -n "$disk" ] || sleep 0.5
  i=$((i + 1))
done
[ -n "$disk" ] || VMMTEST_ERR="find: no pmem block device on virtio_pmem"
[ -n "$disk" ] && sz=$(($(cat "$sys/block/$disk/size") * 512))
[ -z "$VMMTEST_ERR" ] && [ "$sz" -lt ${PMEM_MIN_BYTES} ] && VMMTEST_ERR="size: $disk has $sz bytes"
vmmtest_try head dd if="/dev/$disk" of=/tmp/pmem.head bs=${BS} skip=${PMEM_LAYOUT.head.offset / BS} count=${PMEM_LAYOUT.head.bytes / BS}
[ -z "$VMMTEST_ERR" ] && head=$(sha256sum < /tmp/pmem.head | cut -d' ' -f1)
vmmtest_try pattern dd if=/dev/urandom of=/tmp/pmem.pat bs=${BS} count=${PMEM_LAYOUT.data.bytes / BS}
vmmtest_try write dd if=/tmp/pmem.pat of="/dev/$disk" bs=${BS} seek=${PMEM_LAYOUT.data.offset / BS} conv=fsync,notrunc
vmmtest_try read dd if="/dev/$disk" of=/tmp/pmem.back bs=${BS} skip=${PMEM_LAYOUT.data.offset / BS} count=${PMEM_LAYOUT.data.bytes / BS} iflag=direct
if [ -z "$VMMTEST_ERR" ]; then
  sum=$(sha256sum < /tmp/pmem.pat | cut -d' ' -f1)
  back=$(sha256sum < /tmp/pmem.back | cut -d' ' -f1)
  [ "$sum" = "$back" ] || VMMTEST_ERR="compare: read back $back, wrote $sum"
fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"disk\\":\\"$disk\\",\\"bytes\\":$sz,\\"head_sha256\\":\\"$head\\",\\"data_offset\\":${PMEM_LAYOUT.data.offset},\\"data_bytes\\":${PMEM_LAYOUT.data.bytes},\\"sha256\\":\\"$sum\\",\\"error\\":\\"$VMMTEST_ERR\\""`,
};
