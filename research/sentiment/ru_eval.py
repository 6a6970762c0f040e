"""Russian. Shippable training data: ru_opensentimentcorpus.csv (OSC, CC BY-SA 3.0, news prose).
Evaluation: ru_rusentitweet_train.csv (RuSentiTweet, EVAL ONLY): speech -> neutral, skip dropped.

(a) trained on OSC only, evaluated on all RuSentiTweet rows; hyper-parameters (C) chosen by 5-fold
    CV on OSC only; the lexicon combination weight beta is fixed a priori (1.0) -- nothing tuned on tweets.
(a') for information: beta and a neutral bias chosen on a fixed random half A of RuSentiTweet
    (seed 13), reported on the other half B only. This uses eval-only rows to set two numbers of a
    shipped model; see the note in RESULTS.md.
(b) reference only, NOT shippable: 5-fold CV within RuSentiTweet.
"""
import os, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from common import load_ru_osc, load_ru_tweets, acc_f1, rate, normalise_social, SEED, LABELS
from linmodel import analyze, fit_vectorizer, export, LinearTextModel
from ru_lexicon import lex_score, lex_tokens

HERE = os.path.dirname(os.path.abspath(__file__))
CI = {c: i for i, c in enumerate(LABELS)}


def osc_data(mixed):
    X, y = load_ru_osc()
    Xo, yo = [], []
    for t, l in zip(X, y):
        if l == "mixed":
            if mixed == "drop":
                continue
            if mixed == "neutral":
                l = "neutral"
            elif mixed == "both":          # one copy as positive, one as negative
                Xo += [t, t]; yo += ["positive", "negative"]; continue
        Xo.append(t); yo.append(l)
    return Xo, yo


def feats(texts, word=(1, 2), char=(2, 5), lexfeat=False):
    extra = (lambda t: lex_tokens(t)) if lexfeat else None
    return [analyze(normalise_social(t), word, char, extra) for t in texts]


def decide(D, L, beta=0.0, delta=0.0):
    """D: n x 3 decision values (neg, neu, pos); L: lexicon scores in [-1,1]."""
    D = D.copy()
    D[:, 0] -= beta * L; D[:, 2] += beta * L; D[:, 1] += delta
    return np.array(LABELS)[D.argmax(1)]


def choose_C(Ftr, ytr, cw):
    y = np.array(ytr); best = None
    for C in [1, 3, 10]:
        s = []
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(Ftr, y):
            v, A = fit_vectorizer([Ftr[i] for i in tr])
            m = LogisticRegression(C=C, max_iter=3000, class_weight=cw).fit(A, y[tr])
            s.append(acc_f1(y[te], m.predict(v.transform([Ftr[i] for i in te])))[1])
        if best is None or np.mean(s) > best[1]:
            best = (C, float(np.mean(s)))
    return best


def fit_osc(Ftr, ytr, C, cw):
    v, A = fit_vectorizer(Ftr)
    m = LogisticRegression(C=C, max_iter=3000, class_weight=cw).fit(A, ytr)
    return v, m


