"""Seeded multilingual text for the BPE trainer's checks and benchmark.

    python3 bpe_corpus.py OUT BYTES [SEED]          plain text, one document per line
    python3 bpe_corpus.py --jsonl OUT BYTES [SEED]  {"source": S, "target": S} lines

Words are made of syllables from several scripts (Latin with accents, Greek,
Cyrillic, Arabic, Devanagari with its combining marks, Thai, kana, CJK,
Hangul), numbers, punctuation, emoji, contractions and odd whitespace, drawn
with a Zipf-like law so that pairs repeat as in real text and many counts tie.
"""
import json
import math
import random
import sys

SCRIPTS = [
    ["th", "e", "an", "in", "er", "on", "re", "at", "st", "ou", "qu", "ing", "tion", "ch"],
    ["é", "è", "à", "ç", "ü", "ö", "ß", "ñ", "ø", "å", "œ", "ł", "ž", "ă"],
    ["α", "λ", "φ", "κ", "ό", "ή", "σ", "ς", "τ", "ρ"],
    ["при", "вет", "мир", "ст", "но", "ва", "ль", "щ", "ы", "ё"],
    ["سلا", "م", "عل", "يك", "ال", "كت", "اب"],
    ["न", "म", "स्", "ते", "हि", "न्", "दी", "का"],
    ["สวั", "สดี", "ครั", "บ", "ไทย"],
    ["こん", "にち", "は", "カタ", "カナ", "の"],
    ["中", "文", "字", "符", "串", "的", "是"],
    ["안녕", "하세", "요", "한국", "어"],
]
PUNCT = [".", ",", "!", "?", ";", ":", "...", "--", "(", ")", "\"", "«", "»", "—", "、", "。"]
SPACES = [" ", " ", " ", " ", " ", "  ", "\t", " \u00a0", "\u3000", "   "]
EMOJI = ["🙂", "🚀", "👍🏽", "❤️", "🇫🇷"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x"]


def make_lexicon(rng, size):
    words = []
    for _ in range(size):
        script = SCRIPTS[min(int(rng.expovariate(0.35)), len(SCRIPTS) - 1)]
        word = "".join(rng.choice(script) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.1:
            word = word[:1].upper() + word[1:]
        words.append(word)
    return words


def token(rng, lexicon):
    r = rng.random()
    if r < 0.04:
        return str(rng.choice([1, 2, 7, 10, 42, 100, 1999, 2024, rng.randint(0, 99999)]))
    if r < 0.07:
        return rng.choice(PUNCT)
    if r < 0.08:
        return rng.choice(EMOJI)
    # Zipf: rank r with probability proportional to 1 / r.
    w = lexicon[int(math.exp(rng.random() * math.log(len(lexicon)))) - 1]
    if rng.random() < 0.03:
        w += rng.choice(CONTRACTIONS)
    return w


def document(rng, lexicon):
    out = []
    for _ in range(rng.randint(3, 40)):
        out.append(token(rng, lexicon))
        out.append(rng.choice(SPACES) if rng.random() < 0.9 else "")
    return "".join(out).rstrip(" ")


def generate(size, seed=1, jsonl=False):
    rng = random.Random(seed)
    lexicon = make_lexicon(rng, 30000)
    lines, total = [], 0
    while total < size:
        if jsonl:
            line = json.dumps({"source": document(rng, lexicon), "target": document(rng, lexicon)},
                              ensure_ascii=rng.random() < 0.5) + "\n"
        else:
            line = document(rng, lexicon) + ("\r\n" if rng.random() < 0.05 else "\n")
        lines.append(line)
        total += len(line.encode("utf-8"))
    return "".join(lines)


def main(argv):
    jsonl = argv[:1] == ["--jsonl"]
    if jsonl:
        argv = argv[1:]
    out, size = argv[0], int(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 1
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(generate(size, seed, jsonl))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
