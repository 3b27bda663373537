#!/usr/bin/env bash
# The in-epan fuzz targets (docs/robustness.md, section 4): builds them (cargo fuzz, -O,
# AddressSanitizer on the Rust code and on the C shims and harness) and runs each for
# SECONDS (default 60: the bounded CI run), one after another, in slices (see below;
# EPANFUZZ_SLICE=<seconds> fixes their length).
# Fails on the first crash, timeout or out-of-memory; the input is then in
# fuzz-epan/artifacts/<target>/ (replay it with `cargo test --release --test
# epan_fuzz_replay` after copying it to fuzz-epan/regressions/<target>/).
#
#   fuzz-epan/run.sh [-t SECONDS] [TARGET ...]
#
# EPANFUZZ_SANITIZER=none: a build without AddressSanitizer (throughput runs only).
# EPANFUZZ_TARGET_DIR: cargo's target directory (default fuzz-epan/target; run-tests.sh keeps
# it in ~/.cache/appleshark so that a fresh clone does not rebuild the dependencies).
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
TD=${EPANFUZZ_TARGET_DIR:-fuzz-epan/target}
if [ "${EPANFUZZ_SANITIZER:-address}" = none ]; then
  # Throughput only (no sanitizer anywhere; about 8x faster on the multi-frame targets), in
  # a target directory of its own.
  nice cargo fuzz build -O -s none --fuzz-dir fuzz-epan --target-dir "$TD/nosan" 2>&1 | grep -v '^\s*Compiling' || true
  BIN=$TD/nosan/x86_64-unknown-linux-gnu/release
else
  # The plugin's C shims (../build.rs) and the harness (fuzz-epan/build.rs) built by clang
  # with AddressSanitizer too.
  export APPLESHARK_SHIM_SANITIZE=address
  nice cargo fuzz build -O --fuzz-dir fuzz-epan --target-dir "$TD" 2>&1 | grep -v '^\s*Compiling' || true
  BIN=$TD/x86_64-unknown-linux-gnu/release
fi

# Registration data handed to Wireshark lives as long as the process: not leaks.
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
status=0
for t in "${TARGETS[@]}"; do
  [ -x "$BIN/$t" ] || { echo "epan-fuzz: no target $t (targets: ${ALL[*]})"; exit 2; }
  mkdir -p "fuzz-epan/corpus-out/$t" "fuzz-epan/artifacts/$t"
  log="fuzz-epan/artifacts/$t/last-run.log"
  : >"$log"
  echo "== epan-fuzz $t (${SECS}s)"
  start=$(date +%s)
  left=$SECS rc=0 slices=0 slice=${EPANFUZZ_SLICE:-120}
  # Slices, each a fresh process on the corpus so far: libwireshark 4.0 keeps about 16 MB
  # per epan session reset (fuzz-epan/src/lib.rs resets every 2,000 inputs), so one process
  # for 30 minutes of a fast target would grow by gigabytes. After the first slice, a slice
  # is as long as about 200,000 executions took in the last one (≈ 100 resets, 1.6 GB), 60 s
  # to 600 s: every slice starts by running the whole corpus again, which for the slow
  # targets costs tens of seconds.
  while [ "$left" -gt 0 ] && [ $rc -eq 0 ]; do
    s=$(( left < slice ? left : slice ))
    t0=$(date +%s)
    set +e
    /usr/bin/time -f "epanfuzz-cpu %U %S" nice "$BIN/$t" "fuzz-epan/corpus-out/$t" "fuzz-epan/corpus/$t" \
      -max_total_time="$s" -max_len=8192 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="fuzz-epan/artifacts/$t/" >>"$log" 2>&1
    rc=$?
    set -e
    slices=$((slices + 1))
    n=$(awk '/^stat::number_of_executed_units:/ {n = $2} END {print n + 0}' "$log")
    rate=$(( n / ( $(date +%s) - t0 > 0 ? $(date +%s) - t0 : 1 ) ))
    [ -n "${EPANFUZZ_SLICE:-}" ] || slice=$(( 200000 / (rate > 0 ? rate : 1) ))
    [ "$slice" -ge 60 ] || slice=60
    [ "$slice" -le 600 ] || slice=600
    left=$(( SECS - ($(date +%s) - start) ))
  done
  execs=$(awk '/^stat::number_of_executed_units:/ {n += $2} END {print n + 0}' "$log")
  cpu=$(awk '/^epanfuzz-cpu/ {c += $2 + $3} END {printf "%.0f", c}' "$log")
  last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)[[:space:]]' "$log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+' || true)
  corp=$(ls "fuzz-epan/corpus-out/$t" | wc -l)
  echo "epan-fuzz $t: $(( $(date +%s) - start ))s wall, ${cpu}s CPU, $slices slices, $execs executions" \
       "($(( execs / (cpu > 0 ? cpu : 1) ))/CPU-s), $last, corpus-out $corp files, exit $rc"
  if [ $rc -ne 0 ] || ls "fuzz-epan/artifacts/$t" | grep -qE '^(crash|oom|timeout|leak|slow-unit)-'; then
    echo "epan-fuzz $t: FAILED; log $log:"
    grep -vE '^#[0-9]+[[:space:]]|INFO:|DEBUG|^stat::|^MS: |^epanfuzz-cpu' "$log" | tail -n 60
    status=1
  fi
done
exit $status
