import type { CheckDefinition } from './check.js';

const MiB = 1 << 20;

/**
 * Where the `blk` check writes on its disk, byte offsets and lengths (all MiB-aligned): an ext2
 * filesystem at the start, then the discard, write-zeroes and data ranges. The disk must hold
 * at least {@link BLK_MIN_BYTES}.
 */
export const BLK_LAYOUT = {
  /** Filesystem made with busybox mke2fs over the first `fsBytes`. */
  fsBytes: 8 * MiB,
  /** Range discarded with `blkdiscard` (content afterwards unspecified). */
  discard: { offset: 8 * MiB, bytes: MiB },
  /** Range first filled with data, then zeroed with `blkdiscard -z` (BLKZEROOUT) and read back as zeros. */
  writeZeroes: { offset: 9 * MiB, bytes: MiB },
  /** Range written with pseudo-random data (O_DIRECT), read back and digested. */
  data: { offset: 10 * MiB, bytes: MiB },
} as const;

/** Smallest disk the `blk` check accepts, bytes. */
export const BLK_MIN_BYTES = 11 * MiB;

/** Guest path of the file the `blk` check writes into its filesystem. */
export const BLK_FS_FILE = '/vmmtest.bin';

const BS = 4096;
const blocks = (bytes: number): number => bytes / BS;
const sectors = (bytes: number): number => bytes / 512;
const { data, discard, writeZeroes } = BLK_LAYOUT;

/**
 * `blk`: on the first writable virtio disk (a /sys/block/vd* whose device's driver is
 * virtio_blk and ro is 0; `vmmtest.blk=vdX` names it): writes {@link BLK_LAYOUT}.data with
 * pseudo-random data through O_DIRECT with an fsync (FLUSH), reads it back O_DIRECT and compares
 * SHA-256 digests; `blockdev --flushbufs`; discards {@link BLK_LAYOUT}.discard and zeroes
 * {@link BLK_LAYOUT}.writeZeroes (verified) when the queue advertises them (discard_max_bytes,
 * write_zeroes_max_bytes); makes an ext2 filesystem over the first fsBytes, mounts it, writes
 * {@link BLK_FS_FILE}, unmounts, remounts read-only and checks its digest. Then the first
 * read-only virtio disk (`vmmtest.blk_ro=vdX` names it, `vmmtest.blk_ro=1` requires one) must
 * refuse an O_DIRECT write and serve a read.
 *
 * JSON: disk, sectors (disk size, 512-byte sectors), data_sector, data_sectors, sha256 (of the
 * data range), flush, discard_max_bytes, discard, write_zeroes_max_bytes, write_zeroes,
 * zero_sector, zero_sectors, fs_kbytes, fs_file, fs_bytes, fs_sha256, ro_disk ("" when none),
 * ro_write_refused, error (the failed step, "" when ok).
 */
