#!/usr/bin/python3
"""Export a HF-format BART folder to ONNX for the ONNX Runtime peer.

    /usr/bin/python3 tests/bench/ort/export_onnx.py MODEL_DIR [--out DIR] [--no-verify]

The graphs come from torch_bart.Bart (the PyTorch peer) through torch.onnx.export
(opset 17, float32) and follow HF optimum's layout for seq2seq models:

  encoder_model.onnx            input_ids, attention_mask -> last_hidden_state
  decoder_model.onnx            input_ids, encoder_attention_mask, encoder_hidden_states
                                -> logits, present.{i}.decoder.{key,value},
                                   present.{i}.encoder.{key,value}   (the first step)
  decoder_with_past_model.onnx  input_ids, encoder_attention_mask,
                                past_key_values.{i}.decoder.{key,value},
                                past_key_values.{i}.encoder.{key,value}
                                -> logits, present.{i}.decoder.{key,value}
  decoder_model_merged.onnx     both decoders behind one If on `use_cache_branch` (bool [1]),
                                weights stored once (optimum's merged decoder); the first step
                                gets empty past tensors, later steps get empty encoder K/V
                                outputs

  log_softmax.onnx, beam_topk.onnx  the beam search's log_softmax and top-k as ONNX Runtime
                                kernels (see export_search_graphs)

Key/value tensors are [batch, heads, length, head_dim]; ids and masks int64. The LM head is a
Gemm with transB on the tied embedding, so each decoder graph holds that matrix once.

Unless --no-verify, the graphs are then checked against torch through ONNX Runtime
(ort_bart.mjs verify): encoder states, first-step and full teacher-forced logits, and logits
through the KV cache step by step, for both decoders, all within 1e-4.
"""
import argparse
import base64
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import torch_bart  # noqa: E402

OPSET = 17


def _neg_mask(keep):
    """0/1 int mask [B,S] -> additive float mask [B,1,1,S] (finfo.min where 0), as HF."""
    m = keep[:, None, None, :] == 0
    return torch.zeros(m.shape, dtype=torch.float32).masked_fill(m, torch.finfo(torch.float32).min)


def _decode(bart, ids, cross_kv, cross_mask, past):
    """torch_bart.Bart.decode, written so the trace keeps lengths symbolic."""
    dec = bart.model.decoder
    t = ids.shape[1]
    past_len = 0 if past is None else past[0][0].shape[2]
    x = dec.embed(ids, past_len)
    self_mask = None
    if past is None:  # the first call: causal over its own ids
        self_mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)[None, None]
    presents = []
    for i, layer in enumerate(dec.layers):
        x, kv = layer(x, None if past is None else past[i], self_mask, cross_kv[i], cross_mask)
        presents.append(kv)
    b, d = x.shape[0], x.shape[2]
    # A Gemm with transB reads the tied embedding in place: no transposed copy of it.
    logits = F.linear(x.reshape(-1, d), bart.model.shared.weight, bart.final_logits_bias[0])
    return logits.reshape(b, t, -1), presents


class Encoder(nn.Module):
    def __init__(self, bart):
        super().__init__()
        self.bart = bart

    def forward(self, input_ids, attention_mask):
        return self.bart.encode(input_ids, attention_mask)[0]


class Decoder(nn.Module):
    """decoder_model: the first step, cross-attention K/V computed here and returned."""

    def __init__(self, bart):
        super().__init__()
        self.bart = bart

    def forward(self, input_ids, encoder_attention_mask, encoder_hidden_states):
        cross = self.bart.cross_kv(encoder_hidden_states)
        logits, presents = _decode(self.bart, input_ids, cross, _neg_mask(encoder_attention_mask),
                                   None)
        out = [logits]
        for (k, v), (ck, cv) in zip(presents, cross):
            out += [k, v, ck, cv]
        return tuple(out)


class DecoderWithPast(nn.Module):
    """decoder_with_past_model: one step after the cached positions."""

    def __init__(self, bart):
        super().__init__()
        self.bart = bart

    def forward(self, input_ids, encoder_attention_mask, *past):
        n = len(self.bart.model.decoder.layers)
        self_kv = [(past[4 * i], past[4 * i + 1]) for i in range(n)]
        cross = [(past[4 * i + 2], past[4 * i + 3]) for i in range(n)]
        logits, presents = _decode(self.bart, input_ids, cross, _neg_mask(encoder_attention_mask),
                                   self_kv)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def kv_names(prefix, n, cross=True):
    names = []
    for i in range(n):
        names += [f"{prefix}.{i}.decoder.key", f"{prefix}.{i}.decoder.value"]
        if cross:
            names += [f"{prefix}.{i}.encoder.key", f"{prefix}.{i}.encoder.value"]
    return names


