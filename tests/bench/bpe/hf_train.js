// HuggingFace tokenizers' own BpeTrainer through its Node bindings, as the benchmark's peer.
//
//   node hf_train.js OUT_DIR FILE...
//
// The bindings only train with BPE's default trainer: vocab_size 30000,
// min_frequency 0, no special tokens, no initial alphabet, on ByteLevel
// pre-tokenization (add_prefix_space false). Writes OUT_DIR/vocab.json and
// merges.txt in the order HF's BPE.save() uses and prints {"seconds": ...},
// the time of train() alone.
const fs = require("node:fs");
const path = require("node:path");
const tk = require("tokenizers");

const [out, ...files] = process.argv.slice(2);
const tokenizer = new tk.Tokenizer(tk.BPE.empty());
tokenizer.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
const t0 = process.hrtime.bigint();
tokenizer.train(files);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const json = path.join(out, "tokenizer.json");
tokenizer.save(json, false);
const model = JSON.parse(fs.readFileSync(json, "utf8")).model;
const vocab = Object.entries(model.vocab).sort((a, b) => a[1] - b[1]);
fs.writeFileSync(path.join(out, "vocab.json"),
  "{" + vocab.map(([t, id]) => JSON.stringify(t) + ":" + id).join(",") + "}");
fs.writeFileSync(path.join(out, "merges.txt"),
  "#version: 0.2\n" + model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m) + "\n").join(""));
console.log(JSON.stringify({ seconds }));
