#!/usr/bin/env bash
# Sets up a fresh Debian machine for virtio-ts: the npm dependencies, and the host tools
# the real-guest tests need (QEMU for the nested KVM rig when this host's /dev/kvm cannot
# run a stock kernel; cpio and acpica-tools used by tests). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cpio >/dev/null || need+=(cpio)
command -v iasl >/dev/null || need+=(acpica-tools)
if ! grep -qwE 'svm|vmx' /proc/cpuinfo || [ -d /sys/module/kvm_pvm ]; then
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]} (apt-get install ${need[*]})" >&2
  fi
fi
node scripts/lock-optional-platforms.mjs
npm ci --no-fund --no-audit
