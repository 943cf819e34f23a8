import type { CheckDefinition } from './check.js';

/** What the host side of the `console` check answers to the guest's line `L`: `ack L`. */
export function consoleReply(line: string): string {
  return `ack ${line}`;
}

/**
 * `console`: opens `/dev/<vmmtest.console>` (default hvc0, the first virtio console port) in
 * raw mode without echo, writes the line `vmmtest-console <random uuid>` and reads one line back
 * (30 s bound). The host side must answer `ack <that line>` ({@link consoleReply}); ok when it
 * did. JSON: device, sent, received, error.
 */
export const consoleCheck: CheckDefinition = {
  name: 'console',
  description: 'virtio console: write a line to /dev/hvc0 and read the host reply "ack <line>"',
  shell: `local dev sent line="" ok
dev=/dev/$(vmmtest_param console hvc0)
sent="vmmtest-console $(cat /proc/sys/kernel/random/uuid)"
if [ -c "$dev" ]; then
  { stty raw -echo; echo "$sent" >&0; read -t 30 -r line; } <> "$dev" 2> /tmp/console.err || VMMTEST_ERR="read: no line from the host within 30 s $(tr '\\n"\\\\' '   ' < /tmp/console.err | head -c 120)"
  line=$(echo "$line" | tr -d '\\r"\\\\')
  [ -n "$VMMTEST_ERR" ] || [ "$line" = "ack $sent" ] || VMMTEST_ERR="reply: not ack of the line sent"
else VMMTEST_ERR="open: no character device $dev"; fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"device\\":\\"$dev\\",\\"sent\\":\\"$sent\\",\\"received\\":\\"$line\\",\\"error\\":\\"$VMMTEST_ERR\\""`,
};
