#!/usr/bin/env bash
# The in-epan fuzz targets (docs/robustness.md, section 4): builds them (cargo fuzz, -O,
# AddressSanitizer on the Rust code and on the C shims and harness) and runs each for
# SECONDS (default 60: the bounded CI run), one after another, in slices of
# EPANFUZZ_SLICE seconds (default 120; see below).
# Fails on the first crash, timeout or out-of-memory; the input is then in
# fuzz-epan/artifacts/<target>/ (replay it with `cargo test --release --test
# epan_fuzz_replay` after copying it to fuzz-epan/regressions/<target>/).
#
#   fuzz-epan/run.sh [-t SECONDS] [TARGET ...]
#
# cargo-fuzz: used from PATH; when missing it is installed once into
# ~/.cache/appleshark/cargo-fuzz (cargo install --locked, about 2 minutes) and used from there.
# New corpus entries go to fuzz-epan/corpus-out/<target>/ (ignored by git), the seeds
# (fuzz-epan/corpus/<target>/, written by fuzz-epan/make_seeds.py) are read only.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=60
if [ "${1:-}" = "-t" ]; then SECS=$2; shift 2; fi
ALL=(udp_5678 udp_16402 tcp_5223 apns_by_name mptcp_tcp)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
  CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/appleshark/cargo-fuzz"
  if [ ! -x "$CACHE/bin/cargo-fuzz" ]; then
    echo "epan-fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into $CACHE"
    cargo install --locked --quiet --root "$CACHE" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
  fi
  export PATH="$CACHE/bin:$PATH"
fi

# Stable rustc takes the -Z flags cargo fuzz passes with RUSTC_BOOTSTRAP=1 (as for fuzz/).
export RUSTC_BOOTSTRAP=1
# The plugin's C shims (../build.rs) and the harness (fuzz-epan/build.rs) built by clang
# with AddressSanitizer too.
export APPLESHARK_SHIM_SANITIZE=address
nice cargo fuzz build -O --fuzz-dir fuzz-epan 2>&1 | grep -v '^\s*Compiling' || true
BIN=fuzz-epan/target/x86_64-unknown-linux-gnu/release

# Registration data handed to Wireshark lives as long as the process: not leaks.
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
SLICE=${EPANFUZZ_SLICE:-120}
status=0
for t in "${TARGETS[@]}"; do
  [ -x "$BIN/$t" ] || { echo "epan-fuzz: no target $t (targets: ${ALL[*]})"; exit 2; }
  mkdir -p "fuzz-epan/corpus-out/$t" "fuzz-epan/artifacts/$t"
  log="fuzz-epan/artifacts/$t/last-run.log"
  : >"$log"
  echo "== epan-fuzz $t (${SECS}s)"
  start=$(date +%s)
  left=$SECS execs=0 cpu=0 rc=0 slices=0
  # Slices of at most SLICE seconds, each a fresh process on the corpus so far: libwireshark
  # 4.0 keeps about 16 MB per epan session reset (fuzz-epan/src/lib.rs resets every 2,000
  # inputs), so one process per 30 minutes would grow by gigabytes. (libFuzzer's -fork mode
  # does the same with less overhead per job only for jobs much longer than its own.)
  while [ "$left" -gt 0 ] && [ $rc -eq 0 ]; do
    s=$(( left < SLICE ? left : SLICE ))
    set +e
    /usr/bin/time -f "epanfuzz-cpu %U %S" nice "$BIN/$t" "fuzz-epan/corpus-out/$t" "fuzz-epan/corpus/$t" \
      -max_total_time="$s" -max_len=8192 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="fuzz-epan/artifacts/$t/" >>"$log" 2>&1
    rc=$?
    set -e
    slices=$((slices + 1))
    left=$(( SECS - ($(date +%s) - start) ))
  done
  execs=$(awk '/^stat::number_of_executed_units:/ {n += $2} END {print n + 0}' "$log")
  cpu=$(awk '/^epanfuzz-cpu/ {c += $2 + $3} END {printf "%.0f", c}' "$log")
  last=$(grep -E '^#[0-9]+ +(DONE|pulse|NEW|REDUCE) ' "$log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+' || true)
  corp=$(ls "fuzz-epan/corpus-out/$t" | wc -l)
  echo "epan-fuzz $t: $(( $(date +%s) - start ))s wall, ${cpu}s CPU, $slices slices, $execs executions" \
       "($(( execs / (cpu > 0 ? cpu : 1) ))/CPU-s), $last, corpus-out $corp files, exit $rc"
  if [ $rc -ne 0 ] || ls "fuzz-epan/artifacts/$t" | grep -qE '^(crash|oom|timeout|leak|slow-unit)-'; then
    echo "epan-fuzz $t: FAILED; log $log:"
    grep -vE '^#[0-9]+ |INFO:|DEBUG|^stat::' "$log" | tail -n 60
    status=1
  fi
done
exit $status
