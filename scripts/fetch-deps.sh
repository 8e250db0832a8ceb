#!/usr/bin/env bash
# Fetches what scripts/deps.lock pins, with private apt configurations (the
# system's apt state and architecture list are never touched: no
# dpkg --add-architecture, no change to /etc/apt), and extracts it:
#
#   DEST/src/mbedtls/   mbedTLS upstream tree          (kind "source")
#   DEST/src/dtc/       device-tree-compiler tree (libfdt/)
#   DEST/arm64/sysroot  the arm64 packages, extracted  (kind "arm64")
#   DEST/*/stamp        written last: the lock lines extracted there
#
# usage: scripts/fetch-deps.sh DEST
#        scripts/fetch-deps.sh --update-lock
#   The second form moves the pins on purpose: it asks Debian for the newest
#   version of each locked package in its suite family (the newest cloud
#   kernel for the kernel line), downloads it into the cache and rewrites
#   scripts/deps.lock (review the diff, then run the tests).
#
# Files are cached in ${PVM_CACHE:-$HOME/.cache/pvm} (src/, debs/). When the
# stamps match the lock, nothing is fetched and no network is needed; a file
# already in the cache with the pinned SHA-256 is not fetched again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock=$here/deps.lock
arg=${1:?usage: fetch-deps.sh DEST | --update-lock}
dest=$(realpath -m -- "$arg")
cache=${PVM_CACHE:-$HOME/.cache/pvm}

lines() { grep -v '^#' "$lock" | awk -v k="$1" '$1 == k' || true; }
verified() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# A private apt configuration: KIND (deb or deb-src), ARCH, SUITES.
apt_dir=
apt_private() {
  local kind=$1 arch=$2 suites=$3
  apt_dir=$cache/apt-$kind-$arch
  mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  : > "$apt_dir/etc/pvm.sources"
  local s uri
  for s in $suites; do
    case $s in
      *-security) uri=http://deb.debian.org/debian-security ;;
      *) uri=http://deb.debian.org/debian ;;
    esac
    printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\nArchitectures: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
      "$kind" "$uri" "$s" "$arch" >> "$apt_dir/etc/pvm.sources"
  done
  apt_run apt-get update >/dev/null
}
apt_run() {
  local tool=$1; shift
  "$tool" -q -oAPT::Architecture=arm64 -oAPT::Architectures=arm64 \
    -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$apt_dir/etc" \
    -oDir::State::Lists="$apt_dir/lists" -oDir::State::status=/dev/null \
    -oDir::Cache="$apt_dir" -oDir::Cache::archives="$apt_dir/archives" \
    -oDebug::NoLocking=1 -oAPT::Sandbox::User=root "$@"
}

# fetch KIND FOLDER: every lock line of KIND into the cache FOLDER.
fetch() {
  local kind=$1 folder=$2 ready=0 pkg version suite file sha tmp
  mkdir -p "$folder"
  while read -r _ pkg version suite file sha; do
    [ -n "$pkg" ] || continue
    verified "$folder/$file" "$sha" && continue
    if [ $ready -eq 0 ]; then
      if [ "$kind" = source ]; then
        apt_private deb-src arm64 "$(lines source | awk '{print $4}' | sort -u)"
      else
        apt_private deb arm64 "$(lines arm64 | awk '{print $4}' | sort -u)"
      fi
      ready=1
    fi
    tmp=$(mktemp -d)
    # apt-get source exits non-zero when a package's .dsc or Debian tarball
    # is missing from the mirror (device-tree-compiler 1.7.2-2's are): what it
    # did fetch was still checked against the signed index, and the pinned
    # hash decides.
    if [ "$kind" = source ]; then
      (cd "$tmp" && apt_run apt-get source --download-only "$pkg=$version" >/dev/null 2>&1) || true
    else
      (cd "$tmp" && apt_run apt-get download "$pkg=$version" >/dev/null 2>&1) || true
    fi
    if ! verified "$tmp/$file" "$sha"; then
      echo "fetch-deps: $pkg $version: $file missing or not the pinned SHA-256 (scripts/deps.lock)" >&2
      rm -rf "$tmp"
      exit 1
    fi
    mv "$tmp/$file" "$folder/$file"
    rm -rf "$tmp"
  done <<< "$(lines "$kind")"
}

