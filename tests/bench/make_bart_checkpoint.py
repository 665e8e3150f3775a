#!/usr/bin/env python3
"""Write a random BART checkpoint folder (config.json, generation_config.json,
model.safetensors) with numpy alone, for the BART benchmark.

    /usr/bin/python3 tests/bench/make_bart_checkpoint.py OUT_DIR [--shape base|tiny] [--seed N]

bart-base shape: vocab 50265, d_model 768, 6 + 6 layers, 12 heads, FFN 3072,
1024 positions (about 560 MB of float32). Weights are N(0, 0.02) like a fresh
HuggingFace init; layer-norm gains are 1.
"""
import argparse
import json
import os

import numpy as np

SHAPES = {
    "base": dict(vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6,
                 encoder_attention_heads=12, decoder_attention_heads=12,
                 encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024),
    "tiny": dict(vocab_size=1000, d_model=64, encoder_layers=2, decoder_layers=2,
                 encoder_attention_heads=4, decoder_attention_heads=4,
                 encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=64),
}


def tensor_shapes(c):
    d = c["d_model"]
    yield "model.shared.weight", (c["vocab_size"], d)
    yield "final_logits_bias", (1, c["vocab_size"])
    for stack in ("encoder", "decoder"):
        ffn = c[stack + "_ffn_dim"]
        yield f"model.{stack}.embed_positions.weight", (c["max_position_embeddings"] + 2, d)
        yield f"model.{stack}.layernorm_embedding.weight", (d,)
        yield f"model.{stack}.layernorm_embedding.bias", (d,)
        attns = ["self_attn"] + (["encoder_attn"] if stack == "decoder" else [])
        for layer in range(c[stack + "_layers"]):
            p = f"model.{stack}.layers.{layer}"
            for attn in attns:
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    yield f"{p}.{attn}.{proj}.weight", (d, d)
                    yield f"{p}.{attn}.{proj}.bias", (d,)
                yield f"{p}.{attn}_layer_norm.weight", (d,)
                yield f"{p}.{attn}_layer_norm.bias", (d,)
            yield f"{p}.fc1.weight", (ffn, d)
            yield f"{p}.fc1.bias", (ffn,)
            yield f"{p}.fc2.weight", (d, ffn)
            yield f"{p}.fc2.bias", (d,)
            yield f"{p}.final_layer_norm.weight", (d,)
            yield f"{p}.final_layer_norm.bias", (d,)


def write_safetensors(path, shapes, rng):
    header, offset = {}, 0
    for name, shape in shapes:
        nbytes = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name, shape in shapes:
            if name.endswith("layer_norm.weight") or name.endswith("layernorm_embedding.weight"):
                data = np.ones(shape, dtype=np.float32)
            else:
                data = rng.normal(0.0, 0.02, size=shape).astype(np.float32)
            f.write(data.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="base")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    c = SHAPES[args.shape]
    os.makedirs(args.out_dir, exist_ok=True)
    config = dict(model_type="bart", architectures=["BartForConditionalGeneration"],
                  activation_function="gelu", scale_embedding=False, pad_token_id=1,
                  bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
                  forced_bos_token_id=0, forced_eos_token_id=2, **c)
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(args.out_dir, "generation_config.json"), "w") as f:
        json.dump(dict(decoder_start_token_id=2, eos_token_id=2, pad_token_id=1,
                       forced_bos_token_id=0, forced_eos_token_id=2), f, indent=1)
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), list(tensor_shapes(c)),
                      np.random.default_rng(args.seed))


if __name__ == "__main__":
    main()
