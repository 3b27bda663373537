#!/usr/bin/env bash
# tests/global-copy/run.sh [TEST-COMMAND...]   (default: cargo test --release)
#
# The tests must not depend on what is installed (issue 13). This puts a *different* build of
# appleshark (this tree's plugin with its version string patched to 9.9.9, so it is a
# different file that `tshark -G plugins` tells apart) into the global plugin folder of the
# host's Wireshark and runs the test command. The test harnesses check that their tshark
# loads only the test copy; a global copy that loaded as well would also register every
# protocol twice and make tshark fail.
#
# The global folder is changed only inside a private mount namespace (a bind mount of a copy
# of the folder, plus the extra .so), so other users of this machine never see the copy and
# nothing is left behind, even if this is killed. Needs root.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "global-copy: needs root (mount namespace, global folder)" >&2; exit 1; }
[ $# -gt 0 ] || set -- cargo test --release

if [ "${APPLESHARK_GLOBAL_COPY_INNER:-}" != 1 ]; then
  ws=$(tshark --version 2>/dev/null | head -n1 | grep -oE '[0-9]+\.[0-9]+' | head -n1)
  glob=$(tshark -G folders 2>/dev/null | awk -F'\t' '/^Global Plugins/{print $2}' | head -n1)
  [ -d "$glob/epan" ] || { echo "global-copy: no global epan plugin folder ($glob)" >&2; exit 1; }
  work=$(mktemp -d /tmp/appleshark-global-copy.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  cargo build --release --lib --quiet
  # Same length, so the patched string stays a valid C string in plugin_version.
  ver=$(awk -F'"' '/^version *=/{print $2; exit}' Cargo.toml)
  fake=$(printf '%s' "$ver" | sed 's/[0-9]/9/g')
  python3 - target/release/libappleshark.so "$work/appleshark.so" "$ver" "$fake" <<'PY'
import sys
src, dst, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode() + b"\0", sys.argv[4].encode() + b"\0"
b = open(src, "rb").read()
assert b.count(old) >= 1, "version string not found"
open(dst, "wb").write(b.replace(old, new))
PY
  mkdir "$work/epan"
  cp -a "$glob/epan/." "$work/epan/"
  cp "$work/appleshark.so" "$work/epan/appleshark.so"
  chmod -R a+rX "$work"
  echo "global-copy: a $fake build at $glob/epan/appleshark.so (private mount namespace)"
  APPLESHARK_GLOBAL_COPY_INNER=1 APPLESHARK_GLOBAL_EPAN="$glob/epan" APPLESHARK_GLOBAL_WORK="$work" \
    unshare --mount --propagation private -- "$0" "$@"
  exit $?
fi

# ---- inside the namespace
mount --bind "$APPLESHARK_GLOBAL_WORK/epan" "$APPLESHARK_GLOBAL_EPAN"
trap 'umount "$APPLESHARK_GLOBAL_EPAN" 2>/dev/null || true' EXIT
# The copy is really installed: root's tshark (which reads the global folder) loads it ...
line=$(tshark -G plugins 2>/dev/null | grep appleshark || true)
case "$line" in
  *"$APPLESHARK_GLOBAL_EPAN/appleshark.so"*) echo "global-copy: root's tshark loads it: $line" ;;
  *) echo "global-copy: FAILED: root's tshark does not load the global copy ($line)" >&2; exit 1 ;;
esac
# ... and WIRESHARK_PLUGIN_DIR replaces the global folder for a tshark that is not root.
mkdir -p "$APPLESHARK_GLOBAL_WORK/empty" && chmod 755 "$APPLESHARK_GLOBAL_WORK/empty"
n=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$APPLESHARK_GLOBAL_WORK/empty" \
      WIRESHARK_PLUGIN_DIR="$APPLESHARK_GLOBAL_WORK/empty" tshark -G plugins 2>/dev/null | grep -c appleshark || true)
[ "$n" = 0 ] || { echo "global-copy: FAILED: WIRESHARK_PLUGIN_DIR did not hide the global copy" >&2; exit 1; }
echo "global-copy: nobody with WIRESHARK_PLUGIN_DIR=<empty> loads no appleshark (the global folder is replaced)"
echo "global-copy: running: $*"
"$@"
