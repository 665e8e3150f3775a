#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan+UBSan, -Dfuzz=true) and run each for
# SECONDS from its committed seed corpus; any crash, leak, sanitizer report or
# timeout fails the run and leaves the input under $BUILD/findings/.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]    fuzz (all targets by default)
#   tests/fuzz/run.sh 0 [TARGET...]          only replay the committed corpora
#
# BUILD (default build-fuzz) is the build directory. New inputs go to a
# scratch corpus inside it, so the committed seeds change only by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
build=${BUILD:-build-fuzz}

if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dwerror=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 \
    -Dc_args=-fno-sanitize-recover=all >/dev/null
fi
ninja -C "$build" -j2 >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  # The targets this configuration defines (not whatever binaries an older one left).
  read -r -a targets < <(meson introspect "$build" --targets | python3 -c '
import json, sys
print(" ".join(sorted(t["name"][5:] for t in json.load(sys.stdin) if t["name"].startswith("fuzz_"))))')
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export OPENBLAS_NUM_THREADS=1
# Targets whose loader takes a path rewrite one scratch file per input: keep
# it in memory when possible (an order of magnitude more executions).
scratch_root=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_root=/dev/shm
TMPDIR=$(mktemp -d -p "$scratch_root" prism-fuzz.XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
mkdir -p "$build/findings"
failed=()
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  [ -x "$exe" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 2; }
  log="$build/findings/$t.log"
  if [ "$seconds" -eq 0 ]; then
    echo "== $t: replaying $(ls "$seeds" | wc -l) seeds"
    cmd=("$exe" -runs=0 "$seeds")
  else
    echo "== $t: fuzzing for ${seconds}s"
    scratch="$build/corpus/$t"
    mkdir -p "$scratch"
    cmd=("$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536
         -print_final_stats=1 -artifact_prefix="$build/findings/$t-")
    case $t in
      bart_config|tokenizer_json|tokenizer_files|eval_text|pairs|teacher) dict=json ;;
      *) dict=$t ;;
    esac
    [ -f "tests/fuzz/$dict.dict" ] && cmd+=(-dict="tests/fuzz/$dict.dict")
    cmd+=("$scratch" "$seeds")
  fi
  if "${cmd[@]}" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|Done)' "$log" | tr '\n' ' '; echo
  else
    echo "fuzz: $t FAILED; log $log, inputs $build/findings/$t-*" >&2
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean"
