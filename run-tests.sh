#!/usr/bin/env bash
# The project's test command (README): unit tests of the cores, golden tests in the real
# tshark, and the CMake integration check. Needs tshark and libwireshark-dev (see .ci/run);
# as root also the multi-version, global-copy, package and fresh-machine tests.
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
# Needs root too (chroots, mounts in a private mount namespace):
# - a different appleshark build in the global plugin folder must not change the tests that
#   start tshark (the harness checks the copy it loads; pcap_writer uses stock tshark);
# - the .debs (bookworm, trixie, sid) install, decode every sample, and remove cleanly in
#   clean chroots of their releases, and apt refuses another release's;
# - README's first command on a bare Debian 12 and 13 (debootstrap minbase + the host's Rust).
if [ "$(id -u)" = 0 ]; then
  tests/global-copy/run.sh cargo test --release --test pcap_writer --test snatmap
  tests/packages/run.sh
  tests/fresh-machine/run.sh
else
  echo "run-tests: NOT RUN: global-copy, package and fresh-machine tests (need root)"
fi
