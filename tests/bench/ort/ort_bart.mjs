// BART generation on ONNX Runtime (onnxruntime-node, CPU): the ORT peer of tests/bench/bart_bench.py.
//
//   node tests/bench/ort/ort_bart.mjs serve  --model DIR [--onnx DIR] [session options]
//   node tests/bench/ort/ort_bart.mjs verify --model DIR --reference FILE [--onnx DIR] [options]
//
// `serve` answers JSON Lines like `prism generate --timing`: a first line {"ready": true,
// "load_ms": ...}, then per request {"input_ids", "attention_mask"?, "params"?} one line
// {"sequences", "sequences_scores"?, "timing": {encode_ms, decode_ms, steps, rows, step_ms,
// run_ms, search_ms, reorder_ms}}. Greedy and beam search follow HF transformers 4.36, as
// libprism's prism_generate_run() and torch_bart.py do (docs/generate.md); sampling is not
// implemented. The graphs are those of export_onnx.py (HF optimum's layout).
//
// Session options: --threads N (intraOpNumThreads; interOpNumThreads is 1, sequential execution),
// --opt disabled|basic|extended|layout|all, --arena on|off (CPU memory arena), --mem-pattern on|off,
// --decoder split|merged (decoder_model + decoder_with_past_model, or decoder_model_merged),
// --prealloc on|off (hand ORT the logits buffer of each step), --config KEY=VALUE (a session
// config entry, repeatable: e.g. session.intra_op.allow_spinning=0), --beam-scores topk|ort|js
// (how beam search ranks its candidates each step: `topk` runs log_softmax + beam score + top-k
// as ORT kernels (beam_topk.onnx) and applies the logits processors to the few tokens they touch;
// `ort` runs ORT's LogSoftmax (log_softmax.onnx), then processors and top-k in JS; `js` does all
// three in JS).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

const USAGE = `usage: node ort_bart.mjs serve|verify --model DIR [options]

  serve                 JSON Lines on stdin/stdout, as \`prism generate --timing\`
  verify                compare the graphs with export_onnx.py's reference.json

  --model DIR           HF BART folder (config.json, generation_config.json)
  --onnx DIR            its ONNX graphs (default: MODEL/onnx)
  --reference FILE      verify: torch's values (default: none, required)
  --tolerance X         verify: largest allowed |difference| (default: 1e-4)
  --threads N           intraOpNumThreads (default: 2); interOpNumThreads is 1
  --opt LEVEL           disabled|basic|extended|layout|all (default: all)
  --arena on|off        CPU memory arena (default: on)
  --mem-pattern on|off  memory pattern planning (default: on)
  --decoder KIND        split|merged (default: split)
  --prealloc on|off     hand ORT a preallocated logits buffer (default: off)
  --beam-scores HOW     topk|ort|js (default: topk)
  --config KEY=VALUE    a session config entry, repeatable (default: none)

example: echo '{"input_ids": [[0, 17, 42, 99, 5, 2]]}' |
  node ort_bart.mjs serve --model tests/fixtures/tiny-bart-copy --onnx /tmp/tiny-onnx`;

function parseArgs(argv) {
  const o = { cmd: argv[0], threads: 2, opt: 'all', arena: 'on', memPattern: 'on',
              decoder: 'split', prealloc: 'off', beamScores: 'topk', config: {}, tolerance: 1e-4 };
  const keys = { '--model': 'model', '--onnx': 'onnx', '--reference': 'reference',
                 '--threads': 'threads', '--opt': 'opt', '--arena': 'arena',
                 '--mem-pattern': 'memPattern', '--decoder': 'decoder',
                 '--prealloc': 'prealloc', '--beam-scores': 'beamScores',
                 '--tolerance': 'tolerance' };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    if (a === '--config') {
      const [k, ...v] = (argv[++i] || '').split('=');
      if (!k || v.length === 0) throw new Error('--config wants KEY=VALUE');
      o.config[k] = v.join('=');
    } else if (keys[a] && i + 1 < argv.length) {
      o[keys[a]] = argv[++i];
    } else {
      throw new Error(`unknown or incomplete option ${a}\n${USAGE}`);
    }
  }
  if (!['serve', 'verify'].includes(o.cmd) || !o.model) throw new Error(USAGE);
  if (o.cmd === 'verify' && !o.reference) throw new Error('verify needs --reference FILE');
  o.threads = Number(o.threads);
  o.tolerance = Number(o.tolerance);
  o.onnx = o.onnx || path.join(o.model, 'onnx');
  for (const [k, allowed] of [['arena', ['on', 'off']], ['memPattern', ['on', 'off']],
                              ['prealloc', ['on', 'off']], ['decoder', ['split', 'merged']],
                              ['beamScores', ['topk', 'ort', 'js']],
                              ['opt', ['disabled', 'basic', 'extended', 'layout', 'all']]]) {
    if (!allowed.includes(o[k])) throw new Error(`${k}: expected one of ${allowed.join(', ')}`);
  }
  return o;
}

