import type { CheckDefinition } from './check.js';

/** Defaults of the `net` check's parameters: QEMU user networking's guest and host addresses. */
export const NET_DEFAULTS = {
  /** `vmmtest.net=ADDRESS/PREFIX,PEER`. */
  net: '10.0.2.15/24,10.0.2.2',
  /** `vmmtest.net_up=PORT`: the peer's port that receives the guest's stream. */
  up: 5201,
  /** `vmmtest.net_down=PORT`: the peer's port that sends a stream to the guest. */
  down: 5202,
  /** `vmmtest.net_bytes=N`: bytes of each stream, a multiple of 65536. */
  bytes: 4 << 20,
} as const;

/**
 * `net`: brings up the interface of the first virtio_net device with the static address of
 * `vmmtest.net=ADDRESS/PREFIX,PEER`, pings PEER (3 echo requests, ok when any answers), sends
 * `vmmtest.net_bytes` pseudo-random bytes to PEER:`vmmtest.net_up` with busybox nc (the peer
 * closes after that many bytes) and receives a stream from PEER:`vmmtest.net_down` until the peer
 * closes. Defaults: {@link NET_DEFAULTS}. ok when the ping is answered, the upload completes and
 * exactly `net_bytes` bytes come down; the host compares the digests with its own.
 *
 * JSON: iface, address, peer, ping, bytes, sent_sha256 (of the upload), received_bytes,
 * received_sha256 (of the download), error.
 */
export const netCheck: CheckDefinition = {
  name: 'net',
  description: 'virtio-net: static address, ping the peer, multi-megabyte TCP streams both ways (busybox nc) with SHA-256 digests',
  shell: `local sys="\${VMMTEST_SYS:-/sys}" cfg addr peer up down bytes iface="" n ping=false sent="" got=0 gotsum="" ok
cfg=$(vmmtest_param net ${NET_DEFAULTS.net})
addr=\${cfg%%,*}
peer=\${cfg#*,}
up=$(vmmtest_param net_up ${NET_DEFAULTS.up})
down=$(vmmtest_param net_down ${NET_DEFAULTS.down})
bytes=$(vmmtest_param net_bytes ${NET_DEFAULTS.bytes})
for n in "$sys"/bus/virtio/drivers/virtio_net/virtio*/net/*; do [ -e "$n" ] && { iface=$(basename "$n"); break; }; done
[ -n "$iface" ] || VMMTEST_ERR="find: no virtio_net interface"
vmmtest_try lo ip link set lo up
vmmtest_try address ip addr add "$addr" dev "$iface"
vmmtest_try up ip link set "$iface" up
vmmtest_try ping ping -c 3 -w 20 "$peer" && ping=true
vmmtest_try pattern dd if=/dev/urandom of=/tmp/net.up bs=65536 count=$((bytes / 65536))
[ -z "$VMMTEST_ERR" ] && sent=$(sha256sum < /tmp/net.up | cut -d' ' -f1)
vmmtest_try upload timeout 300 sh -c "nc $peer $up < /tmp/net.up"
vmmtest_try download timeout 300 sh -c "nc $peer $down < /dev/null > /tmp/net.down"
if [ -z "$VMMTEST_ERR" ]; then
  got=$(wc -c < /tmp/net.down)
  gotsum=$(sha256sum < /tmp/net.down | cut -d' ' -f1)
  [ "$got" = "$bytes" ] || VMMTEST_ERR="download: received $got bytes, expected $bytes"
fi
rm -f /tmp/net.up /tmp/net.down
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"iface\\":\\"$iface\\",\\"address\\":\\"$addr\\",\\"peer\\":\\"$peer\\",\\"ping\\":$ping,\\"bytes\\":$bytes,\\"sent_sha256\\":\\"$sent\\",\\"received_bytes\\":$got,\\"received_sha256\\":\\"$gotsum\\",\\"error\\":\\"$VMMTEST_ERR\\""`,
};
