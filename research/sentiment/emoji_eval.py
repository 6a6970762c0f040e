"""Does the shared emoji/emoticon table help? Coverage and ablations per language (seed 13).
ru: OSC-trained LR (balanced, C=3, w1-2+c2-5, mixed dropped), emoji-only score added with beta=1
(a priori), on all RuSentiTweet rows and on the rows that contain an emoji/emoticon.
id/nl: coverage (and nl_eval.py holds the nl ablation)."""
import numpy as np
from sklearn.linear_model import LogisticRegression
from common import load_ru_tweets, load_id, load_nl, acc_f1, LABELS
from linmodel import fit_vectorizer
from emoji_table import emoji_score
from ru_lexicon import lex_score
from ru_eval import osc_data, feats, decide


def run():
    out = []
    Xi = load_id("train")[0] + load_id("valid")[0]
    out.append(("id SmSA train+valid", len(Xi), sum(1 for t in Xi if emoji_score(t)[1]), "-", "-", "-"))
    Xn = load_nl()[0]
    out.append(("nl political tweets", len(Xn), sum(1 for t in Xn if emoji_score(t)[1]), "see nl table", "", ""))
    Xt, yt = load_ru_tweets(); yt = np.array(yt)
    Xo, yo = osc_data("drop")
    v, A = fit_vectorizer(feats(Xo))
    m = LogisticRegression(C=3, max_iter=3000, class_weight="balanced").fit(A, yo)
    D = m.decision_function(v.transform(feats(Xt)))[:, [list(m.classes_).index(l) for l in LABELS]]
    Le = np.array([lex_score(t, use_words=False) for t in Xt])
    has = np.array([emoji_score(t)[1] > 0 for t in Xt])
    f0 = acc_f1(yt, decide(D, Le, 0))[1]; f1 = acc_f1(yt, decide(D, Le, 1.0))[1]
    g0 = acc_f1(yt[has], decide(D[has], Le[has], 0))[1]; g1 = acc_f1(yt[has], decide(D[has], Le[has], 1.0))[1]
    out.append(("ru RuSentiTweet (OSC model)", len(Xt), int(has.sum()), f"{f0:.3f} -> {f1:.3f}", f"{g0:.3f} -> {g1:.3f}", "beta=1 a priori"))
    return out


def table(rows):
    o = ["| set | rows | rows with emoji/emoticon | macro-F1 all rows: without -> with emoji | macro-F1 emoji rows only | note |",
         "|---|---|---|---|---|---|"]
    for r in rows:
        o.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(o)


if __name__ == "__main__":
    print(table(run()))
