"""A small, hand-written, language-independent emoji/emoticon polarity table (values in [-1, 1]).

Written for smcc from scratch (no third-party list copied), so it can ship under the project's
own licence. Ambiguous signs (😭, 😂, 🙏, 😅) get small or zero weights on purpose.
"""
import re

EMOJI = {
    # clearly positive
    "😀": .7, "😃": .7, "😄": .7, "😁": .7, "😆": .6, "😊": .7, "☺": .6, "🙂": .4, "😉": .4,
    "😍": .9, "🥰": .9, "😘": .7, "😗": .4, "😙": .4, "😚": .5, "🤗": .6, "🤩": .8, "😎": .5,
    "😇": .6, "🥳": .8, "😋": .6, "😌": .4, "🤤": .3, "😻": .8, "😸": .6, "😹": .5, "😺": .6,
    "❤": .8, "♥": .7, "💕": .8, "💖": .8, "💗": .8, "💓": .8, "💞": .8, "💘": .7, "💝": .7,
    "💙": .7, "💚": .7, "💛": .7, "💜": .7, "🧡": .7, "🤍": .6, "🖤": .3, "💋": .5, "😽": .6,
    "👍": .6, "👏": .6, "🙌": .6, "👌": .5, "✌": .4, "🤝": .4, "💪": .5, "🔥": .4, "✨": .4,
    "🌟": .5, "⭐": .4, "🎉": .7, "🎊": .7, "🥂": .5, "🍾": .5, "🏆": .6, "🥇": .6, "💯": .6,
    "✅": .4, "🌸": .4, "🌹": .4, "🌺": .4, "🌷": .4, "💐": .5, "🌈": .4, "☀": .3, "🌞": .4,
    "😂": .3, "🤣": .3, "😅": .1, "🙏": .3, "🤞": .3, "😏": .1, "🥺": -.1, "😭": -.1,
    # clearly negative
    "😞": -.6, "😔": -.6, "😟": -.5, "😕": -.4, "🙁": -.5, "☹": -.6, "😣": -.5, "😖": -.6,
    "😫": -.6, "😩": -.6, "😢": -.6, "😥": -.5, "😓": -.4, "😪": -.3, "😰": -.6, "😨": -.6,
    "😱": -.5, "😧": -.5, "😦": -.4, "😠": -.8, "😡": -.9, "🤬": -.9, "👿": -.7, "😤": -.5,
    "😒": -.6, "🙄": -.5, "😑": -.3, "😐": -.2, "😶": -.1, "🤢": -.7, "🤮": -.8, "😷": -.3,
    "🤒": -.4, "🤕": -.4, "💔": -.7, "👎": -.7, "😿": -.6, "😾": -.6, "💩": -.6, "🖕": -.8,
    "❌": -.4, "⛔": -.4, "🚫": -.4, "⚠": -.3, "😬": -.3, "🤦": -.5, "🤡": -.4, "🤯": -.2,
    "😮": 0.0, "😳": -.1, "🤔": -.1, "😴": -.1, "💀": -.1,
}

# ASCII and text emoticons (matched as whole tokens, case-sensitive where it matters)
EMOTICONS = {
    ":)": .6, ":-)": .6, ":))": .7, ":)))": .7, "(:": .5, "=)": .5, ":]": .5, ":d": .7, ":-d": .7,
    "xd": .5, ";)": .4, ";-)": .4, ":p": .3, ":-p": .3, "<3": .7, "^^": .5, "^_^": .6, ":3": .5,
    ":(": -.6, ":-(": -.6, ":((": -.7, ":(((": -.7, "):": -.5, ":'(": -.6, ":/": -.3, ":-/": -.3,
    ":|": -.2, ">:(": -.8, "d:": -.5, "</3": -.7, "-_-": -.4,
    # Russian bracket smileys: ")" ")))" "((" written without eyes
    ")))": .6, "))": .5, "(((": -.6, "((": -.5,
}

_EMO_TOKEN = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(k) for k in sorted(EMOTICONS, key=len, reverse=True)) + r")+(?=\s|$)", re.I)
_BRACKETS = re.compile(r"(\){2,}|\({2,})")


def emoji_score(text):
    """Return (sum of polarities, number of hits). Emoji matched anywhere; emoticons as tokens;
    runs of ')' / '(' (Russian-style) anywhere at a word end."""
    s = 0.0; n = 0
    for ch in text:
        v = EMOJI.get(ch)
        if v is not None:
            s += v; n += 1
    for tok in text.lower().split():
        v = EMOTICONS.get(tok)
        if v is not None:
            s += v; n += 1
        elif len(tok) > 2 and (tok.endswith("))") or tok.endswith("((")) and not tok.startswith(("(", ":")):
            s += .5 if tok.endswith("))") else -.5; n += 1   # "спасибо))" / "жаль(("
    return s, n


def emoji_polarity(text):
    """Squashed to [-1, 1]; None when the text has no emoji/emoticon."""
    s, n = emoji_score(text)
    if n == 0:
        return None
    return max(-1.0, min(1.0, s / (abs(s) + 0.5) if s else 0.0))
