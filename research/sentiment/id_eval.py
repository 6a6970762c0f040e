"""Indonesian: train on id_smsa_train.tsv, choose model by 5-fold CV on train (seed 13), fit the
chosen config on all of train, evaluate ONCE per candidate on id_smsa_valid.tsv (never used for
fitting or selection; the valid column for non-selected candidates is shown for information)."""
import os, time
import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.svm import LinearSVC
from sklearn.naive_bayes import ComplementNB
from sklearn.model_selection import StratifiedKFold
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from common import load_id, acc_f1, rate, normalise_social, SEED, LABELS
from linmodel import analyze, fit_vectorizer, export, LinearTextModel
from emoji_table import emoji_score

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")


def emo_tokens(text):
    s, n = emoji_score(text)
    return [] if n == 0 else (["Epos"] if s > 0 else ["Eneg"] if s < 0 else [])


CANDIDATES = {
    "LR C=10": lambda: LogisticRegression(C=10, max_iter=3000),
    "LR C=30": lambda: LogisticRegression(C=30, max_iter=3000),
    "LR C=10 balanced": lambda: LogisticRegression(C=10, max_iter=3000, class_weight="balanced"),
    "LinearSVC C=0.3": lambda: LinearSVC(C=0.3),
    "LinearSVC C=1": lambda: LinearSVC(C=1.0),
    "LinearSVC C=0.3 balanced": lambda: LinearSVC(C=0.3, class_weight="balanced"),
    "SGD modified_huber": lambda: SGDClassifier(loss="modified_huber", alpha=2e-5, max_iter=50, random_state=SEED),
    "ComplementNB a=0.3": lambda: ComplementNB(alpha=0.3),
}


def cv_score(feats, y, make, min_df=2, max_features=None, k=5):
    y = np.array(y); scores = []
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=SEED).split(feats, y):
        v, A = fit_vectorizer([feats[i] for i in tr], min_df, max_features)
        m = make().fit(A, y[tr])
        scores.append(acc_f1(y[te], m.predict(v.transform([feats[i] for i in te])))[1])
    return float(np.mean(scores))


