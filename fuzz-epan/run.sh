#!/usr/bin/env bash
# The in-epan fuzz targets (docs/robustness.md, section 4): builds them (cargo fuzz, -O,
# AddressSanitizer on the Rust code and on the C shims and harness) and runs each for
# SECONDS (default 60: the bounded CI run) in libFuzzer's fork mode, one after another.
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
status=0
for t in "${TARGETS[@]}"; do
  [ -x "$BIN/$t" ] || { echo "epan-fuzz: no target $t (targets: ${ALL[*]})"; exit 2; }
  mkdir -p "fuzz-epan/corpus-out/$t" "fuzz-epan/artifacts/$t"
  log="fuzz-epan/artifacts/$t/last-run.log"
  echo "== epan-fuzz $t (${SECS}s)"
  start=$(date +%s)
  set +e
  # Fork mode: every job is a fresh process (libwireshark 4.0 keeps ≈ 16 MB per epan session
  # reset, so a long-lived process could not drop its state often enough); jobs grow from
  # 1 s to 300 s.
  nice "$BIN/$t" "fuzz-epan/corpus-out/$t" "fuzz-epan/corpus/$t" \
    -fork=1 -ignore_crashes=0 -ignore_ooms=0 -ignore_timeouts=0 \
    -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="fuzz-epan/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  summary=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n1 || true)
  echo "epan-fuzz $t: $(( $(date +%s) - start ))s, exit $rc, $summary"
  if [ $rc -ne 0 ] || ls "fuzz-epan/artifacts/$t" | grep -qE '^(crash|oom|timeout|leak)-'; then
    echo "epan-fuzz $t: FAILED; log $log:"
    grep -vE '^#[0-9]+: cov:|INFO:|DEBUG' "$log" | tail -n 60
    status=1
  fi
done
exit $status
