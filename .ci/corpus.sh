#!/usr/bin/env bash
# Generates a standalone crate for every spec of tests/fixtures/third-party
# and tests/fixtures/lenient (`cargo xtask codegen --spec`, lenient) into
# target/corpus/, then builds
# and lints each with clippy -D warnings, sharing one target directory and
# the workspace's Cargo.lock. Prints a table: spec, operations generated of
# all, left out, warnings, generation time (release xtask), clippy result.
# Usage: .ci/corpus.sh [SPEC...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=target/corpus
export CARGO_TARGET_DIR="$root/target/corpus-target"
mkdir -p "$out"
cargo build --release --locked -q -p xtask
xtask="$CARGO_TARGET_DIR/release/xtask"

if [ $# -gt 0 ]; then specs=("$@"); else
  mapfile -t specs < <(find tests/fixtures/third-party tests/fixtures/lenient -maxdepth 1 \( -name '*.yaml' -o -name '*.json' \) | sort)
fi

failed=0
printf '%-28s %12s %9s %9s %9s  %s\n' spec operations "left out" warnings "gen ms" clippy
for spec in "${specs[@]}"; do
  name=$(basename "${spec%.*}")
  dir="$out/$name"
  rm -rf "$dir"
  start=$(date +%s%N)
  if ! "$xtask" codegen --spec "$spec" --out "$dir" > "$out/$name.log" 2>&1; then
    printf '%-28s generation failed (see %s)\n' "$name" "$out/$name.log"
    failed=1
    continue
  fi
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  summary=$(grep '^codegen: [0-9]' "$out/$name.log")
  ops=$(sed -E 's/^codegen: ([0-9]+) of ([0-9]+) operations.*/\1\/\2/' <<< "$summary")
  left=$(sed -E 's/.*; ([0-9]+) left out.*/\1/' <<< "$summary")
  warnings=$(sed -E 's/.* ([0-9]+) warnings$/\1/' <<< "$summary")
  cp Cargo.lock "$dir/Cargo.lock"
  if (cd "$dir" && cargo clippy --quiet -- -D warnings > "$root/$out/$name.clippy" 2>&1); then
    result=ok
  else
    result="FAILED (see $out/$name.clippy)"
    failed=1
  fi
  printf '%-28s %12s %9s %9s %9s  %s\n' "$name" "$ops" "$left" "$warnings" "$ms" "$result"
done
exit $failed
