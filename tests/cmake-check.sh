#!/usr/bin/env bash
# Builds and installs appleshark through cmake/ into a temporary folder, then checks that the
# installed .so is a loadable plugin (tshark as nobody lists it and dissects the sample).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/appleshark-cmake.XXXXXX)
trap 'rm -rf "$work"' EXIT
ver=$(tshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+' | head -n1)
inst="$work/home/.local/lib/wireshark/plugins/$ver/epan"
cmake -S cmake -B "$work/build" -DAPPLESHARK_INSTALL_DIR="$inst" >/dev/null
cmake --build "$work/build" >/dev/null
cmake --install "$work/build" >/dev/null
test -f "$inst/appleshark.so"
mkdir -p "$work/noglobal"; cp samples/snatmap-demo.pcap "$work/"
chmod -R a+rX "$work"
run() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/noglobal" "$@"; else env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/noglobal" "$@"; fi; }
# Exactly the copy installed here (an appleshark in the global folder must not load:
# WIRESHARK_PLUGIN_DIR replaces it for a tshark not run as root).
listed=$(run tshark -G plugins | grep -i appleshark | awk -F'\t' '{print $NF}')
[ "$listed" = "$inst/appleshark.so" ] || { echo "cmake-check: expected only $inst/appleshark.so to load, tshark lists: ${listed:-nothing}"; exit 1; }
n=$(run tshark -r "$work/snatmap-demo.pcap" -Y snatmap | wc -l)
[ "$n" = 6 ] || { echo "cmake-check: expected 6 SNATMAP frames, got $n"; exit 1; }
echo "cmake-check: 1 passed, 0 failed"