function sessionOptions(o) {
  return { intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential',
           graphOptimizationLevel: o.opt, enableCpuMemArena: o.arena === 'on',
           enableMemPattern: o.memPattern === 'on',
           ...(Object.keys(o.config).length ? { extra: nestConfig(o.config) } : {}) };
}

// session config entries "a.b.c" = "v" -> { a: { b: { c: "v" } } }, as the node binding reads them
function nestConfig(flat) {
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = node[p] = node[p] || {};
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------
// the model: three (or two) sessions and the decoder's tensor names

class Model {
  static async load(o) {
    const m = new Model();
    const readJson = (f) => JSON.parse(fs.readFileSync(path.join(o.model, f), 'utf8'));
    m.config = readJson('config.json');
    m.genConfig = fs.existsSync(path.join(o.model, 'generation_config.json'))
      ? readJson('generation_config.json') : {};
    const c = m.config;
    m.layers = c.decoder_layers;
    m.heads = c.decoder_attention_heads;
    m.headDim = c.d_model / c.decoder_attention_heads;
    m.dModel = c.d_model;
    m.vocab = c.vocab_size;
    m.merged = o.decoder === 'merged';
    m.prealloc = o.prealloc === 'on';
    const opts = sessionOptions(o);
    const open = (f) => ort.InferenceSession.create(path.join(o.onnx, f), opts);
    m.encoder = await open('encoder_model.onnx');
    m.beamScores = o.beamScores;
    if (o.beamScores === 'ort') m.logSoftmaxSession = await open('log_softmax.onnx');
    if (o.beamScores === 'topk') m.topkSession = await open('beam_topk.onnx');
    if (m.merged) {
      m.decoderFirst = m.decoderPast = await open('decoder_model_merged.onnx');
    } else {
      m.decoderFirst = await open('decoder_model.onnx');
      m.decoderPast = await open('decoder_with_past_model.onnx');
    }
    m.selfNames = [];
    m.crossNames = [];
    for (let i = 0; i < m.layers; i++) {
      m.selfNames.push(`${i}.decoder.key`, `${i}.decoder.value`);
      m.crossNames.push(`${i}.encoder.key`, `${i}.encoder.value`);
    }
    m.logitsBuf = new Float32Array(0);
    m.kvBufs = [];
    return m;
  }

  // logits [rows, t, vocab] fetched into one reused buffer (when --prealloc on)
  logitsFetch(rows, t) {
    const n = rows * t * this.vocab;
    if (!this.prealloc) return null;
    if (this.logitsBuf.length < n) this.logitsBuf = new Float32Array(n);
    return new ort.Tensor('float32', this.logitsBuf.subarray(0, n), [rows, t, this.vocab]);
  }

  async encode(ids, mask, rows, len) {
    const out = await this.encoder.run({
      input_ids: new ort.Tensor('int64', ids, [rows, len]),
      attention_mask: new ort.Tensor('int64', mask, [rows, len]) });
    return out.last_hidden_state;
  }

  // The first decoder call: ids [rows, t]; returns logits data and the self / cross K/V tensors.
  async decodeFirst(ids, rows, t, encMask, encStates) {
    const feeds = { input_ids: new ort.Tensor('int64', ids, [rows, t]),
                    encoder_attention_mask: encMask, encoder_hidden_states: encStates };
    if (this.merged) {
      const empty = new ort.Tensor('float32', new Float32Array(0), [rows, this.heads, 0, this.headDim]);
      for (const n of [...this.selfNames, ...this.crossNames]) feeds[`past_key_values.${n}`] = empty;
      feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([0]), [1]);
    }
    const out = await this.decoderFirst.run(feeds, this.fetches(rows, t, true));
    return { logits: out.logits.data, self: this.selfNames.map((n) => out[`present.${n}`]),
             cross: this.crossNames.map((n) => out[`present.${n}`]) };
  }

  // One step with past: ids [rows, 1]; past self K/V tensors; returns logits and new self K/V.
  async decodeStep(ids, rows, encMask, encStates, self, cross) {
    const feeds = { input_ids: new ort.Tensor('int64', ids, [rows, 1]),
                    encoder_attention_mask: encMask };
    this.selfNames.forEach((n, i) => { feeds[`past_key_values.${n}`] = self[i]; });
    this.crossNames.forEach((n, i) => { feeds[`past_key_values.${n}`] = cross[i]; });
    if (this.merged) {
      feeds.encoder_hidden_states = encStates;
      feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([1]), [1]);
    }
    const out = await this.decoderPast.run(feeds, this.fetches(rows, 1, this.merged));
    return { logits: out.logits.data, self: this.selfNames.map((n) => out[`present.${n}`]) };
  }

  fetches(rows, t, withCross) {
    const f = { logits: this.logitsFetch(rows, t) };
    for (const n of this.selfNames) f[`present.${n}`] = null;
    if (withCross) for (const n of this.crossNames) f[`present.${n}`] = null;
    return f;
  }
}

