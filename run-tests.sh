#!/usr/bin/env bash
# The project's test command (README): unit tests of the cores, golden tests in the real
# tshark, and the CMake integration check. Needs tshark and libwireshark-dev (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --release
tests/cmake-check.sh
