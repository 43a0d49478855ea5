#!/usr/bin/env bash
# Measures the example appliance (examples/appliance): build seconds and output size of the
# compacted qcow2 with and without the 99-cleanup step and disk compression, straight through
# packer (no registry, no Pulumi). Takes a few minutes per variant under software emulation.
#
#   bash bench/appliance.sh [variant ...]     variants: full no-cleanup no-compression neither zero-fill
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
for tool in packer qemu-system-x86_64 qemu-img ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed: run \`npm run setup\`" >&2; exit 1; }
done
source_dir=$(bash "$WARMRUN_ROOT/examples/appliance/source/make-source-disk.sh")
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(full no-cleanup no-compression neither)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N "" -C bench -f "$work/id"
printf '%-16s %10s %14s %14s\n' variant seconds "qcow2 bytes" "qcow2 MiB"
for v in "${variants[@]}"; do
  case $v in
    full) vars=(-var cleanup=true -var compression=true) ;;
    no-cleanup) vars=(-var cleanup=false -var compression=true) ;;
    no-compression) vars=(-var cleanup=true -var compression=false) ;;
    neither) vars=(-var cleanup=false -var compression=false) ;;
    zero-fill) vars=(-var cleanup=true -var compression=true -var zero_fill=true) ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  dir=$work/$v
  mkdir -p "$dir"
  cp -r "$WARMRUN_ROOT/examples/appliance/appliance.pkr.hcl" "$WARMRUN_ROOT/examples/appliance/scripts" "$dir/"
  start=$(date +%s.%N)
  (cd "$dir" && packer build -color=false "${vars[@]}" \
    -var "source_image=$source_dir/disk.qcow2" -var "kernel=$source_dir/vmlinuz" -var "initrd=$source_dir/initrd.img" \
    -var "ssh_private_key_file=$work/id" -var "ssh_public_key=$(cat "$work/id.pub")" appliance.pkr.hcl >"$dir/build.log" 2>&1) \
    || { tail -20 "$dir/build.log" >&2; exit 1; }
  end=$(date +%s.%N)
  bytes=$(stat -c %s "$dir/output/appliance.qcow2")
  printf '%-16s %10.1f %14d %14.1f\n' "$v" "$(echo "$end - $start" | bc)" "$bytes" "$(echo "$bytes / 1048576" | bc -l)"
  rm -rf "$dir/output"
done
