#!/usr/bin/env bash
# Writes the test VM's initramfs for kernel VERSION to OUT: a static busybox, the init, the modprobe
# wrapper and the modules (with their dependencies, in load order) that mount the 9p shares and
# feed the VM the host's entropy.
# Usage: make-initramfs.sh VERSION OUT
set -euo pipefail
version=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox) || { echo "make-initramfs: no busybox (apt-get install busybox-static)" >&2; exit 1; }
ldd "$busybox" >/dev/null 2>&1 && { echo "make-initramfs: $busybox is not static (apt-get install busybox-static)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,mnt,modules}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$here/modprobe" "$root/modprobe"
chmod 755 "$root/init" "$root/modprobe"

# modprobe lists each module's dependencies first; keep the first mention of each. virtio_rng: the
# host's entropy (run.sh says why).
for m in virtio_pci 9pnet_virtio 9p virtio_rng; do
  modprobe -S "$version" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  name=$(basename "$ko")
  case "$ko" in
    *.xz) xz -dc "$ko" >"$root/modules/${name%.xz}"; name=${name%.xz} ;;
    *.zst) zstd -qdc "$ko" >"$root/modules/${name%.zst}"; name=${name%.zst} ;;
    *) cp "$ko" "$root/modules/$name" ;;
  esac
  echo "$name" >>"$root/modules.order"
done
[ -s "$root/modules.order" ] || { echo "make-initramfs: no 9p modules found for kernel $version" >&2; exit 1; }
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
