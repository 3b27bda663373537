#!/usr/bin/env bash
# packaging/build-packages.sh [SUITE...]   (default: bookworm trixie sid)
#
# Builds the binary packages of appleshark into dist/ (not committed), for people without a
# Rust toolchain:
#   dist/appleshark_<version>+ws<X.Y.Z>_amd64.deb             one per Debian release
#   dist/appleshark-<version>-wireshark-<X.Y>-linux-x86_64.tar.gz  one per Wireshark minor
#
#   bookworm (Debian 12): Wireshark 4.0   trixie (Debian 13): 4.4   sid: 4.6
#
# Each .so is built from this tree against that release's own Wireshark headers
# (wireshark-headers/fetch-headers.sh, cached in ${APPLESHARK_CACHE:-~/.cache/appleshark};
# builds in target/ws-<X.Y>, as tests/multiversion/run.sh does). The .deb is made with plain
# `dpkg-deb --build --root-owner-group` (no root, no network once the headers are cached).
# Tested by tests/packages/run.sh.
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { printf 'build-packages: %s\n' "$*" >&2; exit 1; }
for t in dpkg-deb cargo gzip tar objdump md5sum; do command -v "$t" >/dev/null || die "'$t' not found"; done

suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie sid)
version=$(awk -F'"' '/^version *=/{print $2; exit}' Cargo.toml)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The packages' dates are the commit's (same tree → same changelog).
date_rfc=$(git log -1 --format=%aD 2>/dev/null || date -R)
first=$(git log --reverse --format=%ad --date=format:%Y 2>/dev/null | sed -n 1p || true)
last=$(date -d "$date_rfc" +%Y)
years=${first:-$last}; [ "$years" = "$last" ] || years="$years-$last"
maintainer="appleshark developers <dev@appleshark.invalid>"
mkdir -p dist

for suite in "${suites[@]}"; do
  case $suite in
    bookworm) ws=4.0 ;; trixie) ws=4.4 ;; sid) ws=4.6 ;;
    *) die "unknown suite $suite (bookworm, trixie or sid)" ;;
  esac
  inc=$(wireshark-headers/fetch-headers.sh "$suite" | tail -n1)
  hdrs=${inc%/usr/include/wireshark}
  # The version of the headers' packages (libwireshark-dev = libwiresharkN, one source).
  debver=$(head -n1 "$hdrs/.appleshark-headers-stamp")
  upstream=${debver%%-*}                          # 4.0.17
  # The runtime library package: libwireshark<soname major>, from the dev package's symlink.
  soname=$(readlink "$hdrs"/usr/lib/*/libwireshark.so) || die "$suite: no libwireshark.so symlink in $hdrs"
  libpkg=libwireshark${soname#libwireshark.so.}   # libwireshark16
  libpkg=${libpkg%%.*}
  echo "== $suite: Wireshark $upstream ($libpkg $debver)"

  APPLESHARK_WS_INCLUDE="$inc" cargo build --release --lib --target-dir "target/ws-$ws" --quiet
  so=target/ws-$ws/release/libappleshark.so
  [ -f "$so" ] || die "$suite: build produced no $so"

  # ---- .deb -------------------------------------------------------------------------------
  pkgver="$version+ws$upstream"
  stage=$(mktemp -d "$root/target/deb-$suite.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  plugdir=usr/lib/x86_64-linux-gnu/wireshark/plugins/$ws/epan
  docdir=usr/share/doc/appleshark
  chmod 0755 "$stage"
  install -d -m 0755 "$stage/DEBIAN" "$stage/$plugdir" "$stage/$docdir"
  install -m 0644 "$so" "$stage/$plugdir/appleshark.so"
  sed "s/@YEARS@/$years/" packaging/debian/copyright >"$stage/$docdir/copyright"
  chmod 0644 "$stage/$docdir/copyright"
  {
    printf 'appleshark (%s) %s; urgency=medium\n\n' "$pkgver" "$suite"
    printf '  * appleshark %s (commit %s) built for Wireshark %s (%s %s).\n\n' "$version" "$commit" "$upstream" "$libpkg" "$debver"
    printf ' -- %s  %s\n' "$maintainer" "$date_rfc"
  } | gzip -9n >"$stage/$docdir/changelog.Debian.gz"
  chmod 0644 "$stage/$docdir/changelog.Debian.gz"
  size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  # glibc: the newest symbol version the .so uses (libgcc_s and libc are its only NEEDED
  # libraries besides the dynamic loader; the epan symbols come from the program loading it).
  glibc=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -n1)
  [ -n "$glibc" ] || die "$suite: could not read the glibc symbol versions of $so (objdump)"
  # The dependency: the libwireshark package of exactly the upstream point release the .so
  # was built against, any Debian revision of it (>= the built one, << the next upstream
  # point release). Why this tight: Wireshark checks only major.minor when it loads a plugin,
  # but upstream point releases have changed the plugin ABI within a minor (issue 18908,
  # 4.0.4 → 4.0.5; wireshark-headers/VERSIONS.md), so apt must refuse another point release.
  # Why not `= <Debian version>`: a Debian revision of the same point release
  # (-0+deb12u3 → -0+deb12u4: a security patch, same soname and ABI) would then be blocked
  # from upgrading, or remove appleshark. A new upstream point release needs a rebuild of
  # this package (apt holds the upgrade back until then).
  next="${upstream%.*}.$(( ${upstream##*.} + 1 ))~"
  cat >"$stage/DEBIAN/control" <<EOF
Package: appleshark
Version: $pkgver
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $size
Depends: $libpkg (>= $debver), $libpkg (<< $next), libc6 (>= $glibc), libgcc-s1
Enhances: tshark, wireshark-qt, wireshark
Section: net
Priority: optional
Description: Wireshark $ws plugin for Apple's real-time protocols
 Dissectors for Apple's APNs courier protocol, SNATMAP, FaceTime's shared UDP
 port and MPTCP annotations, as one Wireshark plugin (appleshark.so) built for
 Wireshark $upstream ($libpkg $debver).
EOF
  ( cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum ) >"$stage/DEBIAN/md5sums"
  chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
  deb=dist/appleshark_${pkgver}_amd64.deb
  dpkg-deb --build --root-owner-group -Zxz "$stage" "$deb" >/dev/null
  rm -rf "$stage"; trap - EXIT
  echo "   $deb ($(du -k "$deb" | cut -f1) KB): Depends: $libpkg (>= $debver), $libpkg (<< $next)"

  # ---- tarball for any Linux with this Wireshark minor ---------------------------------
  name=appleshark-$version-wireshark-$ws-linux-x86_64
  tdir=$(mktemp -d "$root/target/tar-$ws.XXXXXX")
  trap 'rm -rf "$tdir"' EXIT
  mkdir -p "$tdir/$name"
  install -m 0644 "$so" "$tdir/$name/appleshark.so"
  install -m 0644 README.md COPYING "$tdir/$name/"
  sed "s/@WS@/$ws/g; s/@UPSTREAM@/$upstream/g" packaging/tarball-install.sh >"$tdir/$name/install.sh"
  chmod 0755 "$tdir/$name/install.sh"
  tar -C "$tdir" --owner=0 --group=0 --numeric-owner --sort=name --mtime="$date_rfc" -czf "dist/$name.tar.gz" "$name"
  rm -rf "$tdir"; trap - EXIT
  echo "   dist/$name.tar.gz"
done
