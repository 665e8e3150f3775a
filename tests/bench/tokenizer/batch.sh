#!/bin/sh
# Batch encoding on the worker pool (PRISM_TOKENIZER_PARALLEL) against the
# serial path, in one run, with the BART vocabulary of tests/fixtures on the
# licenses in /usr/share/common-licenses (one text per line). Prints JSON:
# MB/s of both, the speedup, and whether the ids are identical (exit 1 if not).
#
#   tests/bench/tokenizer/batch.sh [BUILD_DIR] [THREADS] [REPEAT]
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
threads=${2:-2}
repeat=${3:-10}
[ -f "$build/build.ninja" ] || { echo "batch.sh: $build is not a meson build directory" >&2; exit 1; }
ninja -C "$build" -j2 tests/tokenizer/bench_batch >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cat $(ls /usr/share/common-licenses/* | LC_ALL=C sort) > "$work/corpus.txt"
"$build/tests/tokenizer/bench_batch" "$here/../../fixtures/bart-vocab" "$work/corpus.txt" \
  "$threads" "$repeat"
