#!/bin/sh
# Installs this appleshark.so (built for Wireshark @UPSTREAM@, works with @WS@.x) into your
# personal plugin folder, where Wireshark and tshark find it:
#   ~/.local/lib/wireshark/plugins/@WS@/epan/appleshark.so
#
#   ./install.sh              install (checks that tshark/wireshark here is @WS@.x)
#   ./install.sh --uninstall  remove it again
#
# (tshark run as root ignores personal plugins: run it as yourself, or copy appleshark.so into
# the global folder that `tshark -G folders` shows as "Global Plugins", under epan/.)
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu
cd "$(dirname "$0")"
dest="$HOME/.local/lib/wireshark/plugins/@WS@/epan"
case "${1:-}" in
  --uninstall)
    rm -f "$dest/appleshark.so" && echo "appleshark: removed $dest/appleshark.so"
    rmdir "$dest" 2>/dev/null || true
    exit 0 ;;
  "") ;;
  *) echo "usage: ./install.sh [--uninstall]" >&2; exit 2 ;;
esac
for prog in tshark wireshark; do
  command -v "$prog" >/dev/null 2>&1 || continue
  v=$("$prog" --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
  case "$v" in
    @WS@.*) ;;
    *) echo "appleshark: $prog here is Wireshark ${v:-?}; this build is for @WS@.x (a plugin only loads into the major.minor it was built for)" >&2; exit 1 ;;
  esac
done
mkdir -p "$dest"
cp appleshark.so "$dest/appleshark.so"
chmod 0644 "$dest/appleshark.so"
echo "appleshark: installed $dest/appleshark.so; check with: tshark -G plugins | grep appleshark"
