// Writes seeded random multilingual text (ASCII, Latin, Greek, Cyrillic, Arabic,
// Devanagari, Thai, kana, CJK, Hangul, emoji, combining marks, punctuation,
// fullwidth forms, control whitespace) for the ids cross-check in run.sh.
//
//   node random_text.mjs OUT [CHARS]
import { writeFileSync } from "node:fs";

let seed = 1234567;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0xa0, 0x24f], [0x370, 0x52f],
  [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x3040, 0x30ff], [0x4e00, 0x4fff],
  [0xac00, 0xad00], [0x1f300, 0x1f64f], [0x300, 0x36f], [0x2000, 0x206f], [0xff00, 0xffef],
];
const [outPath, charsArg] = process.argv.slice(2);
const out = [];
for (let i = 0; i < Number(charsArg || 200000); i++) {
  const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)];
  out.push(String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1))));
  if (rnd() < 0.15) out.push(" ");
}
writeFileSync(outPath, out.join(""));
