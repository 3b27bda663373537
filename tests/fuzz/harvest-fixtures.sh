#!/usr/bin/env bash
# Collects every capture the golden tests generate (tests/*.rs write them with
# Tshark::capture into a temporary HOME under /tmp) into OUTDIR, named <n>-<test-name>.pcap.
#
# Runs `cargo test --release` in a private mount namespace whose /tmp is a fresh tmpfs, so
# only this run's captures are collected (OUTDIR must not be under /tmp). Needs root
# (unshare -m). Captures over 1 MiB (tests/bounds.rs) are left out. Extra arguments go to
# cargo test (e.g. `--test apns`).
#
#   tests/fuzz/harvest-fixtures.sh tests/fuzz/fixtures
set -euo pipefail
out=$(realpath -m "${1:?usage: $0 OUTDIR [cargo test args]}")
shift
cd "$(dirname "$0")/../.."
mkdir -p "$out"
unshare -m bash -euo pipefail -c '
  mount -t tmpfs -o mode=1777 harvest /tmp
  cargo test --release --no-fail-fast "$@" >/tmp/harvest-test.log 2>&1 ||
    { echo "harvest: some tests failed (captures are collected anyway):"; grep -E "^test .* FAILED|panicked" /tmp/harvest-test.log | head -20; }
  n=0
  for f in /tmp/appleshark-home-*/files/*; do
    case "$f" in *.pcap|*.pcapng) ;; *) continue ;; esac
    # Not the huge adversarial captures of tests/bounds.rs (they have their own test).
    [ "$(stat -c %s "$f")" -le 1048576 ] || continue
    n=$((n+1))
    cp "$f" "'"$out"'/$(basename "$f")"
  done
  echo "harvested $n captures into '"$out"'"
' harvest "$@"