update_lock() {
  local out kind pkg version suite file sha line newest
  out=$(grep '^#' "$lock")$'\n'
  for kind in source arm64; do
    if [ "$kind" = source ]; then
      apt_private deb-src arm64 "$(lines source | awk '{print $4}' | sort -u)"
    else
      apt_private deb arm64 "bookworm bookworm-updates bookworm-security"
    fi
    while read -r _ pkg version suite file sha; do
      [ -n "$pkg" ] || continue
      case $pkg in
        linux-image-*-cloud-arm64)
          pkg=$(apt_run apt-cache depends linux-image-cloud-arm64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-arm64\)$/\1/p' | head -1) ;;
      esac
      # "pkg | version | URI suite/main arch Packages|Sources", newest first.
      line=$(apt_run apt-cache madison "$pkg" | awk -F'|' -v k="$kind" \
        '(k == "source") == ($3 ~ /Sources/) {print; exit}')
      version=$(echo "$line" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
      suite=$(echo "$line" | awk -F'|' '{split($3, a, " "); split(a[2], b, "/"); print b[1]}')
      tmp=$(mktemp -d)
      if [ "$kind" = source ]; then
        (cd "$tmp" && apt_run apt-get source --download-only "$pkg=$version" >/dev/null 2>&1) || true
        file=$(cd "$tmp" && ls ./*.orig.tar.* | head -1 | sed 's|^\./||')
        mkdir -p "$cache/src" && cp "$tmp/$file" "$cache/src/"
      else
        (cd "$tmp" && apt_run apt-get download "$pkg=$version" >/dev/null)
        file=$(cd "$tmp" && ls ./*.deb | head -1 | sed 's|^\./||')
        mkdir -p "$cache/debs" && cp "$tmp/$file" "$cache/debs/"
      fi
      sha=$(sha256sum "$tmp/$file" | cut -d' ' -f1)
      rm -rf "$tmp"
      out+=$(printf '%-7s %-33s %-22s %-9s %-62s %s' "$kind" "$pkg" "$version" "$suite" "$file" "$sha")$'\n'
    done <<< "$(lines "$kind")"
  done
  printf '%s' "$out" > "$lock"
  echo "fetch-deps: scripts/deps.lock rewritten; git diff shows what moved" >&2
}
if [ "$arg" = --update-lock ]; then
  update_lock
  exit 0
fi

# Sources: one folder per package, the tarball's top folder stripped.
want=$(lines source)
if [ ! -f "$dest/src/stamp" ] || [ "$(cat "$dest/src/stamp")" != "$want" ]; then
  fetch source "$cache/src"
  rm -rf "$dest/src"
  mkdir -p "$dest/src"
  while read -r _ pkg _ _ file _; do
    case $pkg in
      device-tree-compiler) dir=dtc ;;
      *) dir=$pkg ;;
    esac
    mkdir -p "$dest/src/$dir"
    tar -xf "$cache/src/$file" -C "$dest/src/$dir" --strip-components=1
  done <<< "$want"
  echo "$want" > "$dest/src/stamp"
fi

# arm64 packages: one sysroot.
want=$(lines arm64)
if [ ! -f "$dest/arm64/stamp" ] || [ "$(cat "$dest/arm64/stamp")" != "$want" ]; then
  fetch arm64 "$cache/debs"
  rm -rf "$dest/arm64"
  mkdir -p "$dest/arm64/sysroot"
  while read -r _ _ _ _ file _; do
    dpkg -x "$cache/debs/$file" "$dest/arm64/sysroot"
  done <<< "$want"
  echo "$want" > "$dest/arm64/stamp"
fi