// ---------------------------------------------------------------------------
// generation parameters: call, generation_config.json, config.json, HF defaults

const PARAM_DEFAULTS = {
  max_length: 20, min_length: 0, min_new_tokens: null, num_beams: 1, num_return_sequences: 1,
  length_penalty: 1.0, early_stopping: false, no_repeat_ngram_size: 0, repetition_penalty: 1.0,
  forced_bos_token_id: null, forced_eos_token_id: null, max_new_tokens: null, do_sample: false,
  decoder_start_token_id: null, eos_token_id: null, pad_token_id: null };

function resolveParams(model, params) {
  const unknown = Object.keys(params).filter((k) => !(k in PARAM_DEFAULTS));
  if (unknown.length) throw new Error(`unsupported generate arguments ${unknown.join(', ')}`);
  const p = {};
  for (const [k, dflt] of Object.entries(PARAM_DEFAULTS)) {
    // An explicit null in the call means "none" (forced tokens); otherwise the first source
    // that sets the key wins.
    if (k in params) p[k] = params[k];
    else if (model.genConfig[k] != null) p[k] = model.genConfig[k];
    else if (model.config[k] != null) p[k] = model.config[k];
    else p[k] = dflt;
  }
  if (p.do_sample) throw new Error('sampling is not implemented in the ORT peer');
  if (p.max_new_tokens != null) p.max_length = p.max_new_tokens + 1;
  if (p.num_return_sequences > p.num_beams) throw new Error('num_return_sequences > num_beams');
  return p;
}

// ---------------------------------------------------------------------------
// logits processors (HF order), in place on one row of scores

function processRow(p, seq, len, row, vocab) {
  if (p.repetition_penalty !== 1.0) {
    const gathered = new Float32Array(len);
    for (let i = 0; i < len; i++) gathered[i] = row[seq[i]];
    for (let i = 0; i < len; i++) {
      const s = gathered[i];
      row[seq[i]] = s < 0 ? s * p.repetition_penalty : s / p.repetition_penalty;
    }
  }
  for (const tok of bannedNgramTokens(p, seq, len)) row[tok] = -Infinity;
  const eos = p.eos_token_id;
  if (eos != null && len < p.min_length) row[eos] = -Infinity;
  if (eos != null && p.min_new_tokens != null && len - 1 < p.min_new_tokens) row[eos] = -Infinity;
  const force = (tok) => { row.fill(-Infinity, 0, vocab); row[tok] = 0; };
  if (p.forced_bos_token_id != null && len === 1) force(p.forced_bos_token_id);
  if (p.forced_eos_token_id != null && len === p.max_length - 1) force(p.forced_eos_token_id);
}

// The tokens of one row whose scores the processors may change (not the forced tokens).
function processedTokens(p, seq, len) {
  const toks = new Set();
  if (p.repetition_penalty !== 1.0) for (let i = 0; i < len; i++) toks.add(seq[i]);
  for (const tok of bannedNgramTokens(p, seq, len)) toks.add(tok);
  if (p.eos_token_id != null && (len < p.min_length ||
      (p.min_new_tokens != null && len - 1 < p.min_new_tokens))) toks.add(p.eos_token_id);
  return [...toks];
}

