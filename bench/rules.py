"""Rules benchmark: 200 rules triaging demo mentions on one core.

    python bench/rules.py [--rules 200] [--count 50000] [--runs 5]

The rules are generated deterministically from the demo's own vocabulary: 200 rules with 2-8 words
or phrases each (in en/id/ru/nl), a third of them combined with a sentiment, language, follower,
question or time-of-day condition, a tenth with nested any/not groups, one in twenty with a regex
and one in ten with no word at all (so tested against every mention), and every fifth with
`continue = true`. The mentions are the demo stream's (all categories, four languages) with
language, question and a sentiment score filled in as the analyse stage would, so the rules see
realistic text. Timed: `RuleEngine.triage` over the whole list — fold, match, evaluate, SLA,
explanation JSON, Triage objects — in this one thread. The rate is per second of this process's
CPU time (the machine is shared, so wall time also counts other programs' turns); the wall-clock
rate is printed beside it. The first run fills the engine's outcome cache (mentions that match
alike share one explanation), as the first minutes of a live stream would. Prints each run and
the median.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time

from smcc.config import Config, DemoSourceConfig, Rule, default_config
from smcc.models import Mention, Sentiment, utcnow
from smcc.rules import RuleEngine
from smcc.sources import demo_content
from smcc.sources.demo import DemoCatalog, demo_mentions

SEED = 11


def _vocabulary() -> list[str]:
    """Words and two-word phrases of the demo's templates (placeholders removed)."""
    rng = random.Random(SEED)
    words: set[str] = set()
    phrases: set[str] = set()
    for by_lang in demo_content.TEMPLATES.values():
        for templates in by_lang.values():
            for template in templates:
                text = (
                    template.split(":", 1)[1] if template[:6] in ("telco:", "food:") else template
                )
                tokens = [t.strip(".,!?;:()\"'") for t in text.split() if "{" not in t]
                tokens = [t for t in tokens if len(t) > 2 and t.isalpha()]
                words.update(t.lower() for t in tokens)
                phrases.update(f"{a} {b}".lower() for a, b in itertools.pairwise(tokens))
    vocab = sorted(words) + rng.sample(sorted(phrases), min(len(phrases), 400))
    rng.shuffle(vocab)
    return vocab


def make_rules(count: int, departments: list[str]) -> list[Rule]:
    rng = random.Random(SEED)
    vocab = _vocabulary()
    rules: list[Rule] = []
    for i in range(count):
        when: dict[str, object] = {}
        if i % 10 != 9:
            when["any"] = rng.sample(vocab, rng.randint(2, 8))
        else:
            when["followers_min"] = rng.choice([10_000, 50_000, 200_000])
        roll = rng.random()
        if roll < 0.08:
            when["sentiment_below"] = -0.3
        elif roll < 0.16:
            when["languages"] = [rng.choice(["en", "id", "ru", "nl"])]
        elif roll < 0.24:
            when["is_question"] = True
        elif roll < 0.30:
            when["hours"] = "08:00-20:00"
        elif roll < 0.34:
            when["verified"] = True
        if i % 10 == 3:
            when["none"] = [{"keywords": rng.sample(vocab, 2)}, {"sentiment_above": 0.6}]
        if i % 20 == 7:
            when["regex"] = [r"\b\d{3,}\b"]
        then: dict[str, object] = {
            "tier": rng.choice([1, 2, 2, 3, 3]),
            "department": rng.choice(departments),
            "tags": [f"t{i % 17}"],
            "score": rng.choice([0, 1, 5]),
        }
        rules.append(
            Rule.model_validate(
                {"name": f"r{i:03}", "when": when, "then": then, "continue": i % 5 == 0}
            )
        )
    return rules


def make_mentions(count: int) -> list[Mention]:
    config = default_config()
    catalog = DemoCatalog.build("demo", config.brands, config.competitors, ["en", "id", "ru", "nl"])
    mentions = demo_mentions(SEED, 0, count, catalog, utcnow())
    rng = random.Random(SEED)
    for m in mentions:
        m.is_question = m.text.rstrip().endswith("?")
        m.sentiment = Sentiment(score=round(rng.uniform(-1, 1), 2), label="neutral")
        m.language = m.language or "en"
    return mentions


def engine_for(rule_count: int) -> RuleEngine:
    config: Config = default_config()
    config.sources = {"demo": DemoSourceConfig()}
    rules = make_rules(rule_count, sorted(config.departments))
    return RuleEngine(config.model_copy(update={"rules": rules}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    engine = engine_for(args.rules)
    compiled = time.perf_counter() - started
    mentions = make_mentions(args.count)
    print(
        f"{len(engine.rules)} rules, {len(engine.matcher):,} distinct terms in one automaton, "
        f"compiled in {compiled * 1000:.0f} ms; {len(mentions):,} demo mentions"
    )
    rates = []
    for run in range(1, args.runs + 1):
        for m in mentions:
            m.triage = None
        started, cpu_started = time.perf_counter(), time.process_time()
        engine.triage(mentions)
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - started
        rates.append(len(mentions) / cpu)
        print(
            f"run {run}: {cpu:.3f}s CPU = {rates[-1]:,.0f} mentions/s "
            f"(wall {wall:.3f}s = {len(mentions) / wall:,.0f}/s)",
            flush=True,
        )
    tiers = {t: sum(1 for m in mentions if m.triage and m.triage.tier == t) for t in (1, 2, 3)}
    ruled = sum(1 for m in mentions if m.triage and m.triage.rule != "default")
    print(f"tiers {tiers}; {ruled:,} of {len(mentions):,} decided by a rule")
    print(
        f"median: {statistics.median(rates):,.0f} mentions/s per CPU second, one thread "
        f"({args.rules} rules)"
    )


if __name__ == "__main__":
    main()