export const blkCheck: CheckDefinition = {
  name: 'blk',
  description: 'virtio disk: O_DIRECT write/read digest, flush, discard, write-zeroes, ext2 round trip, read-only disk refuses writes',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" disk ro_disk want_ro b sz dmax=0 zmax=0 dis=false wz=false sum back zsum fsum="" fsum2 refused=false fl=false ok
disk=$(vmmtest_param blk "")
want_ro=$(vmmtest_param blk_ro "")
ro_disk=$want_ro
[ "$ro_disk" = 1 ] && ro_disk=""
for b in "$sys"/block/vd*; do
  [ "$(basename "$(readlink "$b/device/driver" 2>/dev/null)")" = virtio_blk ] || continue
  if [ "$(cat "$b/ro")" = 1 ]; then [ -n "$ro_disk" ] || ro_disk=$(basename "$b")
  else [ -n "$disk" ] || disk=$(basename "$b"); fi
done
[ -n "$disk" ] || VMMTEST_ERR="find: no writable virtio disk"
[ -n "$disk" ] && sz=$(cat "$sys/block/$disk/size")
[ -z "$VMMTEST_ERR" ] && [ "\${sz:-0}" -lt ${sectors(BLK_MIN_BYTES)} ] && VMMTEST_ERR="size: $disk has \${sz:-0} sectors, fewer than ${sectors(BLK_MIN_BYTES)}"
vmmtest_try pattern dd if=/dev/urandom of=/tmp/blk.pat bs=${BS} count=${blocks(data.bytes)}
vmmtest_try write dd if=/tmp/blk.pat of="/dev/$disk" bs=${BS} seek=${blocks(data.offset)} oflag=direct conv=fsync,notrunc
vmmtest_try read dd if="/dev/$disk" of=/tmp/blk.back bs=${BS} skip=${blocks(data.offset)} count=${blocks(data.bytes)} iflag=direct
if [ -z "$VMMTEST_ERR" ]; then
  sum=$(sha256sum < /tmp/blk.pat | cut -d' ' -f1)
  back=$(sha256sum < /tmp/blk.back | cut -d' ' -f1)
  [ "$sum" = "$back" ] || VMMTEST_ERR="compare: read back $back, wrote $sum"
fi
vmmtest_try flush blockdev --flushbufs "/dev/$disk" && fl=true
if [ -z "$VMMTEST_ERR" ]; then
  dmax=$(cat "$sys/block/$disk/queue/discard_max_bytes" 2>/dev/null || echo 0)
  zmax=$(cat "$sys/block/$disk/queue/write_zeroes_max_bytes" 2>/dev/null || echo 0)
fi
if [ "$dmax" -gt 0 ] && vmmtest_try discard /sbin/blkdiscard -f -o ${discard.offset} -l ${discard.bytes} "/dev/$disk"; then dis=true; fi
if [ "$zmax" -gt 0 ]; then
  vmmtest_try zero_fill dd if=/tmp/blk.pat of="/dev/$disk" bs=${BS} seek=${blocks(writeZeroes.offset)} oflag=direct conv=fsync,notrunc
  vmmtest_try write_zeroes /sbin/blkdiscard -f -z -o ${writeZeroes.offset} -l ${writeZeroes.bytes} "/dev/$disk"
  vmmtest_try zero_read dd if="/dev/$disk" of=/tmp/blk.back bs=${BS} skip=${blocks(writeZeroes.offset)} count=${blocks(writeZeroes.bytes)} iflag=direct
  if [ -z "$VMMTEST_ERR" ]; then
    zsum=$(sha256sum < /tmp/blk.back | cut -d' ' -f1)
    [ "$zsum" = "$(head -c ${writeZeroes.bytes} /dev/zero | sha256sum | cut -d' ' -f1)" ] && wz=true || VMMTEST_ERR="write_zeroes: range reads back non-zero"
  fi
fi
mkdir -p /mnt/blk
vmmtest_try mkfs mke2fs -F "/dev/$disk" ${BLK_LAYOUT.fsBytes / 1024}
vmmtest_try mount mount -t ext2 "/dev/$disk" /mnt/blk
vmmtest_try fs_write cp /tmp/blk.pat /mnt/blk${BLK_FS_FILE}
[ -z "$VMMTEST_ERR" ] && fsum=$(sha256sum < /mnt/blk${BLK_FS_FILE} | cut -d' ' -f1)
vmmtest_try umount umount /mnt/blk
vmmtest_try remount mount -t ext2 -o ro "/dev/$disk" /mnt/blk
if [ -z "$VMMTEST_ERR" ]; then
  fsum2=$(sha256sum < /mnt/blk${BLK_FS_FILE} | cut -d' ' -f1)
  umount /mnt/blk
  [ "$fsum2" = "$fsum" ] || VMMTEST_ERR="fs_read: $fsum2 after remount, wrote $fsum"
fi
if [ -n "$ro_disk" ]; then
  dd if=/tmp/blk.pat of="/dev/$ro_disk" bs=${BS} count=1 oflag=direct conv=notrunc > /dev/null 2>&1 || refused=true
  [ "$refused" = true ] || [ -n "$VMMTEST_ERR" ] || VMMTEST_ERR="ro_write: $ro_disk accepted a write"
  vmmtest_try ro_read dd if="/dev/$ro_disk" of=/dev/null bs=${BS} count=1 iflag=direct
elif [ "$want_ro" = 1 ] && [ -z "$VMMTEST_ERR" ]; then VMMTEST_ERR="find: no read-only virtio disk"; fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"disk\\":\\"$disk\\",\\"sectors\\":\${sz:-0},\\"data_sector\\":${sectors(data.offset)},\\"data_sectors\\":${sectors(data.bytes)},\\"sha256\\":\\"$back\\",\\"flush\\":$fl,\\"discard_max_bytes\\":$dmax,\\"discard\\":$dis,\\"write_zeroes_max_bytes\\":$zmax,\\"write_zeroes\\":$wz,\\"zero_sector\\":${sectors(writeZeroes.offset)},\\"zero_sectors\\":${sectors(writeZeroes.bytes)},\\"fs_kbytes\\":${BLK_LAYOUT.fsBytes / 1024},\\"fs_file\\":\\"${BLK_FS_FILE}\\",\\"fs_bytes\\":${data.bytes},\\"fs_sha256\\":\\"$fsum\\",\\"ro_disk\\":\\"$ro_disk\\",\\"ro_write_refused\\":$refused,\\"error\\":\\"$VMMTEST_ERR\\""`,
};
