#!/usr/bin/env bash
# Run test suites under valgrind memcheck; any memory error or leak fails.
#
#   tests/valgrind.sh [SUITE...]
#
# By default: the parity suites (tokenizer, bart, generate, ranker) and the
# input-validation suites (common, bad, fuzz), those of them that exist. BUILD
# (default build-valgrind) is a plain gcc build with optimisation 1, so that
# reports point at readable code. tests/valgrind.supp names what is not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-valgrind}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dwerror=true -Doptimization=1 >/dev/null
fi
ninja -C "$build" -j2 >/dev/null

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  defined=$(meson test -C "$build" --list 2>/dev/null)
  for s in tokenizer bart generate ranker common bad fuzz; do
    grep -q "^libprism:$s / " <<<"$defined" && suites+=("$s")
  done
fi
args=()
for s in "${suites[@]}"; do
  args+=(--suite "$s")
done

# Valgrind cannot run AVX-512 code: keep OpenBLAS on AVX2 kernels.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
echo "valgrind: suites ${suites[*]}"
meson test -C "$build" --print-errorlogs --timeout-multiplier 20 "${args[@]}" \
  --wrap="valgrind --quiet --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,possible \
--errors-for-leak-kinds=definite,possible --track-origins=yes \
--suppressions=$PWD/tests/valgrind.supp --gen-suppressions=all"
