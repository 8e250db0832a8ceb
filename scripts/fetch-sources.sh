#!/usr/bin/env bash
# Fetches and extracts the third-party sources pinned in scripts/sources.lock
# (mbedTLS, libfdt), with a private apt configuration (Types: deb-src): the
# system's apt state is never touched. apt checks every file it fetches
# against the signed Sources index; this script checks the pinned SHA-256 too.
#
# usage: scripts/fetch-sources.sh DEST
#   DEST/mbedtls/   the mbedtls upstream tree (library/, include/, 3rdparty/)
#   DEST/dtc/       the device-tree-compiler upstream tree (libfdt/)
#   DEST/stamp      written last: the lock lines it was extracted from
# Tarballs are cached in ${PVM_CACHE:-$HOME/.cache/pvm}/src, so a second
# clone (or an offline machine that fetched once) downloads nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock=$here/sources.lock
dest=$(realpath -m "$1")
cache=${PVM_CACHE:-$HOME/.cache/pvm}
apt_dir=$cache/apt-src
tarballs=$cache/src

want=$(grep -v '^#' "$lock" | grep -v '^[[:space:]]*$')
if [ -f "$dest/stamp" ] && [ "$(cat "$dest/stamp")" = "$want" ]; then
  exit 0
fi

apt_src() {
  local tool=$1; shift
  "$tool" -q -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$apt_dir/etc" \
    -oDir::State::Lists="$apt_dir/lists" -oDir::State::status=/dev/null \
    -oDir::Cache="$apt_dir" -oDebug::NoLocking=1 -oAPT::Sandbox::User=root "$@"
}

verified() {  # FILE SHA256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

mkdir -p "$tarballs"
lists_ready=0
while read -r pkg version suite tarball sha; do
  verified "$tarballs/$tarball" "$sha" && continue
  if [ $lists_ready -eq 0 ]; then
    mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial"
    : > "$apt_dir/etc/sources.sources"
    for s in $(echo "$want" | awk '{print $3}' | sort -u); do
      cat >> "$apt_dir/etc/sources.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $s
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

SRC
    done
    apt_src apt-get update >/dev/null
    lists_ready=1
  fi
  tmp=$(mktemp -d)
  # apt-get source may exit non-zero when a package's .dsc or Debian tarball
  # is missing from the mirror (device-tree-compiler 1.7.2-2 is): what it did
  # fetch was still checked against the Sources index, and the pinned hash
  # below decides.
  (cd "$tmp" && apt_src apt-get source --download-only "$pkg=$version" >/dev/null 2>&1) || true
  if ! verified "$tmp/$tarball" "$sha"; then
    echo "fetch-sources: $pkg $version: $tarball missing or not the pinned SHA-256" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mv "$tmp/$tarball" "$tarballs/$tarball"
  rm -rf "$tmp"
done <<< "$want"

rm -rf "$dest"
mkdir -p "$dest"
while read -r pkg version suite tarball sha; do
  case $pkg in
    mbedtls) dir=mbedtls ;;
    device-tree-compiler) dir=dtc ;;
    *) dir=$pkg ;;
  esac
  mkdir -p "$dest/$dir"
  tar -xf "$tarballs/$tarball" -C "$dest/$dir" --strip-components=1
done <<< "$want"
echo "$want" > "$dest/stamp"