// processRow on the few tokens it changes: lp maps each of processedTokens() to its
// log-probability; returns token -> processed score, in the order and with the float32
// rounding of the dense path.
function processSparse(p, seq, len, lp) {
  const out = new Map();
  if (p.repetition_penalty !== 1.0) {
    for (let i = 0; i < len; i++) {
      const s = lp.get(seq[i]);
      out.set(seq[i], Math.fround(s < 0 ? s * p.repetition_penalty : s / p.repetition_penalty));
    }
  }
  for (const tok of bannedNgramTokens(p, seq, len)) out.set(tok, -Infinity);
  const eos = p.eos_token_id;
  if (eos != null && (len < p.min_length || (p.min_new_tokens != null && len - 1 < p.min_new_tokens)))
    out.set(eos, -Infinity);
  return out;
}

function bannedNgramTokens(p, seq, len) {
  const n = p.no_repeat_ngram_size, banned = [];
  if (n > 0 && len + 1 >= n) {
    const suffix = len + 1 - n;
    for (let i = 0; i + n <= len; i++) {
      let j = 0;
      while (j + 1 < n && seq[i + j] === seq[suffix + j]) j++;
      if (j + 1 === n) banned.push(seq[i + n - 1]);
    }
  }
  return banned;
}

// log_softmax of one row, in place (float32 storage, as torch keeps it)
function logSoftmax(row, vocab) {
  let max = -Infinity;
  for (let j = 0; j < vocab; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  for (let j = 0; j < vocab; j++) sum += Math.exp(row[j] - max);
  const lse = Math.log(sum);
  for (let j = 0; j < vocab; j++) row[j] = (row[j] - max) - lse;
}

// ---------------------------------------------------------------------------
// the search

class Request {
  constructor(model, req) {
    this.model = model;
    const ids = req.input_ids;
    if (!Array.isArray(ids) || !ids.length || !Array.isArray(ids[0]) || !ids[0].length)
      throw new Error('input_ids: a non-empty array of non-empty rows');
    this.batch = ids.length;
    this.srcLen = ids[0].length;
    const pad = model.config.pad_token_id;
    const mask = req.attention_mask || ids.map((r) => r.map((x) => (x === pad ? 0 : 1)));
    this.ids = new BigInt64Array(this.batch * this.srcLen);
    this.mask = new BigInt64Array(this.batch * this.srcLen);
    for (let r = 0; r < this.batch; r++) {
      if (ids[r].length !== this.srcLen) throw new Error('input_ids: rows of unequal length');
      for (let c = 0; c < this.srcLen; c++) {
        this.ids[r * this.srcLen + c] = BigInt(ids[r][c]);
        this.mask[r * this.srcLen + c] = BigInt(mask[r][c]);
      }
    }
    this.p = resolveParams(model, req.params || {});
  }

  async run() {
    const m = this.model, p = this.p;
    const t0 = performance.now();
    const enc = await m.encode(this.ids, this.mask, this.batch, this.srcLen);
    const t1 = performance.now();
    this.timing = { encode_ms: t1 - t0, run_ms: 0, search_ms: 0, reorder_ms: 0, step_ms: [] };
    // Beam search decodes batch x beams rows: the encoder rows repeated per beam, as HF does.
    const beams = p.num_beams;
    const rows = this.batch * beams;
    let states = enc, mask = this.mask;
    if (beams > 1) {
      states = repeatRows(enc.data, this.batch, beams, [this.srcLen, m.dModel]);
      mask = repeatRows(this.mask, this.batch, beams, [this.srcLen]);
    } else {
      mask = new ort.Tensor('int64', mask, [rows, this.srcLen]);
    }
    this.encStates = states;
    this.encMask = mask;
    const out = beams > 1 ? await this.beamSearch(rows) : await this.greedy(rows);
    this.timing.decode_ms = performance.now() - t1;
    this.timing.rows = rows;
    return out;
  }

  // One decoder call for every row: the first, then with the cache.
  async step(tokens, rows) {
    const t0 = performance.now();
    let r;
    if (!this.cross) {
      r = await this.model.decodeFirst(tokens, rows, 1, this.encMask, this.encStates);
      this.cross = r.cross;
    } else {
      r = await this.model.decodeStep(tokens, rows, this.encMask, this.encStates, this.self,
                                      this.cross);
    }
    this.self = r.self;
    this.timing.run_ms += performance.now() - t0;
    return r.logits;
  }

  async greedy(rows) {
    const m = this.model, p = this.p, V = m.vocab;
    const maxLen = p.max_length;
    const seqs = new Int32Array(rows * maxLen);
    const unfinished = new Uint8Array(rows).fill(1);
    const tokens = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) {
      seqs[r * maxLen] = p.decoder_start_token_id;
      tokens[r] = BigInt(p.decoder_start_token_id);
    }
    let len = 1;
    const eos = p.eos_token_id, pad = p.pad_token_id;
    for (;;) {
      const ts = performance.now();
      const logits = await this.step(tokens, rows);
      const tq = performance.now();
      let live = 0;
      for (let r = 0; r < rows; r++) {
        const row = logits.subarray(r * V, (r + 1) * V);
        const seq = seqs.subarray(r * maxLen, r * maxLen + len);
        processRow(p, seq, len, row, V);
        let best = 0, bestScore = row[0];
        for (let j = 1; j < V; j++) if (row[j] > bestScore) { bestScore = row[j]; best = j; }
        if (eos != null && !unfinished[r]) best = pad;
        seqs[r * maxLen + len] = best;
        tokens[r] = BigInt(best);
        if (eos != null && best === eos) unfinished[r] = 0;
        live += unfinished[r];
      }
      len++;
      this.timing.search_ms += performance.now() - tq;
      this.timing.step_ms.push(performance.now() - ts);
      if (live === 0 || len >= maxLen) break;
    }
    this.timing.steps = len - 1;
    const out = [];
    for (let r = 0; r < rows; r++) out.push(Array.from(seqs.subarray(r * maxLen, r * maxLen + len)));
    return { sequences: out };
  }

  async beamSearch(rows) {
    const m = this.model, p = this.p, V = m.vocab;
    const beams = p.num_beams, batch = this.batch, maxLen = p.max_length;
    const eos = p.eos_token_id, pad = p.pad_token_id;
    const k2 = 2 * beams;
    let seqs = new Int32Array(rows * maxLen), next = new Int32Array(rows * maxLen);
    const tokens = new BigInt64Array(rows);
    const beamScores = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      seqs[r * maxLen] = p.decoder_start_token_id;
      tokens[r] = BigInt(p.decoder_start_token_id);
      beamScores[r] = r % beams === 0 ? 0 : -1e9;
    }
    const hyps = Array.from({ length: batch },
                            () => new Hypotheses(beams, p.length_penalty, p.early_stopping, maxLen));
    const done = new Uint8Array(batch);
    const topScores = new Float32Array(batch * k2), topIdxs = new Int32Array(batch * k2);
    const nbScores = new Float32Array(rows), nbTokens = new Int32Array(rows);
    const nbRows = new Int32Array(rows);
    let len = 1;
    for (;;) {
      const ts = performance.now();
      const logits = await this.step(tokens, rows);
      const tq = performance.now();
      await this.rankCandidates(logits, seqs, len, beamScores, topScores, topIdxs);
      const curLen = len + 1;
      for (let b = 0; b < batch; b++) {
        const topScore = topScores.subarray(b * k2, (b + 1) * k2);
        const topIdx = topIdxs.subarray(b * k2, (b + 1) * k2);
        nbScores.fill(0, b * beams, (b + 1) * beams);
        nbTokens.fill(pad, b * beams, (b + 1) * beams);
        nbRows.fill(0, b * beams, (b + 1) * beams);
        if (done[b]) continue;
        let k = 0;
        for (let rank = 0; rank < k2; rank++) {
          const tok = topIdx[rank] % V;
          const src = b * beams + Math.floor(topIdx[rank] / V);
          if (eos != null && tok === eos) {
            if (rank < beams) hyps[b].add(seqs.slice(src * maxLen, src * maxLen + len), topScore[rank], curLen - 1);
          } else {
            nbScores[b * beams + k] = topScore[rank];
            nbTokens[b * beams + k] = tok;
            nbRows[b * beams + k] = src;
            k++;
          }
          if (k === beams) break;
        }
        done[b] = done[b] || hyps[b].isDone(topScore[0], curLen, 1);
      }
      for (let r = 0; r < rows; r++) {
        next.set(seqs.subarray(nbRows[r] * maxLen, nbRows[r] * maxLen + len), r * maxLen);
        next[r * maxLen + len] = nbTokens[r];
        tokens[r] = BigInt(nbTokens[r]);
        beamScores[r] = nbScores[r];
      }
      [seqs, next] = [next, seqs];
      len++;
      const tr = performance.now();
      this.timing.search_ms += tr - tq;
      const finished = done.every((x) => x) || len >= maxLen;
      if (!finished) this.reorder(nbRows, rows);
      this.timing.reorder_ms += performance.now() - tr;
      this.timing.step_ms.push(performance.now() - ts);
      if (finished) break;
    }
    this.timing.steps = len - 1;
    return this.finalize(hyps, done, seqs, beamScores, len);
  }

  // Per input row, the best 2 * beams of (processed log_softmax + beam score) over its beams x
  // vocab, as flat indices beam * vocab + token, best first; equal scores: lower index first.
  async rankCandidates(logits, seqs, len, beamScores, topScores, topIdxs) {
    const m = this.model, p = this.p, V = m.vocab, beams = p.num_beams, maxLen = p.max_length;
    const rows = this.batch * beams, k2 = 2 * beams;
    const forced = (p.forced_bos_token_id != null && len === 1) ||
                   (p.forced_eos_token_id != null && len === maxLen - 1);
    if (m.beamScores === 'topk' && !forced) {
      await this.rankWithOrtTopK(logits, seqs, len, beamScores, topScores, topIdxs);
      return;
    }
    // Dense: every score in JS (a forced token overwrites the whole row, log_softmax or not).
    let scores = logits;
    if (!forced && m.beamScores === 'ort') {
      const out = await m.logSoftmaxSession.run(
        { logits: new ort.Tensor('float32', logits, [rows, 1, V]) });
      scores = out.log_probs.data;
    } else if (!forced) {
      for (let r = 0; r < rows; r++) logSoftmax(logits.subarray(r * V, (r + 1) * V), V);
    }
    for (let r = 0; r < rows; r++)
      processRow(p, seqs.subarray(r * maxLen, r * maxLen + len), len,
                 scores.subarray(r * V, (r + 1) * V), V);
    for (let b = 0; b < this.batch; b++)
      topK(scores, beamScores, b * beams, beams, V, topScores.subarray(b * k2, (b + 1) * k2),
           topIdxs.subarray(b * k2, (b + 1) * k2));
  }

  // log_softmax, beam scores and top-k in ORT (beam_topk.onnx). The processors only lower
  // scores (a ban, or a repetition penalty on a log-probability <= 0), so with L scores of an
  // input row lowered, its best 2 * beams are among the top 2 * beams + L before processing and
  // the lowered entries themselves: ORT returns that many, JS re-scores the lowered ones.
  async rankWithOrtTopK(logits, seqs, len, beamScores, topScores, topIdxs) {
    const m = this.model, p = this.p, V = m.vocab, beams = p.num_beams, maxLen = p.max_length;
    const batch = this.batch, rows = batch * beams, k2 = 2 * beams;
    const keys = [];
    let widest = 1, extra = 0;
    for (let b = 0; b < batch; b++) {
      let lowered = 0;
      for (let j = 0; j < beams; j++) {
        const r = b * beams + j;
        keys[r] = processedTokens(p, seqs.subarray(r * maxLen, r * maxLen + len), len);
        lowered += keys[r].length;
        widest = Math.max(widest, keys[r].length);
      }
      extra = Math.max(extra, lowered);
    }
    const k = Math.min(k2 + extra, beams * V);
    const gatherIdx = new BigInt64Array(rows * widest);
    for (let r = 0; r < rows; r++)
      keys[r].forEach((tok, i) => { gatherIdx[r * widest + i] = BigInt(tok); });
    const out = await m.topkSession.run({
      logits: new ort.Tensor('float32', logits, [rows, 1, V]),
      beam_scores: new ort.Tensor('float32', beamScores, [rows, 1, 1]),
      shape: new ort.Tensor('int64', BigInt64Array.from([BigInt(batch), BigInt(beams * V)]), [2]),
      k: new ort.Tensor('int64', BigInt64Array.from([BigInt(k)]), [1]),
      gather_idx: new ort.Tensor('int64', gatherIdx, [rows, widest]) });
    const values = out.values.data, indices = out.indices.data, gathered = out.gathered.data;
    for (let b = 0; b < batch; b++) {
      const lowered = new Map();
      for (let j = 0; j < beams; j++) {
        const r = b * beams + j;
        const lp = new Map(keys[r].map((tok, i) => [tok, gathered[r * widest + i]]));
        const seq = seqs.subarray(r * maxLen, r * maxLen + len);
        for (const [tok, v] of processSparse(p, seq, len, lp))
          lowered.set(j * V + tok, Math.fround(v + beamScores[r]));
      }
      const cand = [];
      for (let i = 0; i < k; i++) {
        const idx = Number(indices[b * k + i]);
        if (!lowered.has(idx)) cand.push([values[b * k + i], idx]);
      }
      for (const [idx, score] of lowered) cand.push([score, idx]);
      cand.sort((x, y) => (y[0] - x[0]) || (x[1] - y[1]) || 0);
      for (let i = 0; i < k2; i++) {
        topScores[b * k2 + i] = cand[i][0];
        topIdxs[b * k2 + i] = cand[i][1];
      }
    }
  }

  // The self-attention cache follows its beams: row r of the next step continues row src[r].
  reorder(src, rows) {
    let identity = true;
    for (let r = 0; r < rows; r++) if (src[r] !== r) { identity = false; break; }
    if (identity) return;
    // One buffer per cache tensor, kept by the model across requests. Overwriting it is safe: it
    // was last step's input, already read, and the rows come from the binding's fresh outputs.
    const bufs = this.model.kvBufs;
    this.self = this.self.map((t, i) => {
      const data = t.data, block = data.length / rows;
      if (!bufs[i] || bufs[i].length < data.length) bufs[i] = new Float32Array(data.length * 2);
      const dst = bufs[i].subarray(0, data.length);
      for (let r = 0; r < rows; r++)
        dst.set(data.subarray(src[r] * block, (src[r] + 1) * block), r * block);
      return new ort.Tensor('float32', dst, t.dims);
    });
  }

  finalize(hyps, done, seqs, beamScores, len) {
    const p = this.p, beams = p.num_beams, maxLen = p.max_length;
    for (let b = 0; b < this.batch; b++) {
      if (done[b]) continue;
      for (let j = 0; j < beams; j++) {
        const r = b * beams + j;
        hyps[b].add(seqs.slice(r * maxLen, r * maxLen + len), beamScores[r], len - 1);
      }
    }
    const best = [], scores = [];
    for (const h of hyps) {
      const ranked = h.sorted();
      for (let i = 0; i < p.num_return_sequences; i++) {
        const [score, hyp] = ranked.pop();
        best.push(hyp);
        scores.push(score);
      }
    }
    const width = Math.min(Math.max(...best.map((h) => h.length)) + 1, maxLen);
    const sequences = best.map((h) => {
      const row = new Array(width).fill(p.pad_token_id);
      for (let i = 0; i < h.length; i++) row[i] = h[i];
      if (h.length < width) row[h.length] = p.eos_token_id;
      return row;
    });
    return { sequences, sequences_scores: scores };
  }
}

