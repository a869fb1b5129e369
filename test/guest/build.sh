#!/usr/bin/env bash
# Build the ffvm test guest into OUTDIR:
#   OUTDIR/vmlinuz                the host's newest /boot/vmlinuz-* (or $FFVM_GUEST_KERNEL)
#   OUTDIR/vmlinux                the same kernel decompressed, only for kernels built
#                                 with CONFIG_PVH=y (the runner then boots this one)
#   OUTDIR/initrd.img             gzip-compressed newc cpio: static busybox, kernel modules,
#                                 test/guest/init as /init and nix/scripts as /opt/ffvm/bin
#   OUTDIR/bin/run-testguest-vm   runner with the interface of a NixOS run-*-vm script
#
# The build is skipped when OUTDIR/.inputs matches the current inputs, so calling it
# again is cheap. Needs: bash, busybox (static), cpio, gzip, sha256sum, and a kernel
# with its modules under /lib/modules/VERSION.
set -euo pipefail

usage() {
  echo "usage: $0 OUTDIR" >&2
  exit 2
}

[[ $# -eq 1 && -n $1 ]] || usage

guest_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$guest_src/../.." && pwd)
scripts_src=$repo_root/nix/scripts
mkdir -p "$1"
out=$(cd "$1" && pwd)

# Modules the guest loads, in this order, each after its dependencies from modules.dep.
# button enables the ACPI power button event that QMP system_powerdown raises.
required_modules=(qemu_fw_cfg virtio_pci virtio_blk virtio_net virtio_console button)
optional_modules=(e1000)

kernel=${FFVM_GUEST_KERNEL:-}
if [[ -z $kernel ]]; then
  kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -type f | sort -V | tail -n 1)
fi
if [[ -z $kernel || ! -r $kernel ]]; then
  echo "build.sh: no readable kernel found; install linux-image-amd64 or set FFVM_GUEST_KERNEL" >&2
  exit 1
fi
kernel_version=${FFVM_GUEST_KERNEL_VERSION:-${kernel##*/vmlinuz-}}
module_dir=/lib/modules/$kernel_version
if [[ ! -r $module_dir/modules.dep ]]; then
  echo "build.sh: $module_dir/modules.dep not found for kernel $kernel" >&2
  exit 1
fi

busybox=$(command -v busybox || true)
if [[ -z $busybox ]]; then
  echo "build.sh: busybox not found; install busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build.sh: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

# Everything that changes the output, one line each: files by content, the kernel and
# modules by path, size and mtime.
describe_inputs() {
  sha256sum "$guest_src/build.sh" "$guest_src/init" "$guest_src/run-testguest-vm" \
    "$busybox" "$scripts_src"/*
  stat -c '%n %s %Y' "$kernel" "$module_dir/modules.dep"
  echo "modules ${required_modules[*]} / ${optional_modules[*]}"
}

# Write the ELF kernel inside the compressed bzImage IMAGE to TARGET. QEMU boots an
# ELF kernel with a PVH note directly, which skips the decompression inside the guest
# (about 2.5 s of a 6 s boot under TCG on a 2-core x86-64 host, Debian 6.1 kernel).
extract_vmlinux() {
  local image=$1 target=$2 format magic offset
  local -a decompress offsets
  for format in xz gzip zstd; do
    case $format in
      xz) magic='\xfd7zXZ\x00' decompress=(xz -dc) ;;
      gzip) magic='\x1f\x8b\x08' decompress=(gzip -dc) ;;
      zstd) magic='\x28\xb5\x2f\xfd' decompress=(zstd -qdc) ;;
    esac
    command -v "${decompress[0]}" >/dev/null || continue
    mapfile -t offsets < <(LC_ALL=C grep -obUaP "$magic" "$image" | cut -d: -f1)
    for offset in "${offsets[@]}"; do
      # Other bzImage data follows the stream, so the decompressor exits non-zero
      # after writing the whole kernel. The ELF check below decides.
      tail -c +$((offset + 1)) "$image" | "${decompress[@]}" >"$target" 2>/dev/null || true
      if [[ $(head -c 4 "$target" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
        return 0
      fi
    done
  done
  rm -f "$target"
  return 1
}

inputs=$(describe_inputs)
if [[ -f $out/.inputs && -f $out/vmlinuz && -f $out/initrd.img && -x $out/bin/run-testguest-vm ]] &&
  [[ $(cat "$out/.inputs") == "$inputs" ]]; then
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ffvm-guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# modules.dep maps "kernel/path/name.ko[.xz]: dep.ko ..." with paths relative to
# module_dir. Module names treat '-' and '_' as the same character.
declare -A dep_line=()
declare -A path_of=()
while IFS= read -r line; do
  path=${line%%:*}
  base=${path##*/}
  name=${base%%.ko*}
  name=${name//-/_}
  path_of[$name]=$path
  dep_line[$path]=${line#*:}
done <"$module_dir/modules.dep"

declare -A builtin=()
if [[ -r $module_dir/modules.builtin ]]; then
  while IFS= read -r path; do
    base=${path##*/}
    name=${base%%.ko*}
    builtin[${name//-/_}]=1
  done <"$module_dir/modules.builtin"
fi

load_order=()
declare -A visited=()

# Append PATH to load_order after its dependencies (depth-first, each once).
add_module_path() {
  local path=$1 dep
  [[ -n ${visited[$path]:-} ]] && return 0
  visited[$path]=1
  for dep in ${dep_line[$path]}; do
    add_module_path "$dep"
  done
  load_order+=("$path")
}

add_module() {
  local name=${1//-/_} required=$2
  if [[ -n ${builtin[$name]:-} ]]; then
    return 0
  fi
  if [[ -z ${path_of[$name]:-} ]]; then
    if [[ $required == required ]]; then
      echo "build.sh: kernel module $name not found in $module_dir/modules.dep" >&2
      exit 1
    fi
    return 0
  fi
  add_module_path "${path_of[$name]}"
}

for name in "${required_modules[@]}"; do
  add_module "$name" required
done
for name in "${optional_modules[@]}"; do
  add_module "$name" optional
done

mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc,home,root,opt/ffvm/bin,lib/ffvm-modules}
ln -s bin "$root/sbin"
mkdir -p "$root/usr"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
done

# Modules are stored decompressed because busybox insmod may lack xz and zstd support.
: >"$root/lib/ffvm-modules/load-order"
for path in "${load_order[@]}"; do
  base=${path##*/}
  name=${base%%.ko*}.ko
  case $base in
    *.ko) cp "$module_dir/$path" "$root/lib/ffvm-modules/$name" ;;
    *.ko.xz) xz -dc "$module_dir/$path" >"$root/lib/ffvm-modules/$name" ;;
    *.ko.gz) gzip -dc "$module_dir/$path" >"$root/lib/ffvm-modules/$name" ;;
    *.ko.zst) zstd -qdc "$module_dir/$path" >"$root/lib/ffvm-modules/$name" ;;
    *)
      echo "build.sh: unsupported module file $module_dir/$path" >&2
      exit 1
      ;;
  esac
  echo "$name" >>"$root/lib/ffvm-modules/load-order"
done

install -m 0755 "$guest_src/init" "$root/init"
for script in "$scripts_src"/*; do
  install -m 0755 "$script" "$root/opt/ffvm/bin/${script##*/}"
done
chmod 1777 "$root/tmp"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
  cpio --null --create --format=newc --owner=0:0 --quiet) | gzip -n -6 >"$work/initrd.img"

mkdir -p "$out/bin"
cp "$kernel" "$work/vmlinuz"
rm -f "$out/vmlinux"
if grep -qx 'CONFIG_PVH=y' "/boot/config-$kernel_version" 2>/dev/null; then
  if extract_vmlinux "$kernel" "$work/vmlinux"; then
    mv -f "$work/vmlinux" "$out/vmlinux"
  else
    echo "build.sh: decompressing $kernel failed, so the runner boots the compressed image (slower under TCG)" >&2
  fi
fi
install -m 0755 "$guest_src/run-testguest-vm" "$work/run-testguest-vm"
rm -f "$out/.inputs"
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/initrd.img" "$out/initrd.img"
mv -f "$work/run-testguest-vm" "$out/bin/run-testguest-vm"
printf '%s\n' "$inputs" >"$out/.inputs"
