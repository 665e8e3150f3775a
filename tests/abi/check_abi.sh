#!/bin/sh
# ABI check against the committed baseline abi/libprism.abi (abidw output).
# Fails on any incompatible change, and on struct growth not listed in
# abi/intended.suppr. Skips (77) only when abidiff is not installed.
# Refresh the baseline deliberately (tests/abi/update_baseline.sh) with a CHANGELOG line.
lib="$1"; abidir="$2"; headers="$3"
command -v abidiff >/dev/null 2>&1 || { echo "abidiff not installed: skipping"; exit 77; }
[ -f "$abidir/libprism.abi" ] || { echo "missing baseline $abidir/libprism.abi"; exit 1; }
supp=""
[ -f "$abidir/intended.suppr" ] && supp="--suppressions $abidir/intended.suppr"
# shellcheck disable=SC2086
abidiff --no-added-syms --headers-dir2 "$headers" $supp "$abidir/libprism.abi" "$lib"
rc=$?
if [ $rc -ne 0 ]; then
  echo "abidiff exit status $rc (4: ABI change, 8: incompatible change)"
  exit 1
fi
echo "ABI matches the baseline"