// The k = topScore.length best of rows [first, first + beams) of scores + each row's beam score,
// as flat indices beam * vocab + token; among equal scores the lower index first (libprism's order).
function topK(scores, beamScores, first, beams, V, topScore, topIdx) {
  const k = topScore.length;
  topScore.fill(-Infinity);
  topIdx.fill(-1);
  let worst = -Infinity, filled = 0;
  for (let bm = 0; bm < beams; bm++) {
    const bs = beamScores[first + bm];
    const base = (first + bm) * V;
    for (let j = 0; j < V; j++) {
      const s = Math.fround(scores[base + j] + bs);
      if (filled === k && !(s > worst)) continue;
      // insert after every kept score >= s
      let pos = filled < k ? filled : k - 1;
      while (pos > 0 && topScore[pos - 1] < s) {
        topScore[pos] = topScore[pos - 1];
        topIdx[pos] = topIdx[pos - 1];
        pos--;
      }
      topScore[pos] = s;
      topIdx[pos] = bm * V + j;
      if (filled < k) filled++;
      worst = topScore[k - 1];
    }
  }
}

// HF BeamHypotheses: the n best finished sequences of one input row.
class Hypotheses {
  constructor(n, lengthPenalty, earlyStopping, maxLength) {
    Object.assign(this, { n, lp: lengthPenalty, early: earlyStopping, maxLength });
    this.beams = [];
    this.worst = 1e9;
  }

