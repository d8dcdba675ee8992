#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz from a seed corpus made of the
# fixtures. Usage: .ci/fuzz.sh RUNS [SECONDS]
#   .ci/fuzz.sh 3000        a short, fixed number of executions per target (CI)
#   .ci/fuzz.sh 0 60        60 seconds per target (the figures of RELIABILITY.md)
# cargo-fuzz runs on the stable toolchain with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3000}
seconds=${2:-0}
export RUSTC_BOOTSTRAP=1
# The short CI run builds at opt-level 1 without debug info (3.5 instead of
# 5 minutes of building on 2 cores; a few thousand executions need no more);
# the timed runs keep the release profile of tests/fuzz/Cargo.toml.
if [ "$seconds" -eq 0 ]; then
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1}
  export CARGO_PROFILE_RELEASE_DEBUG=${CARGO_PROFILE_RELEASE_DEBUG:-false}
fi

corpus=target/fuzz-corpus
rm -rf "$corpus"
mkdir -p "$corpus/spec" "$corpus/page" "$corpus/next_link"
# Seeds are named after their directory too: two directories may hold a
# file of one name.
for seed in spec/*.yaml tests/fixtures/specs/*.yaml tests/fixtures/specs/*.json \
  tests/fixtures/invalid/*.yaml tests/fixtures/lenient/*.yaml; do
  cp "$seed" "$corpus/spec/$(dirname "$seed" | tr / -)-$(basename "$seed")"
done
# The third-party corpus: all of it for a timed run (the largest is about
# 1 MB, a few executions a second under instrumentation); the specs under
# 40 KB for the short CI run.
if [ "$seconds" -gt 0 ]; then size=+0; else size=-40k; fi
find tests/fixtures/third-party -maxdepth 1 \( -name '*.yaml' -o -name '*.json' \) -size "$size" \
  -exec cp {} "$corpus/spec/" \;
cp tests/fixtures/responses/*.json "$corpus/page/"
cp tests/fixtures/responses/*.json tests/fixtures/links/*.json "$corpus/next_link/"

cargo fuzz build --fuzz-dir tests/fuzz
for target in spec page next_link; do
  echo "fuzz: $target"
  args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048)
  # The short CI run is reproducible: a fixed seed (FUZZ_SEED) makes the
  # same executions on every machine, so a crash it finds is found again by
  # `bash .ci/fuzz.sh 3000` anywhere. Timed runs draw a new seed each time.
  if [ "$seconds" -gt 0 ]; then
    args+=(-max_total_time="$seconds")
  else
    args+=(-runs="$runs" -seed="${FUZZ_SEED:-1}")
  fi
  cargo fuzz run --fuzz-dir tests/fuzz "$target" "$corpus/$target" -- "${args[@]}" 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|panicked|ERROR|SUMMARY' \
    || true
  # A crash leaves an artifact and a non-zero exit; the grep above hides the
  # exit status, so look for the artifact.
  if compgen -G "tests/fuzz/artifacts/$target/*" >/dev/null; then
    echo "fuzz: $target found a crash: $(ls tests/fuzz/artifacts/$target)" >&2
    exit 1
  fi
done
