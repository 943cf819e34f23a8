import type { CheckDefinition } from './check.js';
import { GUEST_HELPER_PATH } from './helper.js';

/** Ports of the `vsock` check: the host port the guest connects to, the guest port the host connects to. */
export const VSOCK_DEFAULTS = { hostPort: 1234, guestPort: 5000, seconds: 60 } as const;

/** What the host side answers to the line L the guest sends (and the guest to the host's line): `ack L`. */
export function vsockReply(line: string): string {
  return `ack ${line}`;
}

/**
 * `vsock` (needs {@link GUEST_HELPER_PATH}, see `guestHelperFile`): reads the guest's own CID,
 * starts a listener on guest port `vmmtest.vsock_listen` (default 5000) that answers the first
 * line L of one connection with `ack L`, connects to the host (CID 2) port `vmmtest.vsock_port`
 * (default 1234), sends `vmmtest-vsock <uuid>` and reads the answer, which must be `ack <that
 * line>`; then waits (≤ `vmmtest.vsock_seconds`, default 60) for the host's connection to the
 * listener. JSON: cid, port, sent, received, listen, served (the line the host sent in), error.
 */
export const vsockCheck: CheckDefinition = {
  name: 'vsock',
  description: 'virtio-vsock: guest connects to host CID 2 and exchanges a line; the host connects into a guest listener',
  shell: `local io=${GUEST_HELPER_PATH} cid="" port lport secs sent got="" served="" pid ok
port=$(vmmtest_param vsock_port ${VSOCK_DEFAULTS.hostPort})
lport=$(vmmtest_param vsock_listen ${VSOCK_DEFAULTS.guestPort})
secs=$(vmmtest_param vsock_seconds ${VSOCK_DEFAULTS.seconds})
[ -x "$io" ] || VMMTEST_ERR="helper: no $io in the guest"
vmmtest_try cid "$io" cid && cid=$(cat /tmp/vmmtest.out)
if [ -z "$VMMTEST_ERR" ]; then
  "$io" serve "$lport" "$secs" > /tmp/vsock.served 2> /tmp/vsock.serve.err &
  pid=$!
fi
sent="vmmtest-vsock $(cat /proc/sys/kernel/random/uuid)"
vmmtest_try connect "$io" connect 2 "$port" "$sent" "$secs" && got=$(tr -d '"\\\\' < /tmp/vmmtest.out)
[ -n "$VMMTEST_ERR" ] || [ "$got" = "ack $sent" ] || VMMTEST_ERR="reply: not ack of the line sent"
if [ -n "$pid" ]; then
  wait "$pid" || VMMTEST_ERR="\${VMMTEST_ERR:-serve: $(tr '\\n"\\\\' '   ' < /tmp/vsock.serve.err | head -c 120)}"
  served=$(tr -d '"\\\\' < /tmp/vsock.served)
fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"cid\\":\\"$cid\\",\\"port\\":$port,\\"sent\\":\\"$sent\\",\\"received\\":\\"$got\\",\\"listen\\":$lport,\\"served\\":\\"$served\\",\\"error\\":\\"$VMMTEST_ERR\\""`,
};