def export_all(bart, out):
    cfg = bart.config
    n = cfg["decoder_layers"]
    os.makedirs(out, exist_ok=True)
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    mask = (ids != cfg["pad_token_id"]).long()
    with torch.no_grad():
        enc = bart.encode(ids, mask)[0]
    common = dict(opset_version=OPSET, do_constant_folding=True)

    torch.onnx.export(Encoder(bart), (ids, mask), os.path.join(out, "encoder_model.onnx"),
                      input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
                                    "attention_mask": {0: "batch_size",
                                                       1: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size",
                                                          1: "encoder_sequence_length"}},
                      **common)

    dec_ids = torch.tensor([[2, 0, 5], [2, 0, 8]])
    present = kv_names("present", n)
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for name in present:
        seq = "encoder_sequence_length" if ".encoder." in name else "decoder_sequence_length"
        axes[name] = {0: "batch_size", 2: seq}
    torch.onnx.export(Decoder(bart), (dec_ids, mask, enc), os.path.join(out, "decoder_model.onnx"),
                      input_names=["input_ids", "encoder_attention_mask", "encoder_hidden_states"],
                      output_names=["logits"] + present, dynamic_axes=axes, **common)

    past_names = kv_names("past_key_values", n)
    with torch.no_grad():
        first = Decoder(bart)(dec_ids, mask, enc)
    past = list(first[1:])
    step_ids = torch.tensor([[4], [9]])
    axes = {"input_ids": {0: "batch_size"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size"}}
    for name in past_names:
        seq = "encoder_sequence_length" if ".encoder." in name else "past_decoder_sequence_length"
        axes[name] = {0: "batch_size", 2: seq}
    present_self = kv_names("present", n, cross=False)
    for name in present_self:
        axes[name] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    torch.onnx.export(DecoderWithPast(bart), (step_ids, mask, *past),
                      os.path.join(out, "decoder_with_past_model.onnx"),
                      input_names=["input_ids", "encoder_attention_mask"] + past_names,
                      output_names=["logits"] + present_self, dynamic_axes=axes, **common)
    heads = cfg["decoder_attention_heads"]
    merge_decoders(out, n, heads, cfg["d_model"] // heads)
    export_search_graphs(out)


def export_search_graphs(out):
    """The beam search's per-step arithmetic as ONNX Runtime kernels (not part of optimum's layout).

    log_softmax.onnx: logits [N, T, vocab] -> log_probs.
    beam_topk.onnx:   logits [N, 1, vocab], beam_scores [N, 1, 1], shape (int64 [2]: batch,
                      beams * vocab), k (int64 [1]), gather_idx (int64 [N, M]) ->
                      values, indices (TopK of log_softmax + beam score over each input row's
                      beams, ties to the lower index), gathered (log_probs at gather_idx)."""
    import onnx
    from onnx import TensorProto, helper

    def save(name, nodes, inputs, outputs):
        graph = helper.make_graph(nodes, name, inputs, outputs)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, f"{name}.onnx"))

    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    info = helper.make_tensor_value_info
    save("log_softmax", [helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=-1)],
         [info("logits", f32, ["rows", "length", "vocab"])],
         [info("log_probs", f32, ["rows", "length", "vocab"])])
    flat = helper.make_tensor("flat", i64, [2], [0, -1])
    save("beam_topk", [
        helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=-1),
        helper.make_node("Add", ["log_probs", "beam_scores"], ["scores"]),
        helper.make_node("Reshape", ["scores", "shape"], ["by_input_row"]),
        helper.make_node("TopK", ["by_input_row", "k"], ["values", "indices"], axis=-1,
                         largest=1, sorted=1),
        helper.make_node("Constant", [], ["flat_shape"], value=flat),
        helper.make_node("Reshape", ["log_probs", "flat_shape"], ["log_probs_2d"]),
        helper.make_node("GatherElements", ["log_probs_2d", "gather_idx"], ["gathered"], axis=1),
    ], [info("logits", f32, ["rows", 1, "vocab"]), info("beam_scores", f32, ["rows", 1, 1]),
        info("shape", i64, [2]), info("k", i64, [1]), info("gather_idx", i64, ["rows", "m"])],
        [info("values", f32, ["batch", "k"]), info("indices", i64, ["batch", "k"]),
         info("gathered", f32, ["rows", "m"])])


# ---------------------------------------------------------------------------
# merged decoder (optimum's decoder_model_merged.onnx)


