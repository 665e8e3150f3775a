#!/bin/sh
# BPE training benchmark: libprism's trainer (1 and 2 threads) against
# HuggingFace tokenizers' BpeTrainer (its Node bindings, npm "tokenizers") and
# a straightforward Python reimplementation of the same rules
# (tests/tokenizer/bpe_reference.py), on about 10 MB of text: the licenses in
# /usr/share/common-licenses and Python's standard library sources, in name
# order, plus seeded multilingual text. Prints JSON: seconds of each, ratios,
# and whether the files are identical. Exits 1 when they differ.
#
#   tests/bench/bpe/run.sh [BUILD_DIR]
#
# BUILD_DIR (default build) is a meson build directory; the prism CLI is
# (re)built there first. Node and npm are needed for the HF peer (installed into
# this folder on first use); without them that peer is reported as null.
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ -f "$build/build.ninja" ] || { echo "run.sh: $build is not a meson build directory" >&2; exit 1; }
ninja -C "$build" -j2 examples/prism >&2
hf=""
if command -v npm >/dev/null 2>&1; then
  [ -d "$here/node_modules" ] || (cd "$here" && npm ci --silent --no-audit --no-fund >&2) || true
  [ -d "$here/node_modules/tokenizers" ] && hf="$here/hf_train.js"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
{
  cat $(ls /usr/share/common-licenses/* | LC_ALL=C sort)
  cat $(ls /usr/lib/python3*/*.py | LC_ALL=C sort)
} | head -c 6000000 > "$work/corpus.txt"
/usr/bin/python3 "$here/../../tokenizer/bpe_corpus.py" "$work/multilingual.txt" 4000000 5
/usr/bin/python3 "$here/bench_bpe.py" "$build/examples/prism" "$work" "$hf" \
  "$work/corpus.txt" "$work/multilingual.txt"
