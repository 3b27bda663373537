#!/usr/bin/env bash
# benches/compare.sh OLD.so NEW.so [--runs N] [--tree] [CAPTURE...]
#
# Two builds of the plugin, side by side in one run: for each capture, tshark reads it with
# OLD, then NEW, then OLD … (alternating, N times each, so drift on a shared machine hits
# both alike) and the medians of CPU time (user + sys) and peak RSS are compared, NEW / OLD.
# For a refactoring that must cost nothing (issue 14): "within noise" means the ratio lies
# inside the spread of the OLD runs themselves, which is printed next to it.
# Modes: "summary" = tshark -r FILE -n > /dev/null (the one-line summaries: dissection
# without a tree, as the benchmark's tables); --tree adds -V > /dev/null (a full tree, what
# the GUI and -T json pay).
# Default captures: the benchmark's (target/bench, made by `benches/run.sh`), first the
# ordinary traffic (a), then one per protocol. tshark runs as `nobody` with a private HOME
# (root ignores personal plugins). Needs /usr/bin/time.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "${1:?usage: compare.sh OLD.so NEW.so [--runs N] [--tree] [CAPTURE...]}")
new=$(realpath "${2:?usage: compare.sh OLD.so NEW.so [--runs N] [--tree] [CAPTURE...]}")
shift 2
runs=5 tree=0 caps=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --tree) tree=1 ;;
    *) caps+=("$(realpath "$1")") ;;
  esac
  shift
done
if [ ${#caps[@]} = 0 ]; then
  for c in a-ordinary-small c-apns-small facetime-only mptcp-only snatmap-only; do
    [ -f "target/bench/$c.pcap" ] && caps+=("$PWD/target/bench/$c.pcap")
  done
fi
[ ${#caps[@]} -gt 0 ] || { echo "compare.sh: no captures (run benches/run.sh once, or name some)" >&2; exit 1; }

ver=$(tshark --version | head -n1 | sed -E 's/.* ([0-9]+)\.([0-9]+)\..*/\1.\2/')
work=$(mktemp -d /tmp/appleshark-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
for side in old new; do
  mkdir -p "$work/$side/.local/lib/wireshark/plugins/$ver/epan"
  cp "${!side}" "$work/$side/.local/lib/wireshark/plugins/$ver/epan/appleshark.so"
done
chmod -R a+rX "$work"; chown -R 65534:65534 "$work"
one() {  # one SIDE CAPTURE MODE -> "cpu_seconds max_rss_kb"
  local args=(-n -r "$2")
  # No -q: tshark does not dissect at all when it has nothing to print, filter or tap.
  [ "$3" = tree ] && args+=(-V)
  setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$work/$1" LANG=C.UTF-8 \
    WIRESHARK_PLUGIN_DIR=/nonexistent /usr/bin/time -f '%U %S %M' -o "$work/t" tshark "${args[@]}" >/dev/null 2>&1
  awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$work/t"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-26s %-6s %9s %9s %8s %14s %8s\n' capture mode "old CPU" "new CPU" "new/old" "old spread" "RSS n/o"
modes=(summary); [ $tree = 1 ] && modes+=(tree)
for cap in "${caps[@]}"; do
  cp "$cap" "$work/cap.pcap"; chmod a+r "$work/cap.pcap"
  for mode in "${modes[@]}"; do
    : > "$work/old.txt"; : > "$work/new.txt"
    one old "$work/cap.pcap" "$mode" >/dev/null   # warm the page cache
    for _ in $(seq "$runs"); do
      one old "$work/cap.pcap" "$mode" >> "$work/old.txt"
      one new "$work/cap.pcap" "$mode" >> "$work/new.txt"
    done
    oc=$(cut -d' ' -f1 "$work/old.txt" | median); nc=$(cut -d' ' -f1 "$work/new.txt" | median)
    orss=$(cut -d' ' -f2 "$work/old.txt" | median); nrss=$(cut -d' ' -f2 "$work/new.txt" | median)
    spread=$(cut -d' ' -f1 "$work/old.txt" | sort -g | awk -v m="$oc" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%+.1f%%..%+.1f%%", (lo / m - 1) * 100, (hi / m - 1) * 100 }')
    printf '%-26s %-6s %8.2fs %8.2fs %8.3f %14s %8.3f\n' "$(basename "$cap")" "$mode" "$oc" "$nc" \
      "$(awk -v a="$nc" -v b="$oc" 'BEGIN { print a / b }')" "$spread" "$(awk -v a="$nrss" -v b="$orss" 'BEGIN { print a / b }')"
  done
done
echo "compare.sh: tshark $ver, $runs alternating runs per side, medians; old=$old new=$new"