def merge_decoders(out, n_layers, heads, head_dim):
    """One graph: If(use_cache_branch) then decoder_with_past else decoder, as optimum merges.

    Both branches return logits and every present; with past, the encoder K/V outputs are empty
    (the caller keeps the ones the first step returned). Initializers move to the outer graph, stored once when their contents are
    equal (the weights both decoders share)."""
    import hashlib

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    no_past = onnx.load(os.path.join(out, "decoder_model.onnx"))
    with_past = onnx.load(os.path.join(out, "decoder_with_past_model.onnx"))
    shared, by_digest, used = [], {}, set()

    def branch(model, tag, outputs):
        """The model's nodes as an If branch: initializers hoisted, intermediates prefixed."""
        g = model.graph
        rename = {}
        for init in g.initializer:
            arr = numpy_helper.to_array(init)
            key = (arr.dtype.str, arr.shape, hashlib.sha256(arr.tobytes()).hexdigest())
            if key not in by_digest:
                name = init.name if init.name not in used else f"{tag}/{init.name}"
                used.add(name)
                by_digest[key] = name
                shared.append(numpy_helper.from_array(arr, name))
            rename[init.name] = by_digest[key]
        for node in g.node:
            for i, x in enumerate(node.output):
                if x:
                    rename[x] = f"{tag}/{x}"
                    node.output[i] = rename[x]
        for node in _all_nodes(g):
            node.input[:] = [rename.get(x, x) for x in node.input]
        outs = [helper.make_tensor_value_info(rename.get(o, o), TensorProto.FLOAT, None)
                for o in outputs]
        return list(g.node), outs, rename

    present = kv_names("present", n_layers)
    else_nodes, else_outs, _ = branch(no_past, "no_past", ["logits"] + present)
    self_present = [p for p in present if ".decoder." in p]
    then_nodes, _, renamed = branch(with_past, "with_past", ["logits"] + self_present)
    then_outs = []
    empty = helper.make_tensor("with_past/empty", TensorProto.FLOAT, [0, heads, 0, head_dim], [])
    for name in ["logits"] + present:
        if ".encoder." in name:  # an empty tensor, as optimum does: the caller keeps its own
            local = f"with_past/{name}"
            then_nodes.append(helper.make_node("Constant", [], [local], value=empty))
        else:
            local = renamed[name]
        then_outs.append(helper.make_tensor_value_info(local, TensorProto.FLOAT, None))
    if_node = helper.make_node(
        "If", ["use_cache_branch"], ["logits"] + present,
        then_branch=helper.make_graph(then_nodes, "with_past", [], then_outs),
        else_branch=helper.make_graph(else_nodes, "no_past", [], else_outs))

    inputs = {i.name: i for i in list(with_past.graph.input) + list(no_past.graph.input)}
    # The first step gets empty past tensors; the later steps ignore encoder_hidden_states.
    outer_inputs = [inputs[n] for n in ("input_ids", "encoder_attention_mask",
                                        "encoder_hidden_states")]
    outer_inputs += [inputs[p] for p in kv_names("past_key_values", n_layers)]
    outer_inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    out_info = {o.name: o for o in no_past.graph.output}
    graph = helper.make_graph([if_node], "decoder_merged", outer_inputs,
                              [out_info[n] for n in ["logits"] + present], shared)
    model = helper.make_model(graph, opset_imports=list(no_past.opset_import))
    model.ir_version = no_past.ir_version
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "decoder_model_merged.onnx"))


def _all_nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.g and attr.g.node:
                yield from _all_nodes(attr.g)
            for g in attr.graphs:
                yield from _all_nodes(g)

# ---------------------------------------------------------------------------
# reference values for `ort_bart.mjs verify`


def _b64(t):
    return base64.b64encode(np.ascontiguousarray(t.numpy(), dtype=np.float32).tobytes()).decode()


def reference(bart, seed=3):
    """Inputs and torch outputs: encoder states, teacher-forced logits over the whole decoder
    input, and logits one token at a time through the cache."""
    cfg = bart.config
    g = torch.Generator().manual_seed(seed)
    cases = []
    for rows, src, tgt in ((1, 9, 4), (3, 12, 5)):
        ids = torch.randint(4, cfg["vocab_size"], (rows, src), generator=g)
        ids[:, 0], ids[:, -1] = 0, 2
        mask = torch.ones_like(ids)
        if rows > 1:  # a padded row
            ids[1, -3:], mask[1, -3:] = cfg["pad_token_id"], 0
            ids[1, -4] = 2
        dec = torch.randint(4, cfg["vocab_size"], (rows, tgt), generator=g)
        dec[:, 0] = cfg["decoder_start_token_id"]
        with torch.no_grad():
            enc, _ = bart.encode(ids, mask)
            full = bart(ids, mask, dec)
            inc = torch.from_numpy(torch_bart._incremental_logits(bart, ids, mask, dec))
        cases.append({"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                      "decoder_input_ids": dec.tolist(),
                      "encoder_last_hidden_state": {"shape": list(enc.shape), "b64": _b64(enc)},
                      "logits": {"shape": list(full.shape), "b64": _b64(full)},
                      "logits_incremental": {"shape": list(inc.shape), "b64": _b64(inc)}})
    return {"cases": cases}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--out", help="output folder (default: MODEL/onnx)")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    out = args.out or os.path.join(args.model, "onnx")
    torch.set_num_threads(2)
    bart = torch_bart.Bart.from_pretrained(args.model)
    export_all(bart, out)
    ref = os.path.join(out, "reference.json")
    with open(ref, "w") as f:
        json.dump(reference(bart), f)
    sizes = {name: os.path.getsize(os.path.join(out, name)) for name in sorted(os.listdir(out))}
    print(json.dumps({"out": out, "bytes": sizes}))
    if not args.no_verify:
        node = subprocess.run(["node", os.path.join(HERE, "ort_bart.mjs"), "verify", "--onnx", out,
                               "--model", args.model, "--reference", ref,
                               "--tolerance", str(args.tolerance)])
        sys.exit(node.returncode)


if __name__ == "__main__":
    main()
