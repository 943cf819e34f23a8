import type { CheckDefinition } from './check.js';

/** Unbind/bind cycles per device of the `reload` check by default (`vmmtest.reload=N`). */
export const RELOAD_CYCLES = 20;

/**
 * `reload`: for each /sys/bus/virtio/devices/* bound to a driver, `vmmtest.reload` times
 * (default {@link RELOAD_CYCLES}): writes the device name to the driver's `unbind` (the device
 * must be left without a driver), then to its `bind`, and waits up to 10 s for it to come back:
 * virtio_blk's block device in /sys and /dev, virtio_net's interface, virtio_console's port,
 * virtio_rng in rng_available, any other driver bound again. ok when every cycle of every device
 * succeeded. JSON: cycles, devices [{name, driver, ok (cycles that succeeded), error}].
 */
export const reloadCheck: CheckDefinition = {
  name: 'reload',
  description: 'unbind and rebind every bound virtio device N times through sysfs, checking it comes back',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" cycles list="" ok=true d name drv good i err
cycles=$(vmmtest_param reload ${RELOAD_CYCLES})
vmmtest_reload_back() {
  local t=0 b
  while [ $t -lt 100 ]; do
    if [ -e "$1/driver" ]; then
      case "$2" in
        virtio_blk) for b in "$1"/block/*; do [ -b "/dev/$(basename "$b")" ] && return 0; done ;;
        virtio_net) ls "$1"/net/* > /dev/null 2>&1 && return 0 ;;
        virtio_console) ls -d "$1"/virtio-ports/vport* > /dev/null 2>&1 && return 0 ;;
        virtio_rng) grep -q virtio_rng "$sys/class/misc/hw_random/rng_available" 2> /dev/null && return 0 ;;
        *) return 0 ;;
      esac
    fi
    usleep 100000
    t=$((t + 1))
  done
  return 1
}
for d in "$sys"/bus/virtio/devices/*; do
  [ -e "$d/driver" ] || continue
  name=$(basename "$d")
  drv=$(basename "$(readlink "$d/driver")")
  good=0; i=0; err=""
  while [ $i -lt "$cycles" ] && [ -z "$err" ]; do
    i=$((i + 1))
    echo "$name" > "$sys/bus/virtio/drivers/$drv/unbind" 2> /dev/null || err="unbind failed in cycle $i"
    [ -z "$err" ] && [ -e "$d/driver" ] && err="still bound after unbind in cycle $i"
    [ -z "$err" ] && { echo "$name" > "$sys/bus/virtio/drivers/$drv/bind" 2> /dev/null || err="bind failed in cycle $i"; }
    [ -z "$err" ] && { vmmtest_reload_back "$d" "$drv" || err="did not come back in cycle $i"; }
    [ -z "$err" ] && good=$((good + 1))
  done
  [ "$good" = "$cycles" ] || ok=false
  list="$list\${list:+,}{\\"name\\":\\"$name\\",\\"driver\\":\\"$drv\\",\\"ok\\":$good,\\"error\\":\\"$err\\"}"
done
vmmtest_result $ok "\\"cycles\\":$cycles,\\"devices\\":[$list]"`,
};
