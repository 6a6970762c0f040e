"""Shared helpers: data loaders, metrics, timing, tweet normalisation, emoji table.

Data is read from ../shared/data/sentiment beside the repository (override with SMCC_DATA env var). Nothing is
copied out of it.
"""
import csv, html, os, re, time, unicodedata
import numpy as np

DATA = os.environ.get("SMCC_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data")) + "/sentiment/"
LABELS = ["negative", "neutral", "positive"]
SEED = 13


# ----------------------------------------------------------------------------- loaders
def load_en():
    ids, y, X = [], [], []
    with open(DATA + "en_vader_tweets.tsv", encoding="utf-8") as f:
        for line in f:
            i, m, t = line.rstrip("\n").split("\t", 2)
            ids.append(i); y.append(float(m)); X.append(t)
    return X, np.array(y)


def load_id(split):
    X, y = [], []
    with open(DATA + f"id_smsa_{split}.tsv", encoding="utf-8") as f:
        for line in f:
            t, l = line.rstrip("\n").rsplit("\t", 1)
            X.append(t); y.append(l)
    return X, y


def load_ru_tweets(speech="neutral"):
    """RuSentiTweet (EVAL ONLY): speech -> neutral, skip dropped."""
    X, y = [], []
    with open(DATA + "ru_rusentitweet_train.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            l = r["label"]
            if l == "skip":
                continue
            if l == "speech":
                l = speech
            X.append(r["text"]); y.append(l)
    return X, y


def load_ru_osc():
    X, y = [], []
    with open(DATA + "ru_opensentimentcorpus.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            X.append(r["Sentence"]); y.append(r["Sentiment"])
    return X, y


def load_nl():
    X, y = [], []
    with open(DATA + "nl_political_tweets_train.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            X.append(r["text"]); y.append(r["label"])
    return X, y


# ----------------------------------------------------------------------------- metrics
def acc_f1(y_true, y_pred, labels=LABELS):
    y_true = list(y_true); y_pred = list(y_pred)
    acc = sum(a == b for a, b in zip(y_true, y_pred)) / len(y_true)
    f1s = []
    for c in labels:
        tp = sum(a == c and b == c for a, b in zip(y_true, y_pred))
        fp = sum(a != c and b == c for a, b in zip(y_true, y_pred))
        fn = sum(a == c and b != c for a, b in zip(y_true, y_pred))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return acc, float(np.mean(f1s))


def pearson(a, b):
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def three_class(scores, thr=0.05):
    s = np.asarray(scores, float)
    return np.where(s >= thr, "positive", np.where(s <= -thr, "negative", "neutral"))


def rate(fn, texts, min_seconds=1.0):
    """texts/s of fn applied one text at a time (single process, one core)."""
    n = 0; t0 = time.perf_counter()
    while True:
        for t in texts:
            fn(t)
        n += len(texts)
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return n / dt


# ----------------------------------------------------------------------------- tweet normalisation
URL_RE = re.compile(r"https?://\S+|www\.\S+")
USER_RE = re.compile(r"@\w+")
HASH_RE = re.compile(r"#(\w+)")
REPEAT_RE = re.compile(r"(\w)\1{2,}")   # loooool -> lool
# emoji / pictographs / symbols: one token each
EMOJI_RE = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D]")
PUNCT_RE = re.compile(r"([!?.,;:\"'()\[\]«»“”„…])")


def normalise_social(text):
    """Make a raw post look like SmSA-style text: lower-cased, tokens separated by single spaces.
    URLs -> 'URL', @handles -> '@USER' (dropped), '#tag' -> 'tag', repeated letters capped at 2,
    punctuation and emoji split off as their own tokens, HTML entities unescaped."""
    t = html.unescape(text)
    t = URL_RE.sub(" ", t)
    t = USER_RE.sub(" ", t)
    t = HASH_RE.sub(r"\1", t)
    t = t.lower().replace("ё", "е")
    t = REPEAT_RE.sub(r"\1\1", t)
    t = EMOJI_RE.sub(lambda m: " " + m.group(0) + " " if m.group(0) not in "\uFE0F\u200D" else " ", t)
    t = PUNCT_RE.sub(r" \1 ", t)
    return " ".join(t.split())
