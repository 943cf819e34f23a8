import type { CheckDefinition } from './check.js';

/**
 * `rng`: /sys/class/misc/hw_random/rng_available must list a `virtio_rng.N`; the check makes it
 * rng_current and reads `vmmtest.rng_bytes` (default 4096) from /dev/hwrng. ok when all bytes
 * came and not all are zero. JSON: available (the whole list), current, bytes (requested),
 * read, nonzero (bytes read that are not 0), error.
 */
export const rngCheck: CheckDefinition = {
  name: 'rng',
  description: 'virtio-rng: listed in rng_available, made current, /dev/hwrng yields N bytes',
  shell: `local hw="\${VMMTEST_SYS:-/sys}/class/misc/hw_random" avail="" name="" cur="" n got=0 nz=0 ok
n=$(vmmtest_param rng_bytes 4096)
avail=$(cat "$hw/rng_available" 2>/dev/null)
for name in $avail ""; do case "$name" in virtio_rng.*) break ;; esac; done
[ -n "$name" ] || VMMTEST_ERR="find: no virtio_rng in rng_available"
[ -z "$VMMTEST_ERR" ] && { echo "$name" > "$hw/rng_current" || VMMTEST_ERR="select: cannot make $name current"; }
cur=$(cat "$hw/rng_current" 2>/dev/null)
vmmtest_try read dd if=/dev/hwrng of=/tmp/rng.bin bs="$n" count=1 iflag=fullblock
if [ -z "$VMMTEST_ERR" ]; then
  got=$(wc -c < /tmp/rng.bin)
  nz=$(tr -d '\\000' < /tmp/rng.bin | wc -c)
  [ "$got" = "$n" ] || VMMTEST_ERR="read: $got of $n bytes"
  [ "$nz" -gt 0 ] || VMMTEST_ERR="read: all bytes zero"
fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"available\\":\\"$avail\\",\\"current\\":\\"$cur\\",\\"bytes\\":$n,\\"read\\":$got,\\"nonzero\\":$nz,\\"error\\":\\"$VMMTEST_ERR\\""`,
};
