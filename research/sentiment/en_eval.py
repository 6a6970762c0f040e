"""English: VADER 3.3.2, TextBlob, and combinations on en_vader_tweets.tsv (4,200, human mean -4..4).

Gold 3-class label: mean/4 with +-0.05 thresholds (VADER paper). Predicted label: score with the same
+-0.05 thresholds. Anything fitted on this set is fitted with 10-fold CV (KFold, shuffle, seed 13);
the figures are out-of-fold predictions only.
"""
import html, math, re, sys
import numpy as np
from sklearn.model_selection import KFold
from sklearn.linear_model import Ridge
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.sparse import hstack, csr_matrix
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
from textblob import TextBlob
from common import load_en, acc_f1, pearson, three_class, rate, SEED
from emoji_table import emoji_score

X, mean = load_en()
gold01 = mean / 4.0
gold = three_class(gold01)
sia = SentimentIntensityAnalyzer()
texts_fast = X[:2000]


def vader(t):
    return sia.polarity_scores(t)["compound"]


def vader_unesc(t):  # tweak: undo HTML escaping (&amp; &lt;3 ...) before VADER
    return sia.polarity_scores(html.unescape(t))["compound"]


def tb(t):
    return TextBlob(t).sentiment.polarity


def unsquash(c, alpha=15.0):
    """Invert VADER's normalize(): compound = s / sqrt(s^2 + alpha) -> s (raw valence sum)."""
    c = np.clip(np.asarray(c, float), -0.9999, 0.9999)
    return c * np.sqrt(alpha / (1 - c * c))


def run():
    rows = []
    V = np.array([sia.polarity_scores(t)["compound"] for t in X])
    VU_full = [sia.polarity_scores(html.unescape(t)) for t in X]
    VU = np.array([d["compound"] for d in VU_full])
    T = np.array([tb(t) for t in X])
    TU = np.array([TextBlob(html.unescape(t)).sentiment for t in X])
    E = np.array([emoji_score(html.unescape(t)) for t in X])

    def add(name, score, how, speed=None):
        a, f = acc_f1(gold, three_class(score))
        rows.append((name, pearson(score, gold01), a, f, speed, how))

    add("VADER 3.3.2 compound", V, "as shipped, raw text", rate(vader, texts_fast))
    add("VADER + html.unescape", VU, "&amp;/&lt;3 decoded first", rate(vader_unesc, texts_fast))
    add("TextBlob 0.20 polarity", T, "default PatternAnalyzer", rate(tb, texts_fast))

    # --- things fitted on the set: 10-fold out-of-fold
    kf = KFold(10, shuffle=True, random_state=SEED)

    def oof(feats, model_fn, post=None):
        pred = np.zeros(len(X))
        for tr, te in kf.split(feats):
            m = model_fn().fit(feats[tr], gold01[tr])
            pred[te] = m.predict(feats[te])
        return pred

    # blend w*VADER + (1-w)*TextBlob, w picked per fold on the training folds (grid 0..1 by .05)
    pred = np.zeros(len(X))
    for tr, te in kf.split(X):
        best = max(np.arange(0, 1.001, .05), key=lambda w: pearson(w * VU[tr] + (1 - w) * TU[tr, 0], gold01[tr]))
        pred[te] = best * VU[te] + (1 - best) * TU[te, 0]
    add("blend w*VADER+(1-w)*TextBlob", pred, "w chosen on 9 folds, 10-fold OOF")

    # linear calibration of VADER alone (ridge on compound + unsquashed raw sum)
    F1 = np.c_[VU, np.tanh(unsquash(VU) / 4)]
    add("VADER calibrated (ridge)", oof(F1, lambda: Ridge(1.0)), "ridge on compound, tanh(raw/4); 10-fold OOF")

    # ridge on VADER parts + TextBlob + emoji table
    F2 = np.c_[VU, np.tanh(unsquash(VU) / 4), [d["pos"] for d in VU_full], [d["neg"] for d in VU_full],
               TU[:, 0], TU[:, 1], TU[:, 0] * TU[:, 1], np.tanh(E[:, 0]), VU * TU[:, 0]]
    pr = oof(F2, lambda: Ridge(1.0))
    add("ridge(VADER parts+TextBlob+emoji)", pr, "9 features, 10-fold OOF")

    # stacked: TF-IDF word 1-2 ridge + the lexicon features. alpha chosen by an inner 5-fold CV on the
    # 9 training folds only (nested), so the OOF figure is untouched by tuning.
    F3 = F2[:, [0, 1, 2, 3, 7]]  # VADER parts + emoji only (no TextBlob): faster variant
    for name, F, feat_fn in [("stacked TF-IDF ridge + VADER + TextBlob + emoji", F2, lex_feats_tb),
                             ("stacked TF-IDF ridge + VADER + emoji (no TextBlob)", F3, lex_feats_notb)]:
        pred = np.zeros(len(X)); chosen = []
        for tr, te in kf.split(X):
            inner = KFold(5, shuffle=True, random_state=SEED)
            def cv_r(alpha):
                p = np.zeros(len(tr))
                for a, b in inner.split(tr):
                    m = StackedRidge(alpha).fit([X[i] for i in tr[a]], F[tr[a]], gold01[tr[a]])
                    p[b] = m.predict([X[i] for i in tr[b]], F[tr[b]])
                return pearson(p, gold01[tr])
            best = max([1, 3, 10, 30], key=cv_r); chosen.append(best)
            m = StackedRidge(best).fit([X[i] for i in tr], F[tr], gold01[tr])
            pred[te] = m.predict([X[i] for i in te], F[te])
        full = StackedRidge(int(np.median(chosen))).fit(X, F, gold01)
        sp = rate(lambda t: full.predict_one(t, feat_fn(t)), texts_fast)
        add(name, pred, f"nested CV (alpha per fold {sorted(set(chosen))}), 10-fold OOF", sp)
    return rows, dict(V=V, VU=VU, T=T, F2=F2)


