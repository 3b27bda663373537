#!/usr/bin/env bash
# Builds the plugin for Wireshark 4.4 (Debian trixie) and 4.6 (sid) from this tree and runs
# every golden test against that release's own tshark in a debootstrap chroot.
#   tests/multiversion/run.sh [trixie] [sid]     (default: both)
# Needs root (debootstrap, chroot). Headers and chroots are cached in
# ${APPLESHARK_CACHE:-~/.cache/appleshark}; builds in target/ws-<version>.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "multiversion: needs root for debootstrap/chroot" >&2; exit 1; }
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
status=0
for suite in "${suites[@]}"; do
  case "$suite" in trixie) ver=4.4 ;; sid) ver=4.6 ;; *) echo "unknown suite $suite" >&2; exit 2 ;; esac
  echo "== Wireshark $ver ($suite)"
  inc=$(wireshark-headers/fetch-headers.sh "$suite" | tail -n1)
  root=$(tests/multiversion/make-chroot.sh "$suite" | tail -n1)
  mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
  echo "   tshark: $(chroot "$root" tshark --version 2>/dev/null | head -n1)"
  APPLESHARK_WS_INCLUDE="$inc" cargo build --release --lib --target-dir "target/ws-$ver" --quiet
  so="$PWD/target/ws-$ver/release/libappleshark.so"
  # The test binaries run on the host; only tshark runs inside the chroot.
  if ! APPLESHARK_PLUGIN="$so" APPLESHARK_TSHARK_PREFIX="chroot $root" APPLESHARK_TSHARK_ROOT="$root" \
       cargo test --release --no-fail-fast --test '*'; then
    status=1
    echo "== Wireshark $ver: FAILED"
  fi
done
exit $status
