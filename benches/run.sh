#!/usr/bin/env bash
# The benchmark (README "Performance", docs/benchmarks.md). Not part of the test run.
#
#   benches/run.sh            full run: criterion on the core parsers, then tshark with and
#                             without the plugin on 1,000,000-packet captures (≈ 25 min on
#                             2 shared cores; captures need ≈ 2 GB under target/bench)
#   benches/run.sh --quick    1% scale, 3 runs, short criterion (≈ 2 min): to check it works
#   (then the MPTCP memory slope: --mptcp-memory N on its own does only that)
#
# Other options go to the tshark harness: --runs N (default 5), --scale F (default 1),
# --verbose-scale F (size of the -V captures, default 0.1), --out FILE.
# Writes benches/results.md (the tables README and docs/benchmarks.md show) unless --out.
# Needs: tshark (4.0/4.4/4.6) and the plugin's build dependencies, /usr/bin/time; as root
# tshark runs as `nobody` (setpriv) so that it loads the personal plugin folder.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0 out=benches/results.md prev=
for a in "$@"; do
  [ "$a" = --quick ] && quick=1
  [ "$prev" = --out ] && out=$a
  prev=$a
done
command -v tshark >/dev/null || { echo "run.sh: tshark not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (Debian: apt-get install time)" >&2; exit 1; }

# The plugin exactly as installed: release profile.
cargo build --release --lib
# Core parser throughput (criterion); results land in target/criterion, read by the harness.
rm -rf target/criterion
if [ $quick = 1 ]; then
  cargo bench --bench parsers -- --warm-up-time 0.2 --measurement-time 0.5 --noplot
else
  cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3 --noplot
fi
cargo bench --bench tshark -- --run --plugin target/release/libappleshark.so "$@"
# MPTCP memory per segment (issue 18): the slope between captures of N and 2N sessions,
# appended to the report (≈ 4 min at N = 2000).
sessions=2000; [ $quick = 1 ] && sessions=50
cargo bench --bench tshark -- --run --plugin target/release/libappleshark.so --mptcp-memory $sessions --runs 3 --out target/bench/mptcp-memory.md
{ echo; echo "## MPTCP memory per segment"; echo; cat target/bench/mptcp-memory.md; } >> "$out"
