#!/usr/bin/env bash
# The project's test command (README): unit tests of the cores, golden tests in the real
# tshark, and the CMake integration check. Needs tshark and libwireshark-dev (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --release
tests/cmake-check.sh
# Bounded tshark-level fuzzing (docs/robustness.md): 2,000 mutants of every fixture capture,
# fails on a crash, abort, hang or plugin panic. (The cargo fuzz corpora are replayed by
# `cargo test`, tests/fuzz_replay.rs.)
python3 tests/fuzz/tshark_mutate.py -n 2000 --batch 5
# The GUI test (Wireshark's Qt GUI under Xvfb, screenshots, OCR checks); as root it installs
# what it needs. ~150 s (one Wireshark start per sample, three Statistics dialogs in each).
if [ "$(id -u)" = 0 ] || tests/gui/gui-test.sh --check-tools >/dev/null; then
  tests/gui/gui-test.sh
else
  echo "run-tests: NOT RUN: GUI test ($(tests/gui/gui-test.sh --check-tools))"
fi
# The same golden tests in tshark 4.4 and 4.6 (Debian trixie and sid chroots); needs root.
if [ "$(id -u)" = 0 ]; then
  tests/multiversion/run.sh
else
  echo "run-tests: NOT RUN: multi-version tests (tests/multiversion/run.sh needs root)"
fi
