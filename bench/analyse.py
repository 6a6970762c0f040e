"""Analyse-stage benchmark: language + sentiment + signals on demo mentions, one core.

    python bench/analyse.py [--count 40000] [--runs 3] [--data DIR]

Each trial runs in a fresh process (so caches start cold), builds `--count` demo mentions (the
en/id/ru/nl mix of `smcc.sources.demo`, seed 7), loads the models (timed separately, not counted),
then times `MentionAnalyzer.analyse` (brand, language detection, sentiment, question, influence:
exactly what the pipeline's analyse stage runs) in CPU seconds of the process, over the whole mix
in pipeline-sized batches,
and then over each language's mentions alone. It also times sentiment alone per language.

The demo repeats its templates, which flatters anything that remembers what it saw (the linear
models keep each word's character n-gram terms in an LRU cache, the Russian lexicon each word's
polarity). So each trial also times the stage on real posts that never repeat: the human-labelled
sets in the team's data folder (`--data`, default as for `smcc eval sentiment`; read in place),
English, Indonesian, Russian and Dutch interleaved, each post once. Prints each trial and the
medians.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.sentiment import datasets
from smcc.config import default_config
from smcc.models import Mention, utcnow
from smcc.sources.demo import DemoCatalog, demo_mentions

SEED = 7
LANGUAGES = ("en", "id", "ru", "nl")


def _rate(count: int, func: Callable[[], object]) -> float:
    """Items per CPU-second of this process for one call of `func` over `count` items.

    CPU time, not wall time: the machines this runs on are shared, and time spent waiting for a
    core while another job runs is not a cost of the analyse stage. The wall-clock rate of the
    demo mix is printed too.
    """
    gc.collect()  # not the garbage of what ran before (the first row measured paid for it)
    started = time.process_time()
    func()
    return count / (time.process_time() - started)


REAL_SETS = (
    datasets.EN_TWEETS,
    datasets.ID_VALID,
    datasets.RU_TWEETS,
    datasets.NL_TWEETS,
)


def real_texts(data: Path | None) -> list[str]:
    """The posts of REAL_SETS, interleaved (one of each set in turn), each distinct post once."""
    if data is None:
        return []
    sets = [[e.text for e in datasets.load(data, name) or []] for name in REAL_SETS]
    mixed = [text for group in itertools.zip_longest(*sets) for text in group if text]
    return list(dict.fromkeys(mixed))


def trial(count: int, data: Path | None) -> dict[str, Any]:
    config = default_config()
    catalog = DemoCatalog.build("demo", config.brands, config.competitors, list(LANGUAGES))
    mentions = demo_mentions(SEED, 0, count, catalog, utcnow())
    batch = config.pipeline.batch_size
    analyzer = MentionAnalyzer(config.analysis.languages, config.brands, config.competitors)
    started = time.perf_counter()
    analyzer.detector.load()
    analyzer.sentiment.load(LANGUAGES)
    loading = time.perf_counter() - started

    def analyse_all(items: list[Mention]) -> None:
        for i in range(0, len(items), batch):
            analyzer.analyse(items[i : i + batch])

    def sentiment_only(items: list[Mention], language: str) -> None:
        route = analyzer.sentiment.analyse
        for m in items:
            route(m.text, language)

    result: dict[str, Any] = {"count": count, "load_seconds": loading}
    wall = time.perf_counter()
    result["mix"] = _rate(count, functools.partial(analyse_all, mentions))
    result["mix_wall"] = count / (time.perf_counter() - wall)
    # Per language, on a fresh copy of the same mentions, grouped by the language the demo wrote
    # (the detector's answer is what the stage stores). Caches are warm from the mix by now.
    fresh = demo_mentions(SEED, 0, count, catalog, utcnow())
    by_language = {lang: [m for m in fresh if m.language == lang] for lang in LANGUAGES}
    result["share"] = {lang: len(items) / count for lang, items in by_language.items()}
    result["stage"] = {
        lang: _rate(len(items), functools.partial(analyse_all, items))
        for lang, items in by_language.items()
    }
    result["sentiment"] = {
        lang: _rate(len(items), functools.partial(sentiment_only, items, lang))
        for lang, items in by_language.items()
    }
    texts = real_texts(data)
    result["real_count"] = len(texts)
    if texts:

        def analyse_texts() -> None:
            for i in range(0, len(texts), batch):
                chunk = texts[i : i + batch]
                analyzer.results(chunk, [None] * len(chunk))

        wall = time.perf_counter()
        result["real"] = _rate(len(texts), analyse_texts)
        result["real_wall"] = len(texts) / (time.perf_counter() - wall)
    return result


def run_trial(count: int, data: Path | None) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--trial",
            "--count",
            str(count),
            *(["--data", str(data)] if data else []),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"trial failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, help="the team's data folder (real posts)")
    parser.add_argument("--trial", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trial:
        print(json.dumps(trial(args.count, args.data)))
        return
    data = args.data or datasets.default_data_dir()
    if data is None:
        print("no data folder (--data): the real-text figure is left out", flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        r = run_trial(args.count, data)
        runs.append(r)
        per_lang = ", ".join(f"{lang} {r['stage'][lang]:,.0f}" for lang in LANGUAGES)
        print(
            f"run {number}: demo mix {r['mix']:,.0f} mentions/s "
            f"(wall clock {r['mix_wall']:,.0f}/s); per language {per_lang}; "
            f"models loaded in {r['load_seconds']:.2f}s"
            + (
                f"; real posts {r['real']:,.0f}/s (wall clock {r['real_wall']:,.0f}/s)"
                if "real" in r
                else ""
            ),
            flush=True,
        )

    def median(key: str, lang: str | None = None) -> float:
        return float(statistics.median(r[key] if lang is None else r[key][lang] for r in runs))

    print(
        f"medians of {len(runs)} runs, {args.count:,} demo mentions each, "
        "per CPU-second of one core:"
    )
    print(f"  {'':4} {'share':>6} {'analyse stage/s':>16} {'sentiment alone/s':>18}")
    for lang in LANGUAGES:
        print(
            f"  {lang:4} {runs[0]['share'][lang]:6.1%} {median('stage', lang):16,.0f} "
            f"{median('sentiment', lang):18,.0f}"
        )
    print(
        f"  demo mix: {median('mix'):,.0f} mentions/s through the analyse stage "
        f"(wall clock {median('mix_wall'):,.0f}/s; caches start cold)"
    )
    if all("real" in r for r in runs):
        print(
            f"  real posts: {median('real'):,.0f} mentions/s through the analyse stage "
            f"(wall clock {median('real_wall'):,.0f}/s; {runs[0]['real_count']:,} distinct posts "
            f"of {', '.join(REAL_SETS)}, each once)"
        )
    print(f"  loading the language and sentiment models: {median('load_seconds'):.2f}s")


if __name__ == "__main__":
    main()
