#!/usr/bin/env bash
# Fuzzes every public C entry point for a bounded time and prints the figures docs/reliability.md quotes.
#   native/fuzz/run.sh [seconds=60] [--update-corpus]
# Builds build/fuzz with clang (-fsanitize=fuzzer,address,undefined), copies the seed corpus
# (native/fuzz/corpus) to a scratch folder, fuzzes for the given time, then replays what it kept
# with -print_coverage=1 to count the edges of native/src that ran. --update-corpus merges the
# inputs that found new coverage back into the seed corpus (libFuzzer -merge=1 on edges alone, which keeps it small).
# Exit status: libFuzzer's (non-zero on a crash, a sanitizer report or a failed contract check;
# the input that did it is saved as build/fuzz/crash-*).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
build="$root/build/fuzz"
corpus="$root/native/fuzz/corpus"
command -v clang >/dev/null || { echo "fuzz: clang is required (apt-get install clang libclang-rt-14-dev llvm)"; exit 1; }
CC=clang cmake -S "$root" -B "$build" -DNKL_FUZZ=ON -DNKL_BUILD_TESTS=OFF -DNKL_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_api --parallel >/dev/null
fuzzer="$build/native/fuzz/fuzz_api"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus"/* "$work"/
seeds=$(ls "$corpus" | wc -l)

log="$build/fuzz.log"
set +e
"$fuzzer" -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
          -artifact_prefix="$build/" "$work" >"$log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
  grep -v -E '^#[0-9]|NEW_FUNC|failed to allocate' "$log" | tail -40
  why=$(grep -m1 -E '^fuzz_api: |ERROR: |^SUMMARY: |ALARM: ' "$log" || true)
  echo "fuzz: FAILED (libFuzzer exit $status: ${why:-see $log}); the input is in $build/crash-*"
  exit "$status"
fi
execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
rss=$(awk '/stat::peak_rss_mb/ { print $2 }' "$log")
kept=$(ls "$work" | wc -l)
# COVERED_FUNC/UNCOVERED_FUNC lines: "edges: covered/total name file:line"; the library's are under native/src.
"$fuzzer" -runs=0 -print_coverage=1 "$work" 2>&1 | awk '
  /_FUNC: / && /\/native\/src\// {
    for (i = 1; i <= NF; i++) if ($i == "edges:") { split($(i + 1), e, "/"); covered += e[1]; total += e[2] }
    functions++; if ($1 == "COVERED_FUNC:") hit++
  }
  END { printf "fuzz: native/src edges covered: %d of %d (%.1f%%), functions entered: %d of %d\n",
               covered, total, total ? 100 * covered / total : 0, hit, functions }'
echo "fuzz: $execs executions in $seconds s ($rate per second), peak RSS $rss MB, corpus $seeds seeds -> $kept inputs, no failure"
if [ "${2:-}" = "--update-corpus" ]; then
  "$fuzzer" -merge=1 -use_counters=0 "$corpus" "$work" >/dev/null 2>&1
  echo "fuzz: seed corpus now $(ls "$corpus" | wc -l) inputs"
fi
