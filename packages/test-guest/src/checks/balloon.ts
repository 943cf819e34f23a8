import type { CheckDefinition } from './check.js';

/**
 * `balloon`: the host asked for a balloon of `vmmtest.balloon_mib` MiB (default 64) from the
 * start. Waits (≤ 60 s) until /proc/vmstat's balloon_inflate - balloon_deflate reaches that many
 * 4 KiB pages and records MemTotal; unbinds virtio_balloon (the driver deflates everything on
 * remove) and records MemTotal again; binds it back and waits for the balloon to refill. ok when
 * the balloon reached the size both times and MemTotal grew by exactly the balloon on unbind
 * (VIRTIO_BALLOON_F_DEFLATE_ON_OOM not negotiated: ballooned pages leave MemTotal).
 * JSON: mib, pages (balloon pages after the wait), mem_total_kb, mem_total_deflated_kb,
 * mem_total_rebound_kb, error.
 */
export const balloonCheck: CheckDefinition = {
  name: 'balloon',
  description: 'virtio-balloon: the balloon reaches the host target, MemTotal shrinks by it, unbind gives it back',
  shell: `local drv="\${VMMTEST_SYS:-/sys}/bus/virtio/drivers/virtio_balloon" mib want dev="" pages=0 mt1=0 mt0=0 mt2=0 ok
mib=$(vmmtest_param balloon_mib 64)
want=$((mib * 256))
balloon_pages() { awk '/^balloon_inflate / {i=$2} /^balloon_deflate / {d=$2} END {print i - d}' /proc/vmstat; }
balloon_wait() {
  local i=0
  while [ $i -lt 120 ]; do
    pages=$(balloon_pages)
    [ "$pages" -ge "$1" ] && [ "$pages" -le "$2" ] && return 0
    sleep 0.5
    i=$((i + 1))
  done
  return 1
}
mem_total() { awk '/^MemTotal:/ {print $2}' /proc/meminfo; }
for d in "$drv"/virtio*; do [ -e "$d" ] && dev=$(basename "$d") && break; done
[ -n "$dev" ] || VMMTEST_ERR="find: no device bound to virtio_balloon"
[ -z "$VMMTEST_ERR" ] && { balloon_wait "$want" "$want" || VMMTEST_ERR="inflate: $pages pages in the balloon, host asked for $want"; }
mt1=$(mem_total)
if [ -z "$VMMTEST_ERR" ]; then
  echo "$dev" > "$drv/unbind" || VMMTEST_ERR="unbind: failed"
  [ -z "$VMMTEST_ERR" ] && { balloon_wait 0 0 || VMMTEST_ERR="deflate: $pages pages left after unbind"; }
  mt0=$(mem_total)
  [ -z "$VMMTEST_ERR" ] && [ $((mt0 - mt1)) -ne $((mib * 1024)) ] && VMMTEST_ERR="memtotal: grew by $((mt0 - mt1)) KiB on unbind, expected $((mib * 1024))"
  echo "$dev" > "$drv/bind" || VMMTEST_ERR="\${VMMTEST_ERR:-bind: failed}"
  [ -z "$VMMTEST_ERR" ] && { balloon_wait "$want" "$want" || VMMTEST_ERR="reinflate: $pages pages after bind, host asked for $want"; }
  mt2=$(mem_total)
fi
[ -z "$VMMTEST_ERR" ] && ok=true || ok=false
vmmtest_result $ok "\\"mib\\":$mib,\\"pages\\":$pages,\\"mem_total_kb\\":$mt1,\\"mem_total_deflated_kb\\":$mt0,\\"mem_total_rebound_kb\\":$mt2,\\"error\\":\\"$VMMTEST_ERR\\""`,
};
