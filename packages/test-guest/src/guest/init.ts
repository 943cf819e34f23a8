import type { CheckDefinition } from '../checks/check.js';
import { MODULE_LIST } from './initramfs.js';

const CHECK_NAME = /^[a-z0-9_]+$/;

/**
 * Shell that mounts proc, sysfs and devtmpfs, records the uptime in `$VMMTEST_UPTIME` and
 * loads the modules of {@link MODULE_LIST} in order, collecting failures in `$VMMTEST_MODFAIL`.
 * Shared by the test guest's /init and the rig's L1 /init.
 */
export const INIT_PRELUDE = `export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
read VMMTEST_UPTIME VMMTEST_IDLE < /proc/uptime
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
VMMTEST_MODFAIL=""
VMMTEST_MODCOUNT=0
while read VMMTEST_MOD; do
  if insmod "/lib/modules/$(uname -r)/$VMMTEST_MOD"; then VMMTEST_MODCOUNT=$((VMMTEST_MODCOUNT + 1))
  else VMMTEST_MODFAIL="$VMMTEST_MODFAIL\${VMMTEST_MODFAIL:+,}\\"$(basename "$VMMTEST_MOD" .ko)\\""; fi
done < ${MODULE_LIST}
`;

/**
 * Generates the test guest's /init: runs the checks named in `vmmtest=a,b` on the kernel
 * command line in that order, after a `modules` result line, prints
 * `VMMTEST {"done":true,"ok":...}` and powers off. Unknown names yield a failed result.
 * @throws Error for a check name that is not [a-z0-9_]+ or defined twice.
 */
export function testGuestInit(checks: readonly CheckDefinition[]): string {
  const seen = new Set<string>();
  for (const c of checks) {
    if (!CHECK_NAME.test(c.name)) throw new Error(`invalid check name ${JSON.stringify(c.name)}`);
    if (seen.has(c.name)) throw new Error(`check ${c.name} defined twice`);
    seen.add(c.name);
  }
  const functions = checks.map((c) => `check_${c.name}() {\n${c.shell}\n}\n`).join('');
  const cases = checks.map((c) => `    ${c.name}) check_${c.name} ;;\n`).join('');
  return `#!/bin/sh
# virtio-ts test guest /init: runs the checks named by vmmtest= on the kernel command line.
${INIT_PRELUDE}
VMMTEST_OK=true
vmmtest_result() {
  [ "$1" = true ] || VMMTEST_OK=false
  echo "VMMTEST {\\"check\\":\\"$VMMTEST_CHECK\\",\\"ok\\":$1\${2:+,}$2}"
}
vmmtest_param() {
  local a v="$2"
  for a in $(cat "\${VMMTEST_CMDLINE:-/proc/cmdline}"); do
    case "$a" in "vmmtest.$1="*) v="\${a#vmmtest.$1=}" ;; esac
  done
  echo "$v"
}
vmmtest_try() {
  [ -z "$VMMTEST_ERR" ] || return 1
  local step="$1"
  shift
  "$@" > /tmp/vmmtest.out 2> /tmp/vmmtest.err && return 0
  VMMTEST_ERR="$step: $(tr '\\n\\t"\\\\' '    ' < /tmp/vmmtest.err | head -c 160)"
  return 1
}
${functions}
VMMTEST_CHECK=modules
if [ -z "$VMMTEST_MODFAIL" ]; then vmmtest_result true "\\"loaded\\":$VMMTEST_MODCOUNT"
else vmmtest_result false "\\"loaded\\":$VMMTEST_MODCOUNT,\\"failed\\":[$VMMTEST_MODFAIL]"; fi
VMMTEST_CHECKS=""
for VMMTEST_ARG in $(cat /proc/cmdline); do
  case "$VMMTEST_ARG" in vmmtest=*) VMMTEST_CHECKS="\${VMMTEST_ARG#vmmtest=}" ;; esac
done
for VMMTEST_CHECK in $(echo "$VMMTEST_CHECKS" | tr ',' ' '); do
  VMMTEST_ERR=""
  case "$VMMTEST_CHECK" in
${cases}    *) vmmtest_result false "\\"error\\":\\"unknown check\\"" ;;
  esac
done
echo "VMMTEST {\\"done\\":true,\\"ok\\":$VMMTEST_OK}"
sync
poweroff -f
`;
}
