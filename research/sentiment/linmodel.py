"""A linear text classifier that ships as one compressed .npz and is applied by pure Python
(no scikit-learn, numpy only for loading). scikit-learn is used only for training.

Features (all produced by `analyze`, identical at training and inference time):
  'w' + word n-grams (1..2) over whitespace tokens of the normalised text,
  'c' + char n-grams (2..5) inside each token padded with spaces (like sklearn's char_wb),
  optional lexicon pseudo-tokens ('Lpos'/'Lneg', 'Epos'/'Eneg') added by a hook.
Weighting: sublinear tf * idf, L2-normalised over the in-vocabulary features (same as sklearn's
TfidfVectorizer(sublinear_tf=True)); score = W x + b.
"""
import math
from collections import Counter
import numpy as np


def analyze(text, word=(1, 2), char=(2, 5), extra=None):
    toks = text.split()
    out = []
    if word:
        for n in range(word[0], word[1] + 1):
            for i in range(len(toks) - n + 1):
                out.append("w" + " ".join(toks[i:i + n]))
    if char:
        lo, hi = char
        for tok in toks:
            p = " " + tok + " "
            L = len(p)
            for n in range(lo, hi + 1):
                for i in range(L - n + 1):
                    out.append("c" + p[i:i + n])
    if extra is not None:
        out.extend(extra(text))
    return out


def fit_vectorizer(feature_lists, min_df=2, max_features=None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    v = TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True, min_df=min_df, max_features=max_features,
                        dtype=np.float32)
    return v, v.fit_transform(feature_lists)


def export(path, vectorizer, coef, intercept, classes, meta=""):
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    coef = np.asarray(coef)
    if coef.ndim == 1:
        coef = coef[None, :]
    np.savez_compressed(path, vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
                        idf=vectorizer.idf_.astype(np.float16), coef=coef.astype(np.float16),
                        intercept=np.asarray(intercept, np.float32), classes=np.array(classes),
                        meta=np.array(meta))


class LinearTextModel:
    """Pure-Python scorer for a model written by export()."""

    def __init__(self, path, word=(1, 2), char=(2, 5), extra=None):
        z = np.load(path, allow_pickle=False)
        vocab = z["vocab"].tobytes().decode("utf-8").split("\n")
        idf = z["idf"].astype(np.float32).tolist()
        coef = z["coef"].astype(np.float32).T.tolist()
        self.table = {f: (idf[j], coef[j]) for j, f in enumerate(vocab)}
        self.b = z["intercept"].tolist()
        self.classes = [str(c) for c in z["classes"]]
        self.k = len(self.b)
        self.word, self.char, self.extra = word, char, extra

    def decision(self, text):
        s = [0.0] * self.k
        sq = 0.0
        get = self.table.get
        for f, c in Counter(analyze(text, self.word, self.char, self.extra)).items():
            e = get(f)
            if e is None:
                continue
            v = (1.0 + math.log(c)) * e[0]
            sq += v * v
            w = e[1]
            for i in range(self.k):
                s[i] += v * w[i]
        n = math.sqrt(sq) or 1.0
        return [s[i] / n + self.b[i] for i in range(self.k)]

    def predict(self, text):
        d = self.decision(text)
        return self.classes[max(range(self.k), key=d.__getitem__)]
