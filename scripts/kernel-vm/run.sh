#!/usr/bin/env bash
# Runs a shell script as root inside Debian's stock kernel under qemu (software emulation), with this
# machine's / as the VM's read-only root, and passes on the script's output and exit code.
#   run.sh SCRIPT [DIR]  boot, run SCRIPT (chrooted, its cwd a writable directory shared with this
#                        machine: DIR, kept afterwards, or a scratch one), power off
#   run.sh --check  exit 0 when the lane can run here, else print one line saying why and exit 2
# The script sees this machine's files at their usual paths, with fresh tmpfs on /run, /tmp and
# /etc/netns, and the guest kernel's modules (autoloaded) from /lib/modules.
# Environment: KERNEL_VM_TIMEOUT (seconds, default 900), KERNEL_VM_KERNEL (a vmlinuz to use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The kernel Debian's linux-image-amd64 stands for (it depends on linux-image-VERSION), if its
# modules are installed; else the newest /boot/vmlinuz-* whose modules are. Not simply the newest:
# an -rt-amd64 kernel sorts after it, and under emulation wan-emulation's 40 ms round trip measured
# 122 ms there (43 ms under the stock kernel).
stock_kernel() {
  local v
  v=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
  [ -n "$v" ] && [ -r "/boot/vmlinuz-$v" ] && [ -e "/lib/modules/$v/modules.dep" ] && echo "/boot/vmlinuz-$v"
}

find_kernel() {
  local k v
  stock_kernel && return 0
  for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    v=${k#/boot/vmlinuz-}
    [ -r "$k" ] && [ -e "/lib/modules/$v/modules.dep" ] && { echo "$k"; return 0; }
  done
  return 1
}

unavailable() {
  command -v qemu-system-x86_64 >/dev/null || { echo "no qemu-system-x86_64 (apt-get install qemu-system-x86)"; return 0; }
  qemu-system-x86_64 -version >/dev/null 2>&1 || { echo "qemu-system-x86_64 does not start here"; return 0; }
  [ "$(id -u)" -eq 0 ] || { echo "not root: the VM's root is this machine's / and its tests run as root"; return 0; }
  [ -n "${KERNEL_VM_KERNEL:-}" ] || find_kernel >/dev/null || { echo "no /boot/vmlinuz-* with its modules (apt-get install linux-image-amd64)"; return 0; }
  command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1 || { echo "no static busybox (apt-get install busybox-static)"; return 0; }
  command -v modprobe >/dev/null || [ -x /sbin/modprobe ] || { echo "no modprobe (apt-get install kmod)"; return 0; }
  return 1
}

if [ "${1:-}" = --check ]; then
  if why=$(unavailable); then echo "kernel-vm: skipped: $why"; exit 2; fi
  exit 0
fi
script=${1:?usage: run.sh SCRIPT [DIR] | run.sh --check}
keep=${2:-}
if why=$(unavailable); then echo "kernel-vm: cannot run: $why" >&2; exit 2; fi

kernel=${KERNEL_VM_KERNEL:-$(find_kernel)}
version=${kernel#*/vmlinuz-}
if [ -n "$keep" ]; then
  mkdir -p "$keep" && share=$(cd "$keep" && pwd)
else
  share=$(mktemp -d /tmp/kernel-vm.XXXXXX)
  trap 'rm -rf "$share"' EXIT
fi
rm -f "$share/exit-code" "$share/output.log" "$share/boot-seconds" "$share/end-seconds"
[ "$(realpath "$script")" = "$share/script.sh" ] || cp "$script" "$share/script.sh"
PATH=$PATH:/sbin:/usr/sbin "$here/make-initramfs.sh" "$version" "$share/initramfs.gz"

# The project, shared on its own: a checkout under /tmp or /run would be hidden by the VM's tmpfs there.
project=$(cd "$here/../.." && pwd)
case "$project" in *[[:space:]]*) echo "kernel-vm: cannot run: the project's path has a space: $project" >&2; exit 2 ;; esac

# tcg: /dev/kvm may exist in a container and still not work; emulation always does.
# virtio-rng-pci: the host's entropy. Without it the VM's random pool was still not ready 4 s after
# boot, and WireGuard drops handshakes until it is: a tunnel lab's first pings failed once so.
# multidevs=remap: without it /proc and /sys of this machine share inode numbers over 9p and a
# sysfs mounted in the VM shows up on /proc too ("Cannot open init namespace" from ip netns).
boot() {
  status=0
  # pdeathsig on both: when this script is killed (a test run stopped), timeout and qemu go with it.
  setpriv --pdeathsig KILL timeout "${KERNEL_VM_TIMEOUT:-900}" setpriv --pdeathsig KILL qemu-system-x86_64 -accel tcg,thread=multi -m 2048 -smp 2 \
    -kernel "$kernel" -initrd "$share/initramfs.gz" -nographic -no-reboot -nodefaults -serial stdio \
    -device virtio-rng-pci \
    -append "console=ttyS0 panic=-1 quiet netlab.project=$project" \
    -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$project,mount_tag=project,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,multidevs=remap" \
    </dev/null >"$share/console.log" 2>&1 || status=$?
}
start=$(date +%s)
boot
# A VM that stopped before the script began (no boot-seconds) failed in emulation, not in the
# test: boot once more, saying so. A script that began is never run twice.
if [ ! -s "$share/boot-seconds" ] && [ "$status" -ne 124 ]; then
  echo "kernel-vm: the VM stopped before the script began (qemu exit $status), booting again; its console:" >&2
  tail -n 20 "$share/console.log" >&2
  boot
fi
elapsed=$(( $(date +%s) - start ))

[ -f "$share/output.log" ] && cat "$share/output.log"
if [ ! -s "$share/exit-code" ]; then
  [ "$status" -eq 124 ] && echo "kernel-vm: timed out after ${KERNEL_VM_TIMEOUT:-900} s" >&2
  echo "kernel-vm: the script did not finish (qemu exit $status); the VM's console:" >&2
  tail -n 40 "$share/console.log" >&2
  exit 1
fi
echo "kernel-vm: kernel $version, booted in $(cat "$share/boot-seconds" 2>/dev/null || echo '?') s, script done $(cat "$share/end-seconds" 2>/dev/null || echo '?') s after boot, ${elapsed} s in all" >&2
exit "$(cat "$share/exit-code")"