def lex_feats_notb(t):
    t = html.unescape(t); d = sia.polarity_scores(t)
    return np.array([d["compound"], math.tanh(float(unsquash(d["compound"])) / 4), d["pos"], d["neg"],
                     math.tanh(emoji_score(t)[0])])


def lex_feats_tb(t):
    t = html.unescape(t); d = sia.polarity_scores(t); s = TextBlob(t).sentiment
    c = d["compound"]
    return np.array([c, math.tanh(float(unsquash(c)) / 4), d["pos"], d["neg"], s.polarity, s.subjectivity,
                     s.polarity * s.subjectivity, math.tanh(emoji_score(t)[0]), c * s.polarity])


class StackedRidge:
    """Ridge on [TF-IDF word 1-2 (sublinear, min_df 2) | dense lexicon features]."""
    def __init__(self, alpha):
        self.alpha = alpha

    def fit(self, texts, F, y):
        self.v = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                 preprocessor=lambda t: html.unescape(t).lower())
        A = self.v.fit_transform(texts)
        self.m = Ridge(self.alpha).fit(hstack([A, csr_matrix(F)]).tocsr(), y)
        return self

    def predict(self, texts, F):
        return self.m.predict(hstack([self.v.transform(texts), csr_matrix(F)]).tocsr())

    def predict_one(self, text, f):
        return self.predict([text], f[None, :])[0]


def table(rows, _extra=None):
    out = ["| analyzer | Pearson r | 3-class acc | macro-F1 | texts/s (1 core) | how |", "|---|---|---|---|---|---|"]
    for n, r, a, f, s, how in rows:
        out.append(f"| {n} | {r:.3f} | {a:.3f} | {f:.3f} | {'' if s is None else f'{s:,.0f}'} | {how} |")
    return "\n".join(out)


if __name__ == "__main__":
    rows, _ = run()
    print(table(rows))
