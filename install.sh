#!/usr/bin/env bash
# Builds appleshark for the Wireshark installed here, installs it into that version's plugin
# folder, and shows it working on the bundled sample capture.
#
#   ./install.sh            root: the global plugin folder; a user: ~/.local/lib/wireshark/...
#   ./install.sh --user     the personal folder even as root (note: tshark run as root
#                           ignores personal plugins)
#   ./install.sh --dest DIR install into DIR (no demo)
#   ./install.sh --no-demo  skip the demo
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")"

die() { printf 'appleshark install: %s\n' "$*" >&2; exit 1; }

mode=auto dest="" demo=1
while [ $# -gt 0 ]; do
  case "$1" in
    --user) mode=user ;;
    --dest) dest=${2:?--dest needs a directory}; shift ;;
    --no-demo) demo=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

command -v tshark >/dev/null || die "tshark is not installed (Debian: apt-get install tshark)."
command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs or Debian's cargo)."

# The Wireshark that will load the plugin.
ws_full=$(tshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
[ -n "$ws_full" ] || die "could not read the version from 'tshark --version'."
ws=${ws_full%.*}
major=${ws%%.*} minor=${ws#*.}
if [ "$major" -lt 4 ]; then
  die "Wireshark $ws_full is installed; appleshark needs 4.0 or newer (4.0, 4.4 and 4.6 are supported)."
fi
case "$ws" in
  4.0|4.4|4.6) ;;
  *) die "Wireshark $ws_full is installed; this appleshark supports 4.0, 4.4 and 4.6 (a plugin only loads into the major.minor it was built for)." ;;
esac

# The headers it will be built against must be that same version.
if [ -n "${APPLESHARK_WS_INCLUDE:-}" ]; then
  hdr="$APPLESHARK_WS_INCLUDE/ws_version.h"
else
  pkg-config --exists wireshark 2>/dev/null ||
    die "Wireshark $ws_full is installed but its development headers are not (Debian: apt-get install libwireshark-dev; or set APPLESHARK_WS_INCLUDE, see wireshark-headers/fetch-headers.sh)."
  hdr="$(pkg-config --variable=includedir wireshark)/wireshark/ws_version.h"
  [ -f "$hdr" ] || hdr=$(pkg-config --cflags-only-I wireshark | tr ' ' '\n' | sed -n 's/^-I//p' | while read -r d; do [ -f "$d/ws_version.h" ] && echo "$d/ws_version.h"; done | head -n1)
fi
[ -f "$hdr" ] || die "Wireshark's headers have no ws_version.h ($hdr)."
hmaj=$(awk '/define WIRESHARK_VERSION_MAJOR/{print $3}' "$hdr")
hmin=$(awk '/define WIRESHARK_VERSION_MINOR/{print $3}' "$hdr")
[ "$hmaj.$hmin" = "$ws" ] || die "the headers are for Wireshark $hmaj.$hmin but tshark is $ws_full: install the matching libwireshark-dev."

echo "appleshark: building for Wireshark $ws_full ..."
cargo build --release --lib --quiet
so=target/release/libappleshark.so
[ -f "$so" ] || die "build produced no $so"

if [ -z "$dest" ]; then
  if [ "$mode" = auto ] && [ "$(id -u)" = 0 ]; then
    base=$(pkg-config --variable=plugindir wireshark 2>/dev/null || true)
    [ -n "$base" ] || base="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/wireshark/plugins/$ws"
    dest="$base/epan"
  else
    dest="$HOME/.local/lib/wireshark/plugins/$ws/epan"
  fi
fi
mkdir -p "$dest"
install -m 0644 "$so" "$dest/appleshark.so"
echo "appleshark: installed $dest/appleshark.so"

if [ "$demo" = 1 ] && [ "$dest" != "${dest#"$HOME"}" -o "$(id -u)" = 0 ]; then
  if [ "$(id -u)" = 0 ] && [ "$dest" != "${dest#"$HOME"}" ] && [ "$HOME" != / ]; then
    echo "appleshark: (installed for root's personal folder; tshark run as root ignores it, so no demo)"
    exit 0
  fi
  echo
  echo "\$ tshark -G plugins | grep appleshark"
  tshark -G plugins 2>/dev/null | grep appleshark || die "tshark does not list the plugin"
  echo
  echo "\$ tshark -r samples/snatmap-demo.pcap -2 -Y snatmap"
  tshark -r samples/snatmap-demo.pcap -2 -n -Y snatmap 2>/dev/null
fi
