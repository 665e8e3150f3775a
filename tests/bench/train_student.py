#!/usr/bin/python3
"""The PyTorch peer of the demo student's training: the same task trained end to end in PyTorch.

The demo student is trained by libprism (examples/demo/retrain.py: prism teacher-prompts, the
oracle, prism teacher-import, prism tokenizer-train, prism train). This script is the benchmark
peer of that run, not a way to make the committed model: it trains the same architecture on the
same oracle pairs with torch.optim.AdamW and reports wall time, held-out loss, token accuracy and
exact match, to compare time to quality (docs/performance.md). It wrote the demo model of earlier
releases: 26.3 minutes on one thread of this shared machine. tests/bench/train_bench.py compares
the two trainers step by step instead (throughput and memory on fixed micro-batches).

Needs only Debian's python3-torch and python3-numpy (no transformers, no network): the model is
tests/bench/torch_bart.py, whose parameter names and save format are HuggingFace's.

    /usr/bin/python3 tests/bench/train_student.py --out /tmp/torch-student   # ~26 min, 1 thread

Data: --train-pairs (prompt -> oracle explanation) pairs from pairs.make_pairs
with --seed, and --eval-pairs held-out pairs from a different seed. Prompts are
tokenized as `<s> prompt </s>`, targets as labels `<s> explanation </s>` (the
decoder input is the labels shifted right behind decoder_start_token_id 2, as
in HF). Every random choice (pairs, initialisation, batch order) is seeded.

Tokens come from the committed demo vocabulary (--tokenizer, examples/demo/model). Reports, as
JSON on stdout and in --out/training_report.json: the final training loss, held-out
teacher-forced token accuracy and loss, held-out exact match of greedy and beam-2 generation
against the oracle, and sample outputs.
"""

import argparse
import json
import math
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "examples", "demo")
sys.path.insert(0, DEMO)

import bpe  # noqa: E402
import pairs  # noqa: E402
from torch_bart import Bart  # noqa: E402

IGNORE = -100


def model_config(vocab_size, args):
    """A complete HF BartConfig, so transformers and libprism both load it."""
    return {
        "architectures": ["BartForConditionalGeneration"],
        "model_type": "bart",
        "vocab_size": vocab_size,
        "d_model": args.d_model,
        "encoder_layers": args.layers,
        "decoder_layers": args.layers,
        "num_hidden_layers": args.layers,
        "encoder_attention_heads": args.heads,
        "decoder_attention_heads": args.heads,
        "encoder_ffn_dim": args.ffn,
        "decoder_ffn_dim": args.ffn,
        "max_position_embeddings": args.max_positions,
        "activation_function": "gelu",
        "scale_embedding": False,
        "init_std": 0.02,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "classifier_dropout": 0.0,
        "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "bos_token_id": bpe.BOS,
        "pad_token_id": bpe.PAD,
        "eos_token_id": bpe.EOS,
        "decoder_start_token_id": bpe.EOS,
        "forced_bos_token_id": bpe.BOS,
        "forced_eos_token_id": bpe.EOS,
        "is_encoder_decoder": True,
        "tie_word_embeddings": True,
        "use_cache": True,
    }


def generation_config(args):
    """Decoding defaults; beam-only keys only with beams (HF warns otherwise)."""
    gen = {"num_beams": args.num_beams, "max_length": args.max_length, "_from_model_config": False,
           "no_repeat_ngram_size": args.no_repeat_ngram_size}
    if args.num_beams > 1:
        gen.update(early_stopping=True, length_penalty=1.0)
    return gen


def init_weights(model, std):
    """HF BartPretrainedModel._init_weights: N(0, std) weights, zero biases."""
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            torch.nn.init.normal_(module.weight, mean=0.0, std=std)
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.zeros_(module.bias)


def encode_pairs(tok, data):
    return [(tok.encode(p), tok.encode(t)) for p, t in data]


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def batch_tensors(batch):
    ids = pad([b[0] for b in batch], bpe.PAD)
    return ids, (ids != bpe.PAD).long(), pad([b[1] for b in batch], IGNORE)


def lr_at(step, total, args):
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * (0.1 + 0.45 * (1.0 + math.cos(math.pi * progress)))


def train(model, data, args):
    rng = random.Random(args.seed)
    steps_per_epoch = math.ceil(len(data) / args.batch_size)
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    model.train()
    step, recent = 0, []
    for epoch in range(args.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        for start in range(0, len(order), args.batch_size):
            ids, mask, labels = batch_tensors([data[i] for i in order[start:start + args.batch_size]])
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total, args)
            _, loss = model.training_step(ids, mask, labels)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            recent = (recent + [loss.item()])[-steps_per_epoch:]
            step += 1
            if step % 100 == 0 or step == total:
                print("epoch %d step %d/%d loss %.4f" % (epoch + 1, step, total, loss.item()),
                      flush=True)
    model.eval()
    return sum(recent) / len(recent)


