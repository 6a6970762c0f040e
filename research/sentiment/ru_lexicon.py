"""Hand-written Russian sentiment stems for social text (written for smcc from scratch; no
third-party lexicon copied). Prefix match on lower-cased tokens; a preceding не/ни/нет flips."""
import re
from emoji_table import emoji_score

POS = """хорош отличн прекрасн замечательн чудесн великолепн восхитит шикарн потрясающ офигенн
любл любим любов обожа нрав понрав спасибо спасиб благодар рад рада рады радост радуе счаст класс клев круто крутой
крутая супер ура красив красот милый милая милое милые милота мило милаш няш лучш восторг кайф прикольн весел смешн удач побед поздравл
умниц молодец добр приятн интересн успех улыб тепл праздн ахах хаха хах лол кек вау ого ничоси
идеальн уютн вкусн ура обним целу поцел счастье""".split()
NEG = """плох ужас кошмар ненави бесит бесишь беси злит злюсь злой злая злые груст печаль жаль жалко
скучн скуча устал болит больно болезн страшн страх боюсь боятся обид дерьм хрен блин бля черт чёрт сука
сучк туп дебил идиот отврат мерз гадк говн хуже худш проблем ошибк провал позор умер умира смерт
слез плач плак пиздец пизд нахуй хуйн хуев заебал ебан достал надоел разочар жалк сломал увы тоск
одинок депресс кризис убий убит катастроф беда несчаст ужасн тревог волну нерв раздража бред фигн
ненормальн стыд кринж отстой мрак ад жесть обман ложь врут врать""".split()
NEGATORS = {"не", "ни", "нет", "без"}
_POL = {**{w: -1 for w in NEG}, **{w: 1 for w in POS}}
_MAXLEN = max(map(len, _POL))
_TOK = re.compile(r"[а-яё]+")


def lex_counts(text):
    """(positive hits, negative hits) of word stems (stems of <= 3 letters match whole words only),
    negation-aware."""
    toks = _TOK.findall(text.lower().replace("ё", "е"))
    p = n = 0
    for i, t in enumerate(toks):
        pol = 0
        pol = _POL.get(t, 0) if len(t) <= 3 else 0
        if not pol:
            for k in range(4, min(len(t), _MAXLEN) + 1):
                pol = _POL.get(t[:k], 0)
                if pol:
                    break
        if pol and i and toks[i - 1] in NEGATORS:
            pol = -pol
        if pol > 0: p += 1
        elif pol < 0: n += 1
    return p, n


def lex_score(text, use_words=True, use_emoji=True):
    """Lexicon polarity in [-1, 1] (0 when nothing matched)."""
    s = 0.0
    if use_words:
        p, n = lex_counts(text); s += 0.6 * (p - n)
    if use_emoji:
        s += emoji_score(text)[0]
    return s / (abs(s) + 0.6) if s else 0.0


def lex_tokens(text, use_words=True, use_emoji=True):
    out = []
    if use_words:
        p, n = lex_counts(text); out += ["Lpos"] * p + ["Lneg"] * n
    if use_emoji:
        s, k = emoji_score(text)
        if k:
            out.append("Epos" if s > 0 else "Eneg" if s < 0 else "Eneu")
    return out
