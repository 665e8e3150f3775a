#!/usr/bin/python3
"""PyTorch eager BART with HuggingFace BartForConditionalGeneration semantics.

The benchmark peer for libprism and a reference for training paths. It needs
only torch and numpy (Debian's python3-torch), not transformers: checkpoints are
HF folders (config.json, generation_config.json, model.safetensors) read and
written here with numpy + json. Parameter names match HF's state_dict, so
`model.named_parameters()` and `save_pretrained()` round-trip HF checkpoints.

    /usr/bin/python3 tests/bench/torch_bart.py --check [FIXTURES_DIR]

verifies the implementation against the HuggingFace fixtures (encoder states,
teacher-forced logits, every generate case, the training loss and gradients).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Importable from anywhere: the numpy safetensors helpers live next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402

TIED_ALIASES = ("model.shared.weight", "model.encoder.embed_tokens.weight",
                "model.decoder.embed_tokens.weight", "lm_head.weight")

# ---------------------------------------------------------------------------
# model


def _activation(name):
    acts = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu, "swish": F.silu,
            "gelu_new": lambda x: F.gelu(x, approximate="tanh")}
    if name not in acts:
        raise ValueError(f"unsupported activation_function {name!r}")
    return acts[name]


def _rate(cfg, key):
    """A dropout probability of config.json (BartConfig's defaults when absent)."""
    return float(cfg.get(key, {"dropout": 0.1}.get(key, 0.0)))


class Attention(nn.Module):
    def __init__(self, d, heads, dropout=0.0):
        super().__init__()
        self.heads, self.head_dim, self.dropout = heads, d // heads, dropout
        self.scaling = self.head_dim ** -0.5
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def _split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def project_kv(self, x):
        return self._split(self.k_proj(x)), self._split(self.v_proj(x))

    def forward(self, x, kv, mask):
        """x [B,T,d]; kv = (k, v) [B,H,S,hd]; mask additive [B,1,T,S] or None."""
        q = self._split(self.q_proj(x) * self.scaling)
        w = torch.matmul(q, kv[0].transpose(-1, -2))
        if mask is not None:
            w = w + mask
        p = F.dropout(torch.softmax(w, dim=-1), p=self.dropout, training=self.training)
        ctx = torch.matmul(p, kv[1])
        b, _, t, _ = ctx.shape
        return self.out_proj(ctx.transpose(1, 2).reshape(b, t, -1))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.self_attn = Attention(d, cfg["encoder_attention_heads"], _rate(cfg, "attention_dropout"))
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg["encoder_ffn_dim"])
        self.fc2 = nn.Linear(cfg["encoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.act = _activation(cfg["activation_function"])
        self.dropout, self.act_dropout = _rate(cfg, "dropout"), _rate(cfg, "activation_dropout")

    def _drop(self, x, p):
        return F.dropout(x, p=p, training=self.training)

    def ffn(self, x):
        return self._drop(self.fc2(self._drop(self.act(self.fc1(x)), self.act_dropout)),
                          self.dropout)

    def forward(self, x, mask):
        attn = self.self_attn(x, self.self_attn.project_kv(x), mask)
        x = self.self_attn_layer_norm(x + self._drop(attn, self.dropout))
        return self.final_layer_norm(x + self.ffn(x))


class DecoderLayer(EncoderLayer):
    def __init__(self, cfg):
        nn.Module.__init__(self)
        d, heads = cfg["d_model"], cfg["decoder_attention_heads"]
        self.self_attn = Attention(d, heads, _rate(cfg, "attention_dropout"))
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = Attention(d, heads, _rate(cfg, "attention_dropout"))
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg["decoder_ffn_dim"])
        self.fc2 = nn.Linear(cfg["decoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.act = _activation(cfg["activation_function"])
        self.dropout, self.act_dropout = _rate(cfg, "dropout"), _rate(cfg, "activation_dropout")

    def forward(self, x, self_kv, self_mask, cross_kv, cross_mask):
        """self_kv: this layer's cache (k, v) or None; returns (x, new cache)."""
        k, v = self.self_attn.project_kv(x)
        if self_kv is not None:
            k, v = torch.cat([self_kv[0], k], dim=2), torch.cat([self_kv[1], v], dim=2)
        x = self.self_attn_layer_norm(x + self._drop(self.self_attn(x, (k, v), self_mask),
                                                     self.dropout))
        x = self.encoder_attn_layer_norm(x + self._drop(self.encoder_attn(x, cross_kv, cross_mask),
                                                        self.dropout))
        x = self.final_layer_norm(x + self.ffn(x))
        return x, (k, v)


class Stack(nn.Module):
    """Embeddings + layers, shared by the encoder and the decoder (HF's names)."""

    def __init__(self, cfg, shared, layer_cls, n_layers):
        super().__init__()
        d = cfg["d_model"]
        self.embed_tokens = shared
        self.embed_positions = nn.Embedding(cfg["max_position_embeddings"] + 2, d)
        self.layernorm_embedding = nn.LayerNorm(d)
        self.layers = nn.ModuleList(layer_cls(cfg) for _ in range(n_layers))
        self.embed_scale = math.sqrt(d) if cfg.get("scale_embedding", False) else 1.0
        self.dropout = _rate(cfg, "dropout")

    def embed(self, ids, past_len=0):
        pos = torch.arange(past_len + 2, past_len + 2 + ids.shape[1], device=ids.device)
        x = self.embed_tokens(ids) * self.embed_scale + self.embed_positions(pos)
        return F.dropout(self.layernorm_embedding(x), p=self.dropout, training=self.training)


def _padding_mask(attention_mask, dtype):
    """[B,S] 0/1 -> additive [B,1,1,S] with HF's finfo.min for masked keys."""
    m = (attention_mask[:, None, None, :] == 0)
    return torch.zeros(m.shape, dtype=dtype).masked_fill(m, torch.finfo(dtype).min)


def _causal_mask(t, dtype):
    m = torch.ones(t, t, dtype=torch.bool).triu(1)
    return torch.zeros(t, t, dtype=dtype).masked_fill(m, torch.finfo(dtype).min)[None, None]


class Bart(nn.Module):
    """BartForConditionalGeneration: state_dict names are HF's."""

    def __init__(self, cfg, gen_cfg=None):
        super().__init__()
        self.config = dict(cfg)
        self.generation_config = dict(gen_cfg or {})
        self.model = nn.Module()
        self.model.shared = nn.Embedding(cfg["vocab_size"], cfg["d_model"],
                                         padding_idx=cfg.get("pad_token_id"))
        self.model.encoder = Stack(cfg, self.model.shared, EncoderLayer, cfg["encoder_layers"])
        self.model.decoder = Stack(cfg, self.model.shared, DecoderLayer, cfg["decoder_layers"])
        self.register_buffer("final_logits_bias", torch.zeros(1, cfg["vocab_size"]))

    # -- loading and saving --------------------------------------------------

    @classmethod
    def from_pretrained(cls, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        gen_cfg = {}
        gpath = os.path.join(folder, "generation_config.json")
        if os.path.exists(gpath):
            with open(gpath) as f:
                gen_cfg = json.load(f)
        tensors, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
        model = cls(cfg, gen_cfg)
        model.load_hf_tensors(tensors, folder)
        return model.eval()

    def load_hf_tensors(self, tensors, where="checkpoint"):
        tensors = {k[len("model."):] if k.startswith("model.model.") else k: v
                   for k, v in tensors.items()}
        shared = None
        for alias in TIED_ALIASES:
            for name in (alias, alias[len("model."):] if alias.startswith("model.") else None):
                if name in tensors and shared is None:
                    shared = tensors[name]
        if shared is None:
            raise ValueError(f"{where}: no embedding among {TIED_ALIASES}")
        state = {"model.shared.weight": shared}
        if "final_logits_bias" in tensors:
            state["final_logits_bias"] = tensors["final_logits_bias"]
        for name, _ in self.named_parameters():
            if name == "model.shared.weight":
                continue
            alt = name[len("model."):]
            src = tensors.get(name, tensors.get(alt))
            if src is None:
                raise ValueError(f"{where}: missing tensor {name}")
            state[name] = src
        with torch.no_grad():
            own = dict(self.named_parameters())
            own["final_logits_bias"] = self.final_logits_bias
            for name, arr in state.items():
                if tuple(own[name].shape) != tuple(arr.shape):
                    raise ValueError(f"{where}: tensor {name}: shape {list(arr.shape)}, "
                                     f"expected {list(own[name].shape)}")
                own[name].copy_(torch.from_numpy(np.asarray(arr, dtype=np.float32)))

    def hf_tensors(self):
        """{HF name: ndarray}, tied embeddings stored once as model.shared.weight."""
        out = {n: p.detach().cpu().numpy() for n, p in self.named_parameters()}
        out["final_logits_bias"] = self.final_logits_bias.cpu().numpy()
        return out

    def save_pretrained(self, folder, dtype="F32"):
        os.makedirs(folder, exist_ok=True)
        cfg = dict(self.config)
        cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
        gen = {k: cfg[k] for k in ("bos_token_id", "decoder_start_token_id", "eos_token_id",
                                   "forced_bos_token_id", "forced_eos_token_id", "pad_token_id")
               if cfg.get(k) is not None}
        gen.update(self.generation_config)
        gen.setdefault("_from_model_config", True)
        for name, obj in (("config.json", cfg), ("generation_config.json", gen)):
            with open(os.path.join(folder, name), "w") as f:
                json.dump(obj, f, indent=2, sort_keys=True)
                f.write("\n")
        write_safetensors(os.path.join(folder, "model.safetensors"), self.hf_tensors(), dtype)

    # -- forward -------------------------------------------------------------

    def encode(self, input_ids, attention_mask=None):
        """Returns (encoder_last_hidden_state [B,S,d], additive padding mask)."""
        if attention_mask is None:
            attention_mask = (input_ids != self.config["pad_token_id"]).long()
        enc = self.model.encoder
        mask = _padding_mask(attention_mask, enc.embed_positions.weight.dtype)
        x = enc.embed(input_ids)
        for layer in enc.layers:
            x = layer(x, mask)
        return x, mask

    def cross_kv(self, enc_out):
        return [layer.encoder_attn.project_kv(enc_out) for layer in self.model.decoder.layers]

    def decode(self, ids, cross_kv, cross_mask, cache=None):
        """Decoder over ids [B,T] after the cached positions; returns (logits, new cache)."""
        dec = self.model.decoder
        past = 0 if cache is None else cache[0][0].shape[2]
        x = dec.embed(ids, past)
        t = ids.shape[1]
        self_mask = None
        if t > 1:
            self_mask = torch.cat([torch.zeros(1, 1, t, past), _causal_mask(t, x.dtype)], dim=-1)
        new_cache = []
        for i, layer in enumerate(dec.layers):
            x, kv = layer(x, None if cache is None else cache[i], self_mask, cross_kv[i], cross_mask)
            new_cache.append(kv)
        logits = F.linear(x, self.model.shared.weight) + self.final_logits_bias
        return logits, new_cache

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        """Teacher-forced logits [B,T,vocab]."""
        enc, mask = self.encode(input_ids, attention_mask)
        return self.decode(decoder_input_ids, self.cross_kv(enc), mask)[0]

    def shift_labels(self, labels):
        """HF shift_tokens_right: decoder input = labels shifted behind the start token."""
        dec = torch.full_like(labels, self.config["decoder_start_token_id"])
        dec[:, 1:] = labels[:, :-1]
        return dec.masked_fill(dec == -100, self.config["pad_token_id"])

    def training_step(self, input_ids, attention_mask, labels):
        """Training-mode forward (dropout as config.json says, in train() mode): (logits, mean
        cross-entropy over labels != -100)."""
        logits = self.forward(input_ids, attention_mask, self.shift_labels(labels))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                               ignore_index=-100)
        return logits, loss

    # -- generation ----------------------------------------------------------

    def generation_params(self, **params):
        """HF resolution order: call arguments, generation_config.json, config.json, HF defaults."""
        keys = {"max_length": 20, "min_length": 0, "num_beams": 1, "num_return_sequences": 1,
                "length_penalty": 1.0, "early_stopping": False, "no_repeat_ngram_size": 0,
                "repetition_penalty": 1.0, "forced_bos_token_id": None,
                "forced_eos_token_id": None, "max_new_tokens": None, "do_sample": False,
                "decoder_start_token_id": None, "eos_token_id": None, "pad_token_id": None}
        p = {}
        for k, default in keys.items():
            for src in (params, self.generation_config, self.config):
                if src.get(k) is not None:
                    p[k] = src[k]
                    break
            else:
                p[k] = default
        unknown = set(params) - set(keys)
        if unknown:
            raise ValueError(f"unsupported generate arguments {sorted(unknown)}")
        if p["do_sample"]:
            raise NotImplementedError("sampling is not implemented in the peer")
        if p["max_new_tokens"] is not None:
            p["max_length"] = p["max_new_tokens"] + 1
        return p

    def process_logits(self, ids, scores, p):
        """HF's logits processors in HF's order, in place on scores [N, vocab]."""
        cur_len = ids.shape[1]
        if p["repetition_penalty"] != 1.0:
            s = torch.gather(scores, 1, ids)
            s = torch.where(s < 0, s * p["repetition_penalty"], s / p["repetition_penalty"])
            scores.scatter_(1, ids, s)
        n = p["no_repeat_ngram_size"]
        if n > 0 and cur_len + 1 >= n:
            for row, banned in enumerate(_banned_ngram_tokens(ids.tolist(), n)):
                if banned:
                    scores[row, list(banned)] = -float("inf")
        if cur_len < p["min_length"] and p["eos_token_id"] is not None:
            scores[:, p["eos_token_id"]] = -float("inf")
        for key, at in (("forced_bos_token_id", 1), ("forced_eos_token_id", p["max_length"] - 1)):
            if p[key] is not None and cur_len == at:
                scores[:, :] = -float("inf")
                scores[:, p[key]] = 0
        return scores

    @torch.no_grad()
    def generate(self, input_ids, attention_mask=None, **params):
        """Returns (sequences [B*R, T] LongTensor, sequences_scores or None)."""
        p = self.generation_params(**params)
        enc, mask = self.encode(input_ids, attention_mask)
        beams = p["num_beams"]
        if beams > 1:
            enc, mask = enc.repeat_interleave(beams, 0), mask.repeat_interleave(beams, 0)
        cross = self.cross_kv(enc)
        start = torch.full((enc.shape[0], 1), p["decoder_start_token_id"], dtype=torch.long)
        if beams > 1:
            return _beam_search(self, start, cross, mask, p)
        return _greedy(self, start, cross, mask, p), None


def _banned_ngram_tokens(rows, n):
    """Per row, the tokens that would repeat an n-gram of that row (HF NoRepeatNGram)."""
    out = []
    for seq in rows:
        prefix = tuple(seq[len(seq) - n + 1:])
        banned = set()
        for i in range(len(seq) - n + 1):
            if tuple(seq[i:i + n - 1]) == prefix:
                banned.add(seq[i + n - 1])
        out.append(banned)
    return out


def _greedy(model, ids, cross, mask, p):
    eos, pad = p["eos_token_id"], p["pad_token_id"]
    unfinished = torch.ones(ids.shape[0], dtype=torch.long)
    cache, step_ids = None, ids
    while True:
        logits, cache = model.decode(step_ids, cross, mask, cache)
        scores = model.process_logits(ids, logits[:, -1, :].clone(), p)
        nxt = torch.argmax(scores, dim=-1)
        if eos is not None:
            nxt = nxt * unfinished + pad * (1 - unfinished)
        ids = torch.cat([ids, nxt[:, None]], dim=1)
        step_ids = nxt[:, None]
        if eos is not None:
            unfinished = unfinished * (nxt != eos).long()
        if unfinished.max() == 0 or ids.shape[1] >= p["max_length"]:
            return ids


class _Hypotheses:
    """HF BeamHypotheses: the n best finished sequences of one input row."""

    def __init__(self, n, length_penalty, early_stopping, max_length):
        self.n, self.lp, self.early, self.max_length = n, length_penalty, early_stopping, max_length
        self.beams, self.worst = [], 1e9

    def add(self, hyp, sum_logprobs, generated_len):
        score = sum_logprobs / (generated_len ** self.lp)
        if len(self.beams) < self.n or score > self.worst:
            self.beams.append((score, hyp))
            if len(self.beams) > self.n:
                ranked = sorted((s, i) for i, (s, _) in enumerate(self.beams))
                del self.beams[ranked[0][1]]
                self.worst = ranked[1][0]
            else:
                self.worst = min(score, self.worst)

    def is_done(self, best_sum_logprobs, cur_len, prompt_len):
        if len(self.beams) < self.n:
            return False
        if self.early is True:
            return True
        if self.early is False or self.lp <= 0.0:
            best = best_sum_logprobs / (cur_len - prompt_len) ** self.lp
        else:
            best = best_sum_logprobs / max(self.max_length - prompt_len, 1) ** self.lp
        return self.worst >= best


def _beam_step(hyps, done, ids, scores, tokens, indices, beams, eos, pad, prompt_len):
    """HF BeamSearchScorer.process: next beam scores, tokens and source rows."""
    batch = len(hyps)
    nb_scores = torch.zeros(batch, beams)
    nb_tokens = torch.full((batch, beams), pad, dtype=torch.long)
    nb_rows = torch.zeros(batch, beams, dtype=torch.long)
    cur_len = ids.shape[1] + 1
    for b in range(batch):
        if done[b]:
            continue
        k = 0
        for rank in range(scores.shape[1]):
            tok, score = tokens[b, rank].item(), scores[b, rank]
            row = b * beams + indices[b, rank].item()
            if eos is not None and tok == eos:
                if rank < beams:
                    hyps[b].add(ids[row].clone(), score.item(), cur_len - prompt_len)
            else:
                nb_scores[b, k], nb_tokens[b, k], nb_rows[b, k] = score, tok, row
                k += 1
            if k == beams:
                break
        done[b] = done[b] or hyps[b].is_done(scores[b].max().item(), cur_len, prompt_len)
    return nb_scores.view(-1), nb_tokens.view(-1), nb_rows.view(-1)


def _beam_finalize(hyps, done, ids, beam_scores, beams, keep, eos, pad, max_length, prompt_len):
    for b, h in enumerate(hyps):
        if not done[b]:
            for j in range(beams):
                row = b * beams + j
                h.add(ids[row].clone(), beam_scores[row].item(), ids.shape[1] - prompt_len)
    best, best_scores = [], []
    for h in hyps:
        ranked = sorted(h.beams, key=lambda x: x[0])
        for _ in range(keep):
            score, hyp = ranked.pop()
            best.append(hyp)
            best_scores.append(score)
    lengths = [len(h) for h in best]
    width = min(max(lengths) + 1, max_length)
    out = torch.full((len(best), width), pad, dtype=torch.long)
    for i, hyp in enumerate(best):
        out[i, :lengths[i]] = hyp
        if lengths[i] < width:
            out[i, lengths[i]] = eos
    return out, torch.tensor(best_scores)


def _beam_search(model, ids, cross, mask, p):
    beams, eos, pad = p["num_beams"], p["eos_token_id"], p["pad_token_id"]
    batch = ids.shape[0] // beams
    prompt_len = ids.shape[1]
    hyps = [_Hypotheses(beams, p["length_penalty"], p["early_stopping"], p["max_length"])
            for _ in range(batch)]
    done = [False] * batch
    beam_scores = torch.zeros(batch, beams)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view(-1)
    cache, step_ids = None, ids
    while True:
        logits, cache = model.decode(step_ids, cross, mask, cache)
        scores = torch.log_softmax(logits[:, -1, :], dim=-1)
        scores = model.process_logits(ids, scores, p) + beam_scores[:, None]
        vocab = scores.shape[-1]
        top, flat = torch.topk(scores.view(batch, beams * vocab), 2 * beams, dim=1)
        beam_scores, tokens, rows = _beam_step(hyps, done, ids, top, flat % vocab,
                                               torch.div(flat, vocab, rounding_mode="floor"),
                                               beams, eos, pad, prompt_len)
        ids = torch.cat([ids[rows], tokens[:, None]], dim=1)
        cache = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]
        step_ids = tokens[:, None]
        if all(done) or ids.shape[1] >= p["max_length"]:
            break
    return _beam_finalize(hyps, done, ids, beam_scores, beams, p["num_return_sequences"],
                          eos, pad, p["max_length"], prompt_len)

# ---------------------------------------------------------------------------
# --check: verify against the HuggingFace fixtures


def _max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def check_model_dir(folder, tol=1e-4):
    """Returns a list of (name, ok, detail) for one fixture model folder."""
    model = Bart.from_pretrained(folder)
    with open(os.path.join(folder, "expected.json")) as f:
        exp = json.load(f)
    ids, am = torch.tensor(exp["input_ids"]), torch.tensor(exp["attention_mask"])
    results = []
    with torch.no_grad():
        enc, _ = model.encode(ids, am)
        want = np.array(exp["encoder_last_hidden_state"]["data"]).reshape(
            exp["encoder_last_hidden_state"]["shape"])
        d = _max_abs(enc.numpy(), want)
        results.append(("encoder_last_hidden_state", d <= tol, f"max|diff| {d:.2e}"))
        dec_ids = torch.tensor(exp["decoder_input_ids"])
        logits = model(ids, am, dec_ids).numpy()
        want = np.array(exp["logits"]["data"]).reshape(exp["logits"]["shape"])
        d = _max_abs(logits, want)
        results.append(("logits", d <= tol, f"max|diff| {d:.2e}"))
        d = _max_abs(_incremental_logits(model, ids, am, dec_ids), logits)
        results.append(("logits_kv_cache", d <= tol, f"max|diff| vs full {d:.2e}"))
    for case in exp["generate"]:
        seqs, scores = model.generate(ids, am, **case["params"])
        ok = seqs.tolist() == case["sequences"]
        detail = "sequences identical" if ok else f"got {seqs.tolist()}"
        if "sequences_scores" in case:
            d = _max_abs(scores.numpy(), case["sequences_scores"])
            ok = ok and d <= tol
            detail += f", scores max|diff| {d:.2e}"
        results.append((f"generate/{case['name']}", ok, detail))
    return results


def _incremental_logits(model, ids, am, dec_ids):
    """Teacher-forced logits one token at a time through the KV cache."""
    enc, mask = model.encode(ids, am)
    cross, cache, out = model.cross_kv(enc), None, []
    for t in range(dec_ids.shape[1]):
        logits, cache = model.decode(dec_ids[:, t:t + 1], cross, mask, cache)
        out.append(logits)
    return torch.cat(out, dim=1).numpy()


def check_training(folder, tol=1e-4):
    model = Bart.from_pretrained(folder)
    model.train()
    with open(os.path.join(folder, "train_step.json")) as f:
        step = json.load(f)
    _, loss = model.training_step(torch.tensor(step["input_ids"]),
                                  torch.tensor(step["attention_mask"]),
                                  torch.tensor(step["labels"]))
    loss.backward()
    d = abs(loss.item() - step["loss"])
    results = [("train_step/loss", d <= tol, f"{loss.item():.6f} vs {step['loss']:.6f}")]
    want, _ = read_safetensors(os.path.join(folder, "grads.safetensors"))
    params = dict(model.named_parameters())
    worst, worst_name = 0.0, ""
    missing = sorted(set(want) ^ set(params))
    for name, g in want.items():
        if name in params:
            scale = max(1.0, float(np.max(np.abs(g))))
            rel = _max_abs(params[name].grad.numpy(), g) / scale
            if rel > worst:
                worst, worst_name = rel, name
    ok = worst <= tol and not missing
    detail = f"{len(want)} tensors, worst max|diff|/max(1,max|g|) {worst:.2e} ({worst_name})"
    if missing:
        detail += f", names differ: {missing}"
    results.append(("train_step/grads", ok, detail))
    return results


def run_check(fixtures):
    dirs = sorted(d for d in os.listdir(fixtures) if d.startswith("tiny-bart"))
    results = []
    for d in dirs:
        folder = os.path.join(fixtures, d)
        results += [(f"{d}/{n}", ok, det) for n, ok, det in check_model_dir(folder)]
        if os.path.exists(os.path.join(folder, "train_step.json")):
            results += [(f"{d}/{n}", ok, det) for n, ok, det in check_training(folder)]
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    passed = sum(ok for _, ok, _ in results)
    print(f"{passed}/{len(results)} checks passed")
    return passed == len(results)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", nargs="?", const=os.path.join(here, "..", "fixtures"),
                    metavar="FIXTURES", help="verify against the HF fixtures")
    args = ap.parse_args()
    if args.check:
        torch.set_num_threads(1)
        sys.exit(0 if run_check(args.check) else 1)
    ap.print_help()


if __name__ == "__main__":
    main()
