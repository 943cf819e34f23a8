import type { CheckDefinition } from './check.js';

const MiB = 1 << 20;

/** Where the `scsi` check writes on its LUN (bytes): pseudo-random data, written and read O_DIRECT. */
export const SCSI_LAYOUT = { data: { offset: MiB, bytes: MiB } } as const;

/** Smallest writable LUN the `scsi` check accepts, bytes. */
export const SCSI_MIN_BYTES = 2 * MiB;

const BS = 4096;

/**
 * `scsi`: waits (≤ 30 s) for a SCSI disk behind a virtio_scsi host (`/sys/block/sd*` whose
 * device path runs through a virtio device). On the first writable one (ro 0): writes
 * {@link SCSI_LAYOUT}.data with pseudo-random bytes through O_DIRECT with an fsync
 * (SYNCHRONIZE CACHE), reads them back O_DIRECT and compares SHA-256 digests. The first
 * read-only one (write-protected, ro 1) must refuse an O_DIRECT write and serve a read;
 * `vmmtest.scsi_ro=1` requires one.
 *
 * JSON: disk, vendor, model, sectors (512-byte), data_sector, data_sectors, sha256, ro_disk
 * ("" when none), ro_write_refused, error.
 */
export const scsiCheck: CheckDefinition = {
  name: 'scsi',
  description: 'virtio-scsi disk: O_DIRECT write/read digest with SYNCHRONIZE CACHE; a write-protected LUN refuses writes',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" disk="" ro_disk="" want_ro b i sz=0 vendor="" model="" sum back refused=false ok
want_ro=$(vmmtest_param scsi_ro "")
i=0
while [ $i -lt 60 ]; do
  for b in "$sys"/block/sd*; do
    [ -e "$b/device" ] || continue
    case "$(readlink -f "$b/device")" in */virtio*) ;; *) continue ;; esac
    if [ "$(cat "$b/ro")" = 1 ]; then [ -n "$ro_disk" ] || ro_disk=$(basename "$b")
    else [ -n "$disk" ] || disk=$(basename "$b"); fi
  done
  [ -n "$disk" ] && { [ "$want_ro" != 1 ] || [ -n "$ro_disk" ]; } && break
  sleep 0.5
  i=$((i + 1))
done
[ -n "$disk" ] || VMMTEST_ERR="find: no writable SCSI disk on virtio_scsi"
if [ -n "$disk" ]; then
  sz=$(cat "$sys/block/$disk/size")
  vendor=$(cat "$sys/block/$disk/device/vendor" | tr -d '"\\\\' | sed 's/ *$//')
  model=$(cat "$sys/block/$disk/device/model" | tr -d '"\\\\' | sed 's/ *$//')
  [ "$sz" -ge ${SCSI_MIN_BYTES / 512} ] || VMMTEST_ERR="size: $disk has $sz sectors"
fi
vmmtest_try pattern dd if=/dev/urandom of=/tmp/scsi.pat bs=${BS} count=${SCSI_LAYOUT.data.bytes / BS}
vmmtest_try write dd if=/tmp/scsi.pat of="/dev/$disk" bs=${BS} seek=${SCSI_LAYOUT.data.offset / BS} oflag=direct conv=fsync,notrunc
vmmtest_try read dd if="/dev/$disk" of=/tmp/scsi.back bs=${BS} skip=${SCSI_LAYOUT.data.offset / BS} count=${SCSI_LAYOUT.data.bytes / BS} iflag=direct
if [ -z "$VMMTEST_ERR" ]; then
  sum=$(sha256sum < /tmp/scsi.pat | cut -d' ' -f1)
  back=$(sha256sum < /tmp/scsi.back | cut -d' ' -f1)
  [ "$sum" = "$back" ] || VMMTEST_ERR="compare: read back $back, wrote $sum"
fi
if [ -n "$ro_disk" ]; then
  dd if=/tmp/scsi.pat of="/dev/$ro_disk" bs=${BS} count=1 oflag=direct conv=notrunc 2> /dev/null || refused=true
  [ "$refused" = true ] || VMMTEST_ERR="\${VMMTEST_ERR:-ro_write: $ro_disk accepted a write}"
  vmmtest_try ro_read dd if="/dev/$ro_disk" of=/dev/null bs=${BS} count=1 iflag=direct
elif [ "$want_ro" = 1 ]; then VMMTEST_ERR="\${VMMTEST_ERR:-find_ro: no write-protected SCSI disk}"; fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"disk\\":\\"$disk\\",\\"vendor\\":\\"$vendor\\",\\"model\\":\\"$model\\",\\"sectors\\":$sz,\\"data_sector\\":${SCSI_LAYOUT.data.offset / 512},\\"data_sectors\\":${SCSI_LAYOUT.data.bytes / 512},\\"sha256\\":\\"$sum\\",\\"ro_disk\\":\\"$ro_disk\\",\\"ro_write_refused\\":$refused,\\"error\\":\\"$VMMTEST_ERR\\""`,
};
