#!/usr/bin/env bash
# Instruction counts of tshark with and without the plugin (docs/benchmarks.md, "Instruction
# counts"): valgrind's callgrind counts the instructions a run executes, which do not depend
# on the machine's load (wall and CPU time on a shared 2-core machine spread by ±10%).
# Not part of the test run.
#
#   benches/callgrind.sh [PACKETS]    default 50,000 packets of each capture (≈ 30 min; 25,000 took 15 min)
#
# Reads the captures benches/run.sh writes (target/bench/*.pcap; run it once, `--quick` is
# not enough: it writes 1% captures) and cuts the first PACKETS of each with editcap.
# Prints a Markdown table, one row per performance target of issues 17 and 18: each pair is
# measured in this one run. "Whole run" includes tshark's start-up (≈ 855 M instructions with
# or without the plugin), which flatters short captures; "per packet" subtracts a run of the
# capture's first packet alone from both sides and is what the targets are judged by. Needs valgrind, editcap, setpriv (util-linux); as root tshark
# runs as `nobody` with a private HOME so that only this build of the plugin loads.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
for c in a-ordinary b-mixed mptcp-only facetime-only c-apns; do
  [ -f "target/bench/$c.pcap" ] || { echo "callgrind.sh: target/bench/$c.pcap missing: run benches/run.sh first" >&2; exit 1; }
done
cargo build --release --lib
work=$(mktemp -d /tmp/appleshark-callgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT
home="$work/home"
ver=$(tshark --version | head -n1 | grep -oE '[0-9]+\.[0-9]+' | head -n1)
mkdir -p "$home/.local/lib/wireshark/plugins/$ver/epan" "$work/empty" "$work/out"
cp target/release/libappleshark.so "$home/.local/lib/wireshark/plugins/$ver/epan/appleshark.so"
for c in a-ordinary b-mixed mptcp-only facetime-only c-apns; do
  editcap -r "target/bench/$c.pcap" "$work/$c.pcap" "1-$N"
  # Its first packet alone: a run of it is tshark's start-up (registration, preferences),
  # subtracted to give the per-packet ratio, which does not depend on PACKETS.
  editcap -r "target/bench/$c.pcap" "$work/$c.1.pcap" 1
done
chmod -R a+rwX "$work"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# count NAME plugin|stock TSHARK-ARGS...: the instructions of one run.
count() {
  local name=$1 with=$2; shift 2
  local h=$work/empty
  [ "$with" = plugin ] && h=$home
  "${as_user[@]}" env HOME="$h" WIRESHARK_PLUGIN_DIR=/nonexistent \
    valgrind --tool=callgrind --callgrind-out-file="$work/out/$name.cg" tshark -n "$@" >/dev/null 2>"$work/out/$name.err"
  grep -oE 'Collected : [0-9]+' "$work/out/$name.err" | grep -oE '[0-9]+'
}
# row LABEL BASELINE-LABEL TARGET (BASE-ARGS) -- (PLUGIN-ARGS)
row() {
  local label=$1 blabel=$2 target=$3; shift 3
  local base=() plug=()
  while [ "$1" != -- ]; do base+=("$1"); shift; done; shift
  plug=("$@")
  local b p b1 p1
  b=$(count "b$RANDOM" "${base[0]}" "${base[@]:1}")
  p=$(count "p$RANDOM" "${plug[0]}" "${plug[@]:1}")
  local base1=("${base[@]:1}") plug1=("${plug[@]:1}")
  b1=$(count "b$RANDOM" "${base[0]}" "${base1[@]/%.pcap/.1.pcap}")
  p1=$(count "p$RANDOM" "${plug[0]}" "${plug1[@]/%.pcap/.1.pcap}")
  awk -v l="$label" -v bl="$blabel" -v t="$target" -v b="$b" -v p="$p" -v b1="$b1" -v p1="$p1" \
    'BEGIN { printf "| %s | %s | %.1f M | %.1f M | %+.2f%% | %.1f M / %.1f M | **%+.2f%%** | %s |\n", l, bl, b / 1e6, p / 1e6, (p / b - 1) * 100, b1 / 1e6, p1 / 1e6, ((p - p1) / (b - b1) - 1) * 100, t }'
}

w=$work
echo "tshark $(tshark --version | head -n1 | grep -oE "[0-9]+\.[0-9]+\.[0-9]+" | head -n1), first $N packets of each capture, $(date -u +%F)"
echo
echo "| capture | baseline | baseline | plugin | whole run | start-up (1 packet): baseline / plugin | per packet | target |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
row "(a) ordinary, no tree" "stock" "≤ 1%" stock -r "$w/a-ordinary.pcap" -- plugin -r "$w/a-ordinary.pcap"
row "(a) ordinary, \`-V\`" "stock" "≤ 1%" stock -V -r "$w/a-ordinary.pcap" -- plugin -V -r "$w/a-ordinary.pcap"
row "(b) mixed, no tree" "stock" "≤ 5%" stock -r "$w/b-mixed.pcap" -- plugin -r "$w/b-mixed.pcap"
row "(b) mixed, \`-V\`" "stock" "≤ 5%" stock -V -r "$w/b-mixed.pcap" -- plugin -V -r "$w/b-mixed.pcap"
row "(b) MPTCP post-dissection's share" "plugin, \`--disable-protocol mptcp_annot\`" "≤ 1%" \
  plugin --disable-protocol mptcp_annot -r "$w/b-mixed.pcap" -- plugin -r "$w/b-mixed.pcap"
row "MPTCP only" "stock \`-o mptcp.analyze_mptcp:TRUE\`" "≤ 5%" \
  stock -o mptcp.analyze_mptcp:TRUE -r "$w/mptcp-only.pcap" -- plugin -r "$w/mptcp-only.pcap"
row "MPTCP only, all of stock's MPTCP analyses" "stock, also \`mptcp.analyze_mappings\`, \`mptcp.intersubflows_retransmission\`" "—" \
  stock -o mptcp.analyze_mptcp:TRUE -o mptcp.analyze_mappings:TRUE -o mptcp.intersubflows_retransmission:TRUE -r "$w/mptcp-only.pcap" -- plugin -r "$w/mptcp-only.pcap"
row "FaceTime only" "stock \`-d udp.port==16402,rtp\`" "≤ 0%" \
  stock -d udp.port==16402,rtp -r "$w/facetime-only.pcap" -- plugin -r "$w/facetime-only.pcap"
row "(c) APNs only (heuristic)" "stock" "—" stock -r "$w/c-apns.pcap" -- plugin -r "$w/c-apns.pcap"
