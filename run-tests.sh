#!/usr/bin/env bash
# The project's test command (README): unit tests of the cores, golden tests in the real
# tshark, and the CMake integration check; as root also the GUI, multi-version, global-copy,
# package and fresh-machine tests. `--no-deps`: do not check for or install system packages.
set -euo pipefail
cd "$(dirname "$0")"

# What the tests need (Debian names): the build's packages (as install.sh), then cmake for
# the CMake check, python3 + venv for the generators, the mutation fuzzer and pypush, iproute2
# for the kernel MPTCP test, git and debootstrap for the clean-clone, chroot and package tests,
# /usr/bin/time (package time) for the memory bounds of tests/bounds.rs.
# As root with apt, what is missing is installed (one apt-get update); as a user the one
# command to run first is printed. (The GUI test installs its own X/OCR tools the same way.)
TEST_PKGS="tshark libwireshark-dev libwiretap-dev libwsutil-dev libglib2.0-dev libclang-dev clang
  pkg-config gcc libc6-dev ca-certificates cmake make python3 python3-venv iproute2 git debootstrap time"
if [ "${1:-}" != --no-deps ] && command -v dpkg-query >/dev/null; then
  # shellcheck disable=SC2086
  missing=$(for p in $TEST_PKGS; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || printf '%s ' "$p"
  done)
  if [ -n "$missing" ]; then
    cmd="apt-get update && echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"
    if [ "$(id -u)" != 0 ]; then
      printf 'run-tests: missing packages: %s\nRun this first, as root (e.g. with sudo), then ./run-tests.sh again:\n\n  sudo sh -c "%s"\n\n' "$missing" "$cmd" >&2
      exit 1
    fi
    echo "run-tests: installing what the tests need: $missing"
    sh -c "$cmd"
  fi
fi

cargo test --release --no-fail-fast
tests/cmake-check.sh
# Bounded tshark-level fuzzing (docs/robustness.md): 2,000 mutants of every fixture capture,
# fails on a crash, abort, hang or plugin panic. (The cargo fuzz corpora are replayed by
# `cargo test`, tests/fuzz_replay.rs.)
python3 tests/fuzz/tshark_mutate.py -n 2000 --batch 5
# Bounded coverage-guided fuzzing through the real epan (fuzz-epan/, docs/robustness.md
# section 4): each of the five targets 30 s with AddressSanitizer; fails on any finding.
# Needs clang (installed above); cargo-fuzz is installed once into ~/.cache/appleshark, the
# build is kept there too.
EPANFUZZ_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/appleshark/fuzz-epan-target" fuzz-epan/run.sh -t 30
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
  if [ -e /etc/appleshark-fresh-machine ]; then
    echo "run-tests: NOT RUN: fresh-machine test ($(cat /etc/appleshark-fresh-machine))"
  else
    tests/fresh-machine/run.sh
  fi
else
  echo "run-tests: NOT RUN: global-copy, package and fresh-machine tests (need root)"
fi