def run():
    Xt, yt = load_ru_tweets()
    Lt = np.array([lex_score(t) for t in Xt])
    rows = []
    configs = [
        # name, mixed, class_weight, word, char, lexicon tokens as features, beta (a priori)
        ("baseline LR, mixed dropped", "drop", None, (1, 2), (2, 5), False, 0.0),
        ("+ class_weight balanced", "drop", "balanced", (1, 2), (2, 5), False, 0.0),
        ("balanced, mixed -> neutral", "neutral", "balanced", (1, 2), (2, 5), False, 0.0),
        ("balanced, mixed -> pos+neg copies", "both", "balanced", (1, 2), (2, 5), False, 0.0),
        ("balanced, word 1-2 only", "drop", "balanced", (1, 2), None, False, 0.0),
        ("balanced, char 2-5 only", "drop", "balanced", None, (2, 5), False, 0.0),
        ("balanced + lexicon/emoji tokens as features", "drop", "balanced", (1, 2), (2, 5), True, 0.0),
        ("lexicon/emoji score alone (no classifier)", None, None, None, None, False, None),
        ("balanced + lexicon score added, beta=1 (a priori)", "drop", "balanced", (1, 2), (2, 5), False, 1.0),
        ("balanced + lex tokens + lexicon score, beta=1", "drop", "balanced", (1, 2), (2, 5), True, 1.0),
    ]
    keep = {}
    for name, mixed, cw, w, c, lf, beta in configs:
        if mixed is None:
            pred = np.where(Lt > 0.1, "positive", np.where(Lt < -0.1, "negative", "neutral"))
            a, f = acc_f1(yt, pred)
            rows.append((name, "-", "-", a, f)); continue
        Xo, yo = osc_data(mixed)
        Fo = feats(Xo, w, c, lf)
        C, cvf = choose_C(Fo, yo, cw)
        v, m = fit_osc(Fo, yo, C, cw)
        Ft = feats(Xt, w, c, lf)
        D = m.decision_function(v.transform(Ft))
        D = D[:, [list(m.classes_).index(l) for l in LABELS]]
        a, f = acc_f1(yt, decide(D, Lt, beta))
        rows.append((name, f"C={C}", f"{cvf:.3f}", a, f))
        keep[name] = (D, v, m, C, w, c, lf)
    # (a') beta/delta tuned on half A of the tweets, reported on half B
    rng = np.random.RandomState(SEED); idx = rng.permutation(len(Xt)); A_, B_ = idx[: len(idx) // 2], idx[len(idx) // 2:]
    yt_a = np.array(yt)
    tuned = []
    for name in ["+ class_weight balanced", "balanced + lexicon/emoji tokens as features"]:
        D = keep[name][0]
        grid = [(b, d) for b in [0, .5, 1, 2, 3, 4] for d in [-1, -.5, 0, .5, 1, 1.5]]
        b, d = max(grid, key=lambda g: acc_f1(yt_a[A_], decide(D[A_], Lt[A_], *g))[1])
        a, f = acc_f1(yt_a[B_], decide(D[B_], Lt[B_], b, d))
        a0, f0 = acc_f1(yt_a[B_], decide(D[B_], Lt[B_], 1.0, 0))
        tuned.append((name, b, d, a, f, a0, f0))
    # (b) reference: within-RuSentiTweet 5-fold CV (cannot ship)
    Ft = feats(Xt); y = np.array(yt); pred = np.empty(len(y), dtype=object)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(Ft, y):
        v, Aa = fit_vectorizer([Ft[i] for i in tr])
        m = LogisticRegression(C=10, max_iter=3000, class_weight="balanced").fit(Aa, y[tr])
        pred[te] = m.predict(v.transform([Ft[i] for i in te]))
    ref = acc_f1(y, pred)
    Lp = np.array([lex_score(t) for t in Xt])
    # export the recommended shippable model (OSC only, lexicon tokens + a-priori beta=1)
    D, v, m, C, w, c, lf = keep["balanced + lex tokens + lexicon score, beta=1"]
    os.makedirs(os.path.join(HERE, "models"), exist_ok=True)
    path = os.path.join(HERE, "models", "ru_osc.npz")
    order = [list(m.classes_).index(l) for l in LABELS]
    export(path, v, m.coef_[order], m.intercept_[order], LABELS,
           meta="smcc ru sentiment; trained on OpenSentimentCorpus (Poletaev, Paramonov, Boychuk 2023), "
                "CC BY-SA 3.0; LR balanced; w1-2+c2-5 + lexicon tokens; decision += 1.0*lex_score on pos/neg")
    lm = LinearTextModel(path, w, c, extra=lambda t: lex_tokens(t))

    def ship_predict(t):
        n = normalise_social(t); d = lm.decision(n); L = lex_score(n)
        d[0] -= L; d[2] += L
        return LABELS[max(range(3), key=d.__getitem__)]
    sp = [ship_predict(t) for t in Xt]
    ship = dict(size=os.path.getsize(path), acc_f1=acc_f1(yt, sp), speed=rate(ship_predict, Xt[:2000]),
                vocab=len(v.vocabulary_))
    return rows, tuned, ref, ship, len(Xt)


def table(rows, tuned, ref, ship, n):
    out = [f"(a) trained on OpenSentimentCorpus only (5,961 sentences), evaluated on all {n:,} RuSentiTweet rows "
           "(speech -> neutral, skip dropped). C chosen by 5-fold CV on OSC.", "",
           "| variant | C (OSC CV) | OSC CV macro-F1 | tweets acc | tweets macro-F1 |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} |")
    out += ["", "(a') lexicon weight beta and neutral bias delta tuned on a fixed half A of RuSentiTweet (seed 13), "
            "figures on half B only (uses eval-only rows to pick 2 numbers):", "",
            "| base model | beta | delta | half-B acc | half-B macro-F1 | half-B macro-F1 with a-priori beta=1, delta=0 |", "|---|---|---|---|---|---|"]
    for name, b, d, a, f, a0, f0 in tuned:
        out.append(f"| {name} | {b} | {d} | {a:.3f} | {f:.3f} | {f0:.3f} |")
    out += ["", f"(b) reference, NOT shippable: LR balanced C=10, w1-2+c2-5, 5-fold CV within RuSentiTweet: "
            f"acc {ref[0]:.3f}, macro-F1 {ref[1]:.3f}.", "",
            f"Exported `models/ru_osc.npz` (OSC only, lexicon tokens + beta=1): {ship['vocab']:,} features, "
            f"{ship['size']/1e6:.2f} MB; pure-Python scorer on RuSentiTweet acc {ship['acc_f1'][0]:.3f}, "
            f"macro-F1 {ship['acc_f1'][1]:.3f}; {ship['speed']:,.0f} texts/s incl. normalisation + lexicon (1 core)."]
    return "\n".join(out)


if __name__ == "__main__":
    t0 = time.time()
    print(table(*run()))
    print(f"({time.time()-t0:.0f}s)")
