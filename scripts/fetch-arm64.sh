#!/usr/bin/env bash
# Fetches the Debian arm64 packages the firmware links against and the guest
# software the demo boots, with a private apt configuration: the system's apt
# state and architecture list are never touched (no dpkg --add-architecture).
#
# usage: scripts/fetch-arm64.sh DEST
#   DEST/sysroot  extracted packages (compiler-rt, kernel, busybox)
#   DEST/stamp    written last; its content lists what was extracted
# Downloads are cached in ${PVM_CACHE:-$HOME/.cache/pvm}/debs so a fresh clone
# does not download again.
set -euo pipefail
dest=$(realpath -m "$1")
cache=${PVM_CACHE:-$HOME/.cache/pvm}
apt_dir=$cache/apt-arm64
debs=$cache/debs
mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$debs"

# Same suites and signing key as the system's Debian sources, arm64 only.
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
  sed -e '/^Types:/a Architectures: arm64' -e '/^Architectures:/d' "$src" \
    | awk 'BEGIN{RS="";ORS="\n\n"} /Types:/' > "$apt_dir/etc/debian.sources.tmp"
  mv "$apt_dir/etc/debian.sources.tmp" "$apt_dir/etc/debian.sources"
else
  cat > "$apt_dir/etc/debian.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Architectures: arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

apt_arm64() {
  local tool=$1; shift
  "$tool" -q -oAPT::Architecture=arm64 -oAPT::Architectures=arm64 \
    -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$apt_dir/etc" \
    -oDir::State::Lists="$apt_dir/lists" -oDir::State::status=/dev/null \
    -oDir::Cache="$apt_dir" -oDir::Cache::archives="$apt_dir/archives" \
    -oDebug::NoLocking=1 -oAPT::Sandbox::User=root "$@"
}

# Refresh the package lists at most once a day.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  apt_arm64 apt-get update >/dev/null
fi

# The cloud kernel metapackage names the current versioned image package.
kernel_pkg=$(apt_arm64 apt-cache depends linux-image-cloud-arm64 2>/dev/null \
  | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-arm64\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { echo "fetch-arm64: cannot resolve linux-image-cloud-arm64" >&2; exit 1; }

pkgs="libclang-rt-19-dev busybox-static $kernel_pkg"
want="$pkgs"
if [ -f "$dest/stamp" ] && [ "$(cat "$dest/stamp")" = "$want" ]; then
  exit 0
fi

for p in $pkgs; do
  if ! ls "$debs/${p}"_*_arm64.deb >/dev/null 2>&1 && ! ls "$debs/${p}"_*_all.deb >/dev/null 2>&1; then
    (cd "$debs" && apt_arm64 apt-get download "$p" >/dev/null)
  fi
done

rm -rf "$dest/sysroot"
mkdir -p "$dest/sysroot"
for p in $pkgs; do
  f=$(ls "$debs/${p}"_*.deb | sort -V | tail -1)
  dpkg -x "$f" "$dest/sysroot"
done
echo "$want" > "$dest/stamp"