@torch.no_grad()
def teacher_forced(model, data, batch_size):
    """Held-out mean loss per token and token accuracy (labels != -100)."""
    loss_sum, correct, count = 0.0, 0, 0
    for start in range(0, len(data), batch_size):
        ids, mask, labels = batch_tensors(data[start:start + batch_size])
        logits, loss = model.training_step(ids, mask, labels)
        keep = labels != IGNORE
        n = int(keep.sum())
        loss_sum += loss.item() * n
        correct += int((logits.argmax(-1)[keep] == labels[keep]).sum())
        count += n
    return loss_sum / count, correct / count


@torch.no_grad()
def generate_texts(model, tok, prompts_ids, batch_size, **params):
    out = []
    for start in range(0, len(prompts_ids), batch_size):
        ids = pad(prompts_ids[start:start + batch_size], bpe.PAD)
        seqs, _ = model.generate(ids, (ids != bpe.PAD).long(), **params)
        out += [tok.decode(s.tolist()).strip() for s in seqs]
    return out


def exact_match(outputs, targets):
    return sum(o == t for o, t in zip(outputs, targets)) / len(targets)


def file_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-seed", type=int, default=98765)
    ap.add_argument("--train-pairs", type=int, default=9600)
    ap.add_argument("--eval-pairs", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--max-positions", type=int, default=256)
    ap.add_argument("--num-beams", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--no-repeat-ngram-size", type=int, default=5,
                    help="decoding default: no 5-gram twice, which stops a degenerate loop "
                         "('The The The ...' on titles the model never saw) and leaves every "
                         "held-out explanation unchanged")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; one is fastest for a model this small")
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument("--tokenizer", default=os.path.join(DEMO, "model"),
                    help="the folder of vocab.json and merges.txt")
    ap.add_argument("--out", required=True,
                    help="the checkpoint and training_report.json go here (not examples/demo)")
    return ap.parse_args(argv)


def evaluate(model, tok, eval_raw, eval_data, train_prompts, args):
    loss, acc = teacher_forced(model, eval_data, 64)
    targets = [t for _, t in eval_raw]
    prompt_ids = [p for p, _ in eval_data]
    greedy = generate_texts(model, tok, prompt_ids, 64, num_beams=1)
    beam = generate_texts(model, tok, prompt_ids, 64, num_beams=2)
    unseen = [i for i, (p, _) in enumerate(eval_raw) if p not in train_prompts]
    return {
        "eval_loss": round(loss, 5),
        "eval_token_accuracy": round(acc, 5),
        "eval_exact_match_greedy": round(exact_match(greedy, targets), 5),
        "eval_exact_match_beam2": round(exact_match(beam, targets), 5),
        "eval_unseen_prompts": len(unseen),
        "eval_exact_match_greedy_unseen": round(
            exact_match([greedy[i] for i in unseen], [targets[i] for i in unseen]), 5),
    }, greedy


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tok = bpe.Tokenizer(os.path.join(args.tokenizer, "vocab.json"),
                        os.path.join(args.tokenizer, "merges.txt"))
    train_raw = pairs.make_pairs(args.seed, args.train_pairs)
    eval_raw = pairs.make_pairs(args.eval_seed, args.eval_pairs)
    train_data, eval_data = encode_pairs(tok, train_raw), encode_pairs(tok, eval_raw)
    longest = max(len(x) for d in (train_data, eval_data) for p in d for x in p)
    if longest > args.max_positions:
        sys.exit("a sequence of %d tokens exceeds --max-positions" % longest)

    model = Bart(model_config(len(tok.vocab), args), generation_config(args))
    init_weights(model, 0.02)
    params = sum(p.numel() for p in model.parameters())
    print("%d parameters, %d training pairs, %d held out" % (params, len(train_data), len(eval_data)))
    began = time.time()
    final_loss = train(model, train_data, args)
    minutes = (time.time() - began) / 60.0

    metrics, greedy = evaluate(model, tok, eval_raw, eval_data, {p for p, _ in train_raw}, args)
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out)
    report = dict(parameters=params, train_pairs=len(train_data), eval_pairs=len(eval_data),
                  epochs=args.epochs, final_train_loss=round(final_loss, 5),
                  train_minutes=round(minutes, 1), threads=args.threads,
                  checkpoint_bytes=file_size(os.path.join(args.out, "model.safetensors")),
                  **metrics)
    report["samples"] = [{"prompt": p, "oracle": t, "student": g}
                         for (p, t), g in list(zip(eval_raw, greedy))[:args.samples]]
    with open(os.path.join(args.out, "training_report.json"), "w", encoding="utf-8",
              newline="\n") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for s in report["samples"]:
        print("\nprompt:  %s\noracle:  %s\nstudent: %s" % (s["prompt"], s["oracle"], s["student"]))
    print("\n" + json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
