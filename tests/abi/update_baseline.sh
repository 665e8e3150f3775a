#!/bin/sh
# Regenerate abi/libprism.abi from a build: tests/abi/update_baseline.sh BUILD_DIR
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
lib=$(ls "$1"/lib/libprism.so.*.*.* | head -n 1)
abidw --headers-dir "$top/include/prism" --no-corpus-path --out-file "$top/abi/libprism.abi" "$lib"
echo "baseline written from $lib"
