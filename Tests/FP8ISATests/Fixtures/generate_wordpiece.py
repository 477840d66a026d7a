#!/usr/bin/env python3
"""Writes the fixtures WordPieceTests compares fp8sim's tokenizer with: a small vocabulary
(wordpiece-vocab.txt) and texts with the tokens and ids Hugging Face's `tokenizers` gives them
(wordpiece-cases.json), with BERT's uncased normalisation (clean text, CJK spacing, lowercase,
strip accents), BERT's pre-tokenizer and WordPiece ([UNK] past 100 characters).

    pip install tokenizers && python3 Tests/FP8ISATests/Fixtures/generate_wordpiece.py

The texts are hand-picked cases and seeded random mixtures of words, pieces, punctuation,
accented and CJK characters, control characters and odd whitespace.
"""
import json
import os
import random

from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordPiece

HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat", "hello", "world", "un", "##aff", "##able",
         "play", "##ing", "##ed", "##s", "run", "##ner", "cafe", "deja", "vu", "naive", "resume",
         "fp", "##8", "8", "16", "1", "##2", "##3", "token", "##izer", "##ization", "simul", "##ator",
         "我", "爱", "中", "国", "über", "uber", "x", "##x", "##y", "y", "é", "##é"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["¿", "¡", "«", "»", "—", "…", "·", "、", "。"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary():
    v = SPECIAL + PUNCT + LETTERS + ["##" + c for c in LETTERS] + WORDS
    seen, out = set(), []
    for t in v:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def cases(rng):
    fixed = [
        "Hello, world!", "The cat sat on the mat.", "unaffable", "Café Déjà vu, naïve résumé.",
        "Über UBER über", "我爱中国", "我爱abc中国", "FP8 simulator tokenization!", "playing played plays",
        "don't stop-believing (really)", "a\tb\nc\r\nd", "zero\u0000width\u200bjoiner\ufffd", "x" * 100,
        "x" * 101, "unknownwordqqq", "", "   ", "¿Qué? ¡Sí!", "«quoted» — dash… ellipsis",
        "$100 + 5% ^ 2 = ~`", "\u00a0non\u00a0breaking\u2003em\u2028line", "ÅNGSTRÖM", "ﬁ ligature",
        "Ⅻ roman", "e\u0301 combining", "[MASK] token", "日本語のテキスト", "한국어 텍스트",
    ]
    out = list(fixed)
    pool = WORDS + PUNCT + ["Cafe\u0301", "ÉCOLE", "naïveté", "\u3000", " ", "\t", "\u00ad", "\u0007",
                            "ß", "İstanbul", "ǅ", "🙂", "x1y2", "1.5e-3"]
    for _ in range(300):
        n = rng.randint(1, 12)
        parts = []
        for _ in range(n):
            w = rng.choice(pool)
            if w.startswith("##"):
                w = w[2:]
            if rng.random() < 0.3:
                w = w.upper()
            parts.append(w)
        sep = rng.choice([" ", "", " ", "  "])
        out.append(sep.join(parts))
    return out


def main():
    vocab = vocabulary()
    with open(os.path.join(HERE, "wordpiece-vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]",
                              max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    rng = random.Random(2026)
    rows = []
    for text in cases(rng):
        enc = tok.encode(text, add_special_tokens=False)
        rows.append({"text": text, "tokens": enc.tokens, "ids": enc.ids})
    with open(os.path.join(HERE, "wordpiece-cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tokenizers " + __import__("tokenizers").__version__, "cases": rows}, f,
                  ensure_ascii=True, indent=0)
    print(f"{len(rows)} cases, {len(vocab)} tokens")


if __name__ == "__main__":
    main()
