#!/usr/bin/env python3
"""Write tests/fixtures/metrics/lower_cases.json: Python's str.lower() on every
code point it changes, and on capital sigma in word contexts, for the C
lower-casing of the metrics (--lowercase). Rerun after a Python upgrade:

    python3 tests/metrics/make_lower_cases.py
"""
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "metrics", "lower_cases.json")

SIGMA_CONTEXTS = ["ΟΔΟΣ", "ΟΔΟΣ ΣΑ", "Σ", "ΑΣΑ", "Α.Σ", "ΑΣ.", "ΑΣ'Α", "A\u0301Σ", "ΑΣ\u0301",
                  "1Σ", "ΑΣ1", "ΣΑ", "ΑΣ\u00ad", "ΑΣ\u00adΑ", "ΣΣ", "Σ\u0345"]


def main():
    chars = [chr(cp) for cp in range(0x110000)
             if not 0xD800 <= cp <= 0xDFFF and chr(cp).lower() != chr(cp)]
    cases = [[c, c.lower()] for c in chars] + [[t, t.lower()] for t in SIGMA_CONTEXTS]
    doc = {"python": sys.version.split()[0], "unicode": unicodedata.unidata_version,
           "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
