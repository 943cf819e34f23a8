import type { CheckDefinition } from './check.js';

/** Drivers the `drivers` check expects to see bound by default (`vmmtest.drivers=` overrides). */
export const EXPECTED_DRIVERS: readonly string[] = ['virtio_blk', 'virtio_net', 'virtio_console', 'virtio_rng'];

/**
 * `drivers`: every /sys/bus/virtio/drivers/* with the devices bound to it, as
 * `"drivers":{"virtio_blk":["virtio0"],...}`. ok when each driver of `vmmtest.drivers=a,b`
 * (default {@link EXPECTED_DRIVERS}) has a device; the others are listed in `"missing"`.
 */
export const driversCheck: CheckDefinition = {
  name: 'drivers',
  description: 'virtio drivers and the devices bound to each; ok when the expected drivers have devices',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" list="" missing="" ok=true d n drv devs
for d in "$sys"/bus/virtio/drivers/*; do
  [ -d "$d" ] || continue
  devs=""
  for n in "$d"/virtio*; do [ -e "$n" ] && devs="$devs\${devs:+,}\\"$(basename "$n")\\""; done
  list="$list\${list:+,}\\"$(basename "$d")\\":[$devs]"
done
for drv in $(vmmtest_param drivers ${EXPECTED_DRIVERS.join(',')} | tr ',' ' '); do
  ls -d "$sys/bus/virtio/drivers/$drv"/virtio* > /dev/null 2>&1 && continue
  ok=false
  missing="$missing\${missing:+,}\\"$drv\\""
done
vmmtest_result $ok "\\"drivers\\":{$list},\\"missing\\":[$missing]"`,
};
