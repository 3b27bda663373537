#!/usr/bin/env bash
# Instructions per call of the core parsers (docs/benchmarks.md, "Core parsers"): valgrind's
# callgrind runs benches/instructions.rs and each case's instructions are divided by its
# calls and its bytes. Instruction counts do not depend on the machine's load, unlike
# criterion's times (benches/parsers.rs). Not part of the test run.
#
#   benches/instructions.sh                  this tree
#   benches/instructions.sh --baseline REV   REV too, in one run: a worktree of REV measured
#                                            with this tree's harness and inputs (benches/
#                                            instructions.rs, inputs.rs, tshark/wire.rs)
#
# Prints a Markdown table. Needs valgrind (apt-get install valgrind). ≈ 2 min, 4 with a baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
base=
[ "${1:-}" = --baseline ] && { base=${2:?--baseline needs a revision}; }
work=$(mktemp -d /tmp/appleshark-instructions.XXXXXX)
cleanup() {
  [ -d "$work/base" ] && git worktree remove --force "$work/base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# measure DIR TARGET-DIR OUT: "name unit calls bytes instructions" per case into OUT.
measure() {
  local dir=$1 td=$2 out=$3 exe
  exe=$(cd "$dir" && cargo bench --bench instructions --no-run --target-dir "$td" 2>&1 | sed -n 's/.*Executable [^(]*(\(.*\))$/\1/p' | tail -n1)
  [ -x "$exe" ] || { echo "instructions.sh: no benchmark binary built in $dir" >&2; exit 1; }
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$exe" >"$work/cases" 2>"$work/valgrind.err"
  callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.out" >"$work/annotate"
  while read -r _ name unit calls bytes; do
    local ir
    ir=$(grep -E "[:?]instructions::case_${name} \[" "$work/annotate" | head -n1 | awk '{gsub(",", "", $1); print $1}' || true)
    [ -n "$ir" ] || { echo "instructions.sh: case $name not in callgrind's output" >&2; exit 1; }
    echo "$name $unit $calls $bytes $ir"
  done <"$work/cases" >"$out"
}

measure . "$PWD/target" "$work/now"
if [ -n "$base" ]; then
  git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
  mkdir -p "$work/base/benches/tshark"
  cp benches/instructions.rs benches/inputs.rs "$work/base/benches/"
  cp benches/tshark/wire.rs "$work/base/benches/tshark/"
  grep -q 'name = "instructions"' "$work/base/Cargo.toml" || printf '\n[[bench]]\nname = "instructions"\nharness = false\n' >>"$work/base/Cargo.toml"
  measure "$work/base" "$work/base-target" "$work/then"
fi

echo "callgrind, $(git rev-parse --short HEAD)${base:+ vs $base}, $(date -u +%F)"
echo
if [ -n "$base" ]; then
  echo "| case | unit | bytes/unit | instructions/unit, $base | instructions/unit, now | change | instructions/byte, now |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  join <(sort "$work/then") <(sort "$work/now") | awk '{ b = $5 / $3; n = $9 / $7; printf "| %s | %s | %.0f | %.0f | %.0f | %+.1f%% | %.2f |\n", $1, $2, $4 / $3, b, n, (n / b - 1) * 100, $9 / $8 }'
else
  echo "| case | unit | bytes/unit | instructions/unit | instructions/byte |"
  echo "|---|---|---:|---:|---:|"
  awk '{ printf "| %s | %s | %.0f | %.0f | %.2f |\n", $1, $2, $4 / $3, $5 / $3, $5 / $4 }' "$work/now"
fi
