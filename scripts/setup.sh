#!/usr/bin/env bash
# Sets up a Debian machine for netlab, as root: the kernel tools the labs use, then the project.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh installs system packages and netlab works on network namespaces: run it as root" >&2
  exit 1
fi

# iproute2: ip, the tool the labs teach; util-linux: nsenter, unshare, flock; procps: sysctl;
# iputils-ping: the labs' tests; nftables, socat: NAT labs and test listeners; docker.io and
# busybox-static: the kernel test of container: NAME, which starts its own dockerd in its sandbox;
# tcpdump: netlab capture, which runs it inside a node's namespace; radvd: the router advertisements of
# the ipv6-slaac lab; iperf3: throughput tests; wireguard-tools: wg, which sets a WireGuard interface's
# keys and peers.
# qemu-system-x86, linux-image-amd64, kmod: the full-kernel test lane (scripts/kernel-vm/) boots
# Debian's stock kernel, which has netem, VLAN, VRF and the rest as modules, with busybox-static as
# its initramfs. In a container (no boot loader) the kernel is only a file under /boot for qemu.
# tiny-initramfs: the kernel package needs some initramfs tool; this one (unused: the lane makes its
# own) pulls in neither udev nor a systemd upgrade, as initramfs-tools would.
packages=(iproute2 util-linux procps iputils-ping nftables socat docker.io busybox-static tcpdump radvd iperf3 wireguard-tools
  qemu-system-x86 tiny-initramfs linux-image-amd64 kmod)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No recommends (apparmor, git, ...); and no service starts: the machine's network is not docker's to change.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "netlab needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
