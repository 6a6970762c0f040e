"""`vader_fast` must give vaderSentiment 3.3.2's numbers exactly: the English ridge was trained
on them."""

from __future__ import annotations

import random

import pytest

from smcc.analysis.sentiment.english import fast_vader, vader

# vaderSentiment's own examples and tricky sentences, plus cases for each rule it has
SENTENCES = [
    "VADER is smart, handsome, and funny.",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been this good!",
    "With VADER, sentiment analysis is the shit!",
    "On the other hand, VADER is quite bad ass",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "no good no bad no or nor love",
    "good but bad but good, good good bad",
    "kind of great, sort of awful, yeah right",
    "never so happy ??? really?? !!!!!",
    "",
    "   ",
    "😀😀 great",
    "I  ♥  it, ❤️‍🔥 wow",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_fast_vader_equals_vader_on_its_examples(text: str) -> None:
    scores = vader().polarity_scores(text)
    assert fast_vader().polarity(text) == (scores["compound"], scores["pos"], scores["neg"])


def test_fast_vader_equals_vader_on_generated_text() -> None:
    analyzer = vader()
    rng = random.Random(20261123)
    lexicon = sorted(analyzer.lexicon)
    rules = [
        "but",
        "BUT",
        "no",
        "No",
        "not",
        "never",
        "so",
        "this",
        "without",
        "doubt",
        "least",
        "at",
        "very",
        "kind",
        "of",
        "sort",
        "the",
        "shit",
        "bomb",
        "bad",
        "ass",
        "kiss",
        "death",
        "to",
        "die",
        "for",
        "or",
        "nor",
        "isn't",
        "don't",
        "VERY",
        "GOOD",
        "extremely",
        "kinda",
        "yeah",
        "right",
        "!",
        "?",
        "!!",
        "??",
        "???",
        "😀",
        "💘",
        "😁",
        ":)",
        ":D",
        "<3",
        "...",
        "(good)",
        "GREAT",
        "Great!",
        "x",
        "ok",
    ]
    vocabulary = [*rules, *rng.sample(lexicon, 400), "plain", "words", "here"]
    for _ in range(3000):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 14))]
        text = " ".join(words)
        scores = analyzer.polarity_scores(text)
        expected = (scores["compound"], scores["pos"], scores["neg"])
        assert fast_vader().polarity(text) == expected, text
