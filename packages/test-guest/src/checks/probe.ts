import type { CheckDefinition } from './check.js';

/**
 * `probe`: one entry per /sys/bus/virtio/devices/* — device ID, vendor ID, bound driver
 * ("" when none), status byte and the negotiated feature bits (sysfs `features`, bit 0 first).
 * ok when every device has a driver bound. `$VMMTEST_SYS` (default /sys) is where sysfs is read.
 */
export const probeCheck: CheckDefinition = {
  name: 'probe',
  description: 'virtio devices: device ID, vendor, bound driver, status, negotiated feature bits',
  shell: `local list="" ok=true d id vendor status drv feats bits i c
for d in "\${VMMTEST_SYS:-/sys}"/bus/virtio/devices/*; do
  [ -e "$d/device" ] || continue
  id=$(cat "$d/device"); vendor=$(cat "$d/vendor"); status=$(cat "$d/status" 2>/dev/null || echo 0)
  drv=""
  [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
  [ -n "$drv" ] || ok=false
  feats=$(cat "$d/features" 2>/dev/null); bits=""; i=0
  while [ -n "$feats" ]; do
    c=\${feats%"\${feats#?}"}; feats=\${feats#?}
    [ "$c" = 1 ] && bits="$bits\${bits:+,}$i"
    i=$((i + 1))
  done
  list="$list\${list:+,}{\\"name\\":\\"$(basename "$d")\\",\\"device\\":$((id)),\\"vendor\\":$((vendor)),\\"driver\\":\\"$drv\\",\\"status\\":$((status)),\\"features\\":[$bits]}"
done
vmmtest_result $ok "\\"devices\\":[$list]"`,
};