  add(hyp, sumLogprobs, generatedLen) {
    const score = sumLogprobs / generatedLen ** this.lp;
    if (this.beams.length < this.n || score > this.worst) {
      this.beams.push([score, hyp]);
      if (this.beams.length > this.n) {
        const ranked = this.beams.map(([s], i) => [s, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(ranked[0][1], 1);
        this.worst = ranked[1][0];
      } else {
        this.worst = Math.min(score, this.worst);
      }
    }
  }

  isDone(bestSumLogprobs, curLen, promptLen) {
    if (this.beams.length < this.n) return false;
    if (this.early === true) return true;
    let best;
    if (this.early === false || this.lp <= 0) best = bestSumLogprobs / (curLen - promptLen) ** this.lp;
    else best = bestSumLogprobs / Math.max(this.maxLength - promptLen, 1) ** this.lp;
    return this.worst >= best;
  }

  // ascending by score, ties in insertion order (Python's stable sort)
  sorted() {
    return this.beams.map((x, i) => [x, i]).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1])
      .map(([x]) => x);
  }
}

// [batch, ...inner] -> [batch * beams, ...inner], each row repeated beams times
function repeatRows(data, batch, beams, inner) {
  const block = inner.reduce((a, b) => a * b, 1);
  const out = new data.constructor(batch * beams * block);
  for (let b = 0; b < batch; b++)
    for (let j = 0; j < beams; j++)
      out.set(data.subarray(b * block, (b + 1) * block), (b * beams + j) * block);
  const type = data instanceof BigInt64Array ? 'int64' : 'float32';
  return new ort.Tensor(type, out, [batch * beams, ...inner]);
}

