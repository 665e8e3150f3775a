#!/usr/bin/env bash
# Build the concurrency suite under ThreadSanitizer and run it; any data race
# fails. BUILD (default build-tsan) is the build directory.
#
#   tests/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-tsan}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
    -Doptimization=1 >/dev/null
fi
ninja -C "$build" -j2 tests/threads/test_threads >/dev/null
# OpenBLAS is not instrumented: keep it on the calling thread.
export OPENBLAS_NUM_THREADS=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
PRISM_FIXTURES="$PWD/tests/fixtures" "$build/tests/threads/test_threads"
