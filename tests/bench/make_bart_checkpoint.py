#!/usr/bin/python3
"""Write a seeded random BART checkpoint in HuggingFace format (numpy only).

    /usr/bin/python3 tests/bench/make_bart_checkpoint.py OUT_DIR [--dtype f32|f16|bf16]
                                                         [--small] [--seed N]

The default shape is bart-base (vocab 50265, d_model 768, 6+6 layers, 12 heads,
FFN 3072, 1024 positions): the benchmark's workload. --small writes a quick
shape with the same structure. Weights are N(0, 0.02) like HF's init (layer
norms near 1), tied embeddings stored once as model.shared.weight, plus
final_logits_bias.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_np import write_safetensors  # noqa: E402

BASE = {"vocab_size": 50265, "d_model": 768, "encoder_layers": 6, "decoder_layers": 6,
        "encoder_attention_heads": 12, "decoder_attention_heads": 12,
        "encoder_ffn_dim": 3072, "decoder_ffn_dim": 3072, "max_position_embeddings": 1024}
SMALL = {"vocab_size": 50265, "d_model": 256, "encoder_layers": 2, "decoder_layers": 2,
         "encoder_attention_heads": 4, "decoder_attention_heads": 4,
         "encoder_ffn_dim": 1024, "decoder_ffn_dim": 1024, "max_position_embeddings": 128}
TOKENS = {"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 2,
          "forced_bos_token_id": 0, "forced_eos_token_id": 2}


def make_config(shape, dtype):
    cfg = {"architectures": ["BartForConditionalGeneration"], "model_type": "bart",
           "activation_function": "gelu", "scale_embedding": False, "is_encoder_decoder": True,
           "use_cache": True, "dropout": 0.1, "attention_dropout": 0.0,
           "activation_dropout": 0.0, "classifier_dropout": 0.0, "init_std": 0.02,
           "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0,
           "num_hidden_layers": shape["encoder_layers"], "torch_dtype": dtype}
    cfg.update(shape)
    cfg.update(TOKENS)
    return cfg


def layer_shapes(prefix, d, ffn, cross):
    """(name, shape) of one encoder or decoder layer's tensors."""
    attns = ["self_attn"] + (["encoder_attn"] if cross else [])
    out = []
    for a in attns:
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(f"{prefix}.{a}.{proj}.weight", (d, d)), (f"{prefix}.{a}.{proj}.bias", (d,))]
        out += [(f"{prefix}.{a}_layer_norm.weight", (d,)), (f"{prefix}.{a}_layer_norm.bias", (d,))]
    out += [(f"{prefix}.fc1.weight", (ffn, d)), (f"{prefix}.fc1.bias", (ffn,)),
            (f"{prefix}.fc2.weight", (d, ffn)), (f"{prefix}.fc2.bias", (d,)),
            (f"{prefix}.final_layer_norm.weight", (d,)), (f"{prefix}.final_layer_norm.bias", (d,))]
    return out


def tensor_shapes(cfg):
    d, pos = cfg["d_model"], cfg["max_position_embeddings"] + 2
    out = [("model.shared.weight", (cfg["vocab_size"], d)), ("final_logits_bias", (1, cfg["vocab_size"]))]
    for side, cross in (("encoder", False), ("decoder", True)):
        out += [(f"model.{side}.embed_positions.weight", (pos, d)),
                (f"model.{side}.layernorm_embedding.weight", (d,)),
                (f"model.{side}.layernorm_embedding.bias", (d,))]
        for i in range(cfg[f"{side}_layers"]):
            out += layer_shapes(f"model.{side}.layers.{i}", d, cfg[f"{side}_ffn_dim"], cross)
    return out


def random_tensors(cfg, seed):
    rng = np.random.default_rng(seed)
    std = cfg["init_std"]
    out = {}
    for name, shape in tensor_shapes(cfg):
        t = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        if "layer_norm" in name or "layernorm" in name:
            t = t + np.float32(1.0) if name.endswith(".weight") else t
        out[name] = t
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output folder")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    ap.add_argument("--small", action="store_true", help="a quick shape instead of bart-base")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    dtype = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[args.dtype]
    cfg = make_config(SMALL if args.small else BASE, dtype)
    os.makedirs(args.out, exist_ok=True)
    gen = dict(TOKENS, _from_model_config=True)
    for name, obj in (("config.json", cfg), ("generation_config.json", gen)):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
    tensors = random_tensors(cfg, args.seed)
    path = os.path.join(args.out, "model.safetensors")
    write_safetensors(path, tensors, args.dtype.upper())
    n = sum(t.size for t in tensors.values())
    print(json.dumps({"out": args.out, "parameters": n, "bytes": os.path.getsize(path),
                      "dtype": args.dtype, "seed": args.seed}))


if __name__ == "__main__":
    main()
