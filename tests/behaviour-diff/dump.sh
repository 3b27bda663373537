#!/usr/bin/env bash
# tests/behaviour-diff/dump.sh OUTDIR [SUITE]
#
# Everything a user sees of the plugin, written to OUTDIR so that two builds can be compared
# with `diff -r` (a refactoring must be behaviour-preserving: issue 14). For every bundled
# sample, every capture in ../shared/captures, the other-protocols corpus and the first
# 20,000 frames of each benchmark capture (target/bench, when present):
#   <capture>.V        tshark -V  (one pass)          <capture>.2V   tshark -2 -V
#   <capture>.json     tshark -T json
#   <capture>.fields   tshark -T fields -e <every field the plugin registers>
#   <capture>.z        -z apns,tree, -z facetime_calls,tree, -z mptcp_annot,conn, -z expert
# plus fields.txt (tshark -G fields of the plugin's protocols) and prefs.txt (-G defaultprefs).
#
# The plugin is $APPLESHARK_PLUGIN (default target/release/libappleshark.so), loaded from a
# private personal plugin folder by `nobody` (root ignores personal plugins). SUITE (bookworm,
# trixie, sid) runs that release's tshark in the tests/multiversion chroot; default the host's.
#
# Typical use:
#   tests/behaviour-diff/dump.sh /tmp/before            # on the old commit's build
#   tests/behaviour-diff/dump.sh /tmp/after             # on the new one
#   diff -r /tmp/before /tmp/after && echo identical
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: dump.sh OUTDIR [SUITE]}
suite=${2:-}
so=$(realpath "${APPLESHARK_PLUGIN:-target/release/libappleshark.so}")
[ -f "$so" ] || { echo "dump.sh: no plugin at $so" >&2; exit 1; }
cache=${APPLESHARK_CACHE:-$HOME/.cache/appleshark}
root=""
[ -z "$suite" ] || root=$cache/chroot/$suite
[ -z "$root" ] || [ -x "$root/usr/bin/tshark" ] || { echo "dump.sh: no chroot $root (tests/multiversion/make-chroot.sh $suite)" >&2; exit 1; }

home=$(mktemp -d "${root:-}/tmp/behaviour-diff.XXXXXX")
trap 'rm -rf "$home"' EXIT
chmod 755 "$home"; chown 65534:65534 "$home"
run() {  # tshark as nobody, private HOME, inside the chroot when there is one
  if [ -n "$root" ]; then
    chroot "$root" setpriv --reuid=65534 --regid=65534 --clear-groups \
      env -i PATH=/usr/bin:/bin HOME="${home#"$root"}" LANG=C.UTF-8 TZ=UTC WIRESHARK_PLUGIN_DIR=/nonexistent tshark "$@"
  else
    setpriv --reuid=65534 --regid=65534 --clear-groups \
      env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 TZ=UTC WIRESHARK_PLUGIN_DIR=/nonexistent tshark "$@"
  fi
}
ver=$(run --version | head -n1 | sed -E 's/.* ([0-9]+)\.([0-9]+)\..*/\1.\2/')
mkdir -p "$home/.local/lib/wireshark/plugins/$ver/epan" "$home/caps"
cp "$so" "$home/.local/lib/wireshark/plugins/$ver/epan/appleshark.so"
chmod -R a+rX "$home"; chown -R 65534:65534 "$home"
run -G plugins | grep -q "$home\|${home#"$root"}" || { echo "dump.sh: tshark did not load $so" >&2; exit 1; }

# The captures, copied where nobody (and the chroot) can read them.
caps=()
add() {  # add FILE [NAME]
  local name=${2:-$(basename "$1")}
  cp "$1" "$home/caps/$name"; caps+=("$name")
}
for f in samples/*.pcap ../shared/captures/*.pcap tests/data/other/*.pcap*; do [ -f "$f" ] && add "$f"; done
if [ -d target/bench ]; then
  for f in target/bench/*.pcap; do
    case $f in *-small.pcap) continue ;; esac
    editcap -r "$f" "$home/caps/bench-$(basename "$f")" 1-5000 && caps+=("bench-$(basename "$f")")
  done
fi
chmod -R a+rX "$home"; chown -R 65534:65534 "$home"
h=${home#"$root"}

mkdir -p "$out"
run -G fields | awk -F'\t' '$3 ~ /^(apns|snatmap|facetime|mptcp_annot)(\.|$)/' > "$out/fields.txt"
run -G defaultprefs | grep -E '^#?(apns|snatmap|facetime|mptcp_annot)\.' > "$out/prefs.txt" || true
fargs=()
while IFS= read -r f; do fargs+=(-e "$f"); done < <(awk -F'\t' '$1 == "F" {print $3}' "$out/fields.txt")
for c in "${caps[@]}"; do
  in=$h/caps/$c
  run -n -r "$in" -V > "$out/$c.V" 2>&1 || true
  run -n -2 -r "$in" -V > "$out/$c.2V" 2>&1 || true
  run -n -r "$in" -T json > "$out/$c.json" 2>&1 || true
  run -n -r "$in" -T fields -E header=y -E occurrence=a -E aggregator='|' "${fargs[@]}" > "$out/$c.fields" 2>&1 || true
  run -n -r "$in" -q -z apns,tree -z facetime_calls,tree -z mptcp_annot,conn -z expert > "$out/$c.z" 2>&1 || true
done
# Paths of the private HOME differ between runs: keep them out of the comparison.
sed -i "s#$h#HOME#g" "$out"/* 2>/dev/null || true
echo "dump.sh: ${#caps[@]} captures, $(wc -l < "$out/fields.txt") fields, tshark $ver -> $out"