def run(quick=False):
    Xtr, ytr = load_id("train"); Xva, yva = load_id("valid")

    rows = []
    FEATS = {"w1-2+c2-5": dict(word=(1, 2), char=(2, 5)), "w1-2": dict(word=(1, 2), char=None),
             "w1-3": dict(word=(1, 3), char=None)}
    cache = {k: ([analyze(t, **kw) for t in Xtr], [analyze(t, **kw) for t in Xva]) for k, kw in FEATS.items()}
    # 1) feature set x classifier by 5-fold CV on train only
    cv = {}
    for fk, (ftr, fva) in cache.items():
        for name, make in CANDIDATES.items():
            if fk != "w1-2+c2-5" and name not in ("LR C=10", "LinearSVC C=0.3", "LinearSVC C=1", "LinearSVC C=0.3 balanced", "ComplementNB a=0.3"):
                continue
            cv[(fk, name)] = cv_score(ftr, ytr, make)
            v, A = fit_vectorizer(ftr)
            m = make().fit(A, ytr)
            a, f = acc_f1(yva, m.predict(v.transform(fva)))
            rows.append(("select", name, fk + ", min_df 2", len(v.vocabulary_), cv[(fk, name)], a, f))
    bestf, best = max(cv, key=cv.get)
    ftr, fva = cache[bestf]
    # 2) size: vocabulary cap for the chosen config
    sizes = [(None, cv[(bestf, best)])]
    for mf in [10000, 20000, 40000]:
        c = cv_score(ftr, ytr, CANDIDATES[best], max_features=mf)
        v, A = fit_vectorizer(ftr, max_features=mf)
        m = CANDIDATES[best]().fit(A, ytr)
        a, f = acc_f1(yva, m.predict(v.transform(fva)))
        rows.append(("size", best, f"{bestf}, max_features {mf}", mf, c, a, f)); sizes.append((mf, c))
    # hashing variant of the char+word config (no vocabulary to ship: 2^18 x 3 weights)
    hv = HashingVectorizer(analyzer=lambda x: x, n_features=2 ** 18, alternate_sign=False, norm=None)
    tt = TfidfTransformer(sublinear_tf=True)
    hf_tr, hf_va = cache["w1-2+c2-5"]
    Htr = tt.fit_transform(hv.transform(hf_tr)); Hva = tt.transform(hv.transform(hf_va))
    m = CANDIDATES[best]().fit(Htr, ytr)
    a, f = acc_f1(yva, m.predict(Hva))
    rows.append(("size", best, "w1-2+c2-5 hashing 2^18 (needs murmurhash at inference)", 2 ** 18, float("nan"), a, f))
    # emoji pseudo-tokens (SmSA has almost no emoji, so this can only show no harm)
    n_emo = sum(1 for t in Xtr + Xva if emoji_score(t)[1])
    # 3) the shipped artefact: best family, vocab cap with CV within 0.005 of the best CV, pure-Python scorer
    best_cv = max(c for _, c in sizes)
    ok = [m_ for m_, c in sizes if c >= best_cv - 0.003]
    mf = min([m_ for m_ in ok if m_ is not None] or [None])
    v, A = fit_vectorizer(ftr, max_features=mf)
    m = CANDIDATES[best]().fit(A, ytr)
    os.makedirs(MODELS, exist_ok=True)
    path = os.path.join(MODELS, "id_smsa.npz")
    export(path, v, m.coef_, m.intercept_, m.classes_,
           meta=f"smcc id sentiment; trained on IndoNLU SmSA train (Apache-2.0, Prosa.ai); {best}; {bestf}; max_features {mf}")
    kw = FEATS[bestf]
    lm = LinearTextModel(path, **kw)
    pred = [lm.predict(t) for t in Xva]
    a, f = acc_f1(yva, pred)
    ship = dict(config=f"{best}, {bestf}, max_features {mf}", size=os.path.getsize(path), acc=a, f1=f,
                speed=rate(lm.predict, Xva), n_emoji_texts=n_emo,
                sklearn_agree=float(np.mean(np.array(pred) == m.predict(v.transform(fva)))))
    # same pure-Python model applied to raw-looking text (normalise_social is idempotent on SmSA)
    ship["speed_with_normalise"] = rate(lambda t: lm.predict(normalise_social(t)), Xva)
    ship["f1_with_normalise"] = acc_f1(yva, [lm.predict(normalise_social(t)) for t in Xva])[1]
    return rows, (bestf, best), ship


def table(rows, best, ship):
    out = ["| step | classifier | features | vocab | CV macro-F1 (train, 5-fold) | valid acc | valid macro-F1 |",
           "|---|---|---|---|---|---|---|"]
    for st, n, feat, V, c, a, f in rows:
        out.append(f"| {st} | {n}{' **(chosen by CV)**' if (feat.split(',')[0], n) == best and st == 'select' else ''} | {feat} | {V:,} | {c:.3f} | {a:.3f} | {f:.3f} |")
    out.append("")
    out.append(f"Shipped artefact `models/id_smsa.npz`: {ship['config']}; {ship['size']/1e6:.2f} MB on disk "
               f"(vocab utf-8 + float16 idf/coef, np.savez_compressed); pure-Python scorer on valid: "
               f"acc {ship['acc']:.3f}, macro-F1 {ship['f1']:.3f}, agreement with sklearn float32 model {ship['sklearn_agree']:.4f}; "
               f"{ship['speed']:,.0f} texts/s (1 core; valid texts avg ~{sum(len(t) for t in load_id('valid')[0])//1260} chars), "
               f"{ship['speed_with_normalise']:,.0f} texts/s including normalise_social() (macro-F1 then {ship['f1_with_normalise']:.3f}). "
               f"Texts with any emoji/emoticon in SmSA train+valid: {ship['n_emoji_texts']}.")
    return "\n".join(out)


if __name__ == "__main__":
    t0 = time.time()
    r = run()
    print(table(*r))
    print(f"({time.time()-t0:.0f}s)")