// ---------------------------------------------------------------------------
// commands

async function serve(o) {
  const t0 = performance.now();
  const model = await Model.load(o);
  process.stdout.write(JSON.stringify({ ready: true, load_ms: performance.now() - t0,
                                        ort_version: ort.env.versions.node }) + '\n');
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let reply;
    try {
      const req = new Request(model, JSON.parse(line));
      const out = await req.run();
      reply = { ...out, timing: req.timing };
    } catch (e) {
      reply = { error: { message: String(e && e.message ? e.message : e) } };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

function b64floats(obj) {
  const buf = Buffer.from(obj.b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

// Compares the ONNX graphs on ORT with torch_bart's outputs (reference.json of export_onnx.py).
async function verify(o) {
  const ref = JSON.parse(fs.readFileSync(o.reference, 'utf8'));
  const results = [];
  for (const decoder of ['split', 'merged']) {
    const model = await Model.load({ ...o, decoder, prealloc: 'off' });
    for (const [ci, c] of ref.cases.entries()) {
      const rows = c.input_ids.length, src = c.input_ids[0].length;
      const tgt = c.decoder_input_ids[0].length, V = model.vocab;
      const ids = BigInt64Array.from(c.input_ids.flat().map(BigInt));
      const mask = BigInt64Array.from(c.attention_mask.flat().map(BigInt));
      const enc = await model.encode(ids, mask, rows, src);
      const maskT = new ort.Tensor('int64', mask, [rows, src]);
      const name = `${decoder}/case${ci}`;
      results.push([`${name}/encoder_last_hidden_state`,
                    maxAbsDiff(enc.data, b64floats(c.encoder_last_hidden_state))]);
      const dec = BigInt64Array.from(c.decoder_input_ids.flat().map(BigInt));
      const full = await model.decodeFirst(dec, rows, tgt, maskT, enc);
      results.push([`${name}/logits_teacher_forced`, maxAbsDiff(full.logits, b64floats(c.logits))]);
      // one token at a time through the cache
      const inc = new Float32Array(rows * tgt * V);
      let self = null, cross = null;
      for (let t = 0; t < tgt; t++) {
        const tok = new BigInt64Array(rows);
        for (let r = 0; r < rows; r++) tok[r] = BigInt(c.decoder_input_ids[r][t]);
        const r = t === 0 ? await model.decodeFirst(tok, rows, 1, maskT, enc)
          : await model.decodeStep(tok, rows, maskT, enc, self, cross);
        self = r.self;
        if (t === 0) cross = r.cross;
        for (let row = 0; row < rows; row++)
          inc.set(r.logits.subarray(row * V, (row + 1) * V), (row * tgt + t) * V);
      }
      results.push([`${name}/logits_kv_cache`, maxAbsDiff(inc, b64floats(c.logits_incremental))]);
    }
  }
  let passed = 0;
  for (const [name, d] of results) {
    const ok = d <= o.tolerance;
    passed += ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: max|diff| ${d.toExponential(2)}`);
  }
  console.log(`${passed}/${results.length} checks passed (onnxruntime-node ${ort.env.versions.node}, ` +
              `tolerance ${o.tolerance})`);
  return passed === results.length;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  if (o.cmd === 'serve') await serve(o);
  else process.exit((await verify(o)) ? 0 : 1);
}

main().catch((e) => { console.error(`ort_bart: ${e.stack || e}`); process.exit(1); });
