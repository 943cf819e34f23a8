import type { CheckDefinition } from './check.js';

/** The LED the `input` check switches on and off on a keyboard (LED_CAPSL, Linux input code 1). */
export const INPUT_LED = 1;

/**
 * `input`: waits (≤ 20 s) for `vmmtest.input=N` (default 1) evdev devices behind virtio_input
 * (`/sys/class/input/event*` whose device path runs through a virtio device) and lists them with
 * their name and capability bitmaps (sysfs `capabilities/ev`, `key`, `rel`, `abs`, `properties`).
 * On each one that has LEDs (EV_LED in `ev`) it writes EV_LED LED_CAPSL 1, then 0, to
 * /dev/input/eventN: the kernel sends them on the statusq, the host sees caps lock on and off.
 * With `vmmtest.input_host=1`, on each device with EV_ABS it reads events (≤ 30 s) until an
 * EV_ABS ABS_X arrives from the host (which must keep sending moves) and reports its value.
 * JSON: devices [{event, name, ev, key, rel, abs, props, led, host_abs_x (-1: none read)}], error.
 */
export const inputCheck: CheckDefinition = {
  name: 'input',
  description: 'virtio-input: evdev devices with their names and capabilities; caps lock LED written to a keyboard',
  shell: `local cls="\${VMMTEST_SYS:-/sys}/class/input" want host n=0 list="" e name ev led x i ok
want=$(vmmtest_param input 1)
host=$(vmmtest_param input_host 0)
i=0
while [ $i -lt 40 ]; do
  n=0
  for e in "$cls"/event*; do
    case "$(readlink -f "$e/device")" in */virtio*) n=$((n + 1)) ;; esac
  done
  [ $n -ge "$want" ] && break
  sleep 0.5
  i=$((i + 1))
done
n=0
for e in "$cls"/event*; do
  case "$(readlink -f "$e/device")" in */virtio*) ;; *) continue ;; esac
  n=$((n + 1))
  name=$(tr -d '"\\\\' < "$e/device/name")
  ev=$(cat "$e/device/capabilities/ev")
  led=false
  # EV_LED is bit 0x11 of the ev bitmap (hex, most significant word first).
  if [ $(( 0x$ev >> 17 & 1 )) = 1 ]; then
    led_event() { printf '\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\021\\000\\001\\000'"$1"'\\000\\000\\000'; }
    { led_event '\\001'; sleep 0.2; led_event '\\000'; } > "/dev/input/$(basename "$e")" 2> /tmp/input.err && led=true || VMMTEST_ERR="led: $(tr '\\n"\\\\' '   ' < /tmp/input.err | head -c 120)"
  fi
  x=-1
  # EV_ABS is bit 3: read events (struct input_event, 24 bytes: type u16 at 16, code at 18, value s32 at 20) until ABS_X.
  if [ "$host" = 1 ] && [ $(( 0x$ev >> 3 & 1 )) = 1 ]; then
    timeout 30 dd if="/dev/input/$(basename "$e")" of=/tmp/input.bin bs=24 count=3 2> /dev/null
    x=$(od -An -v -tu2 /tmp/input.bin | tr -s ' \\n' '\\n\\n' | grep -v '^$' | awk '{w[NR-1]=$1} END {for (e = 0; e * 12 + 11 < NR; e++) if (w[e*12+8] == 3 && w[e*12+9] == 0) {print w[e*12+10] + w[e*12+11] * 65536; exit} print -1}')
    [ "$x" -ge 0 ] || VMMTEST_ERR="\${VMMTEST_ERR:-host_event: no ABS_X from the host on $(basename "$e") within 30 s}"
  fi
  list="$list\${list:+,}{\\"event\\":\\"$(basename "$e")\\",\\"name\\":\\"$name\\",\\"ev\\":\\"$ev\\",\\"key\\":\\"$(cat "$e/device/capabilities/key")\\",\\"rel\\":\\"$(cat "$e/device/capabilities/rel")\\",\\"abs\\":\\"$(cat "$e/device/capabilities/abs")\\",\\"props\\":\\"$(cat "$e/device/properties")\\",\\"led\\":$led,\\"host_abs_x\\":$x}"
done
[ $n -ge "$want" ] || VMMTEST_ERR="\${VMMTEST_ERR:-find: $n virtio evdev devices, expected $want}"
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"devices\\":[$list],\\"error\\":\\"$VMMTEST_ERR\\""`,
};
