#!/usr/bin/env bash
# Extracts libfdt's sources (the Linux kernel's copy under scripts/dtc/libfdt)
# from Debian's linux-source-6.1 package, so the fuzzers can be built with
# libfdt instrumented (Debian's libfdt.a is not; see toolchain.md). The
# package (~140 MB) is downloaded once into ${PVM_CACHE:-$HOME/.cache/pvm}/debs.
#
# usage: scripts/fetch-libfdt-src.sh DEST      (DEST/libfdt/*.c, *.h; DEST/stamp)
set -euo pipefail
dest=$(realpath -m "$1")
cache=${PVM_CACHE:-$HOME/.cache/pvm}
debs=$cache/debs
mkdir -p "$debs"
[ -f "$dest/stamp" ] && exit 0

if ! ls "$debs"/linux-source-6.1_*_all.deb >/dev/null 2>&1; then
  # The system's package lists may be stale on a machine set up long ago.
  (cd "$debs" && { apt-get download -q -oAPT::Sandbox::User=root linux-source-6.1 >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get download -q -oAPT::Sandbox::User=root linux-source-6.1 >/dev/null; }; })
fi
deb=$(ls "$debs"/linux-source-6.1_*_all.deb | sort -V | tail -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*/linux-source-6.1.tar.xz'
tarball=$(find "$tmp" -name 'linux-source-6.1.tar.xz' | head -1)
tar -xJf "$tarball" -C "$tmp" --wildcards '*/scripts/dtc/libfdt/*'
src=$(find "$tmp" -type d -path '*/scripts/dtc/libfdt' | head -1)
rm -rf "$dest"
mkdir -p "$dest/libfdt"
cp "$src"/*.c "$src"/*.h "$dest/libfdt/"
basename "$deb" > "$dest/stamp"
