"""`smcc eval sentiment` and `smcc train sentiment` (registered by smcc.cli)."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from smcc.analysis.sentiment.evaluate import EvalResult

EXIT_PROBLEM = 1
EXIT_USAGE = 2

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _fail(message: str, code: int = EXIT_PROBLEM) -> NoReturn:
    err.print(Text(f"smcc: {message}", style="red"))
    sys.exit(code)


def _data_dir(data: Path | None) -> Path:
    from smcc.analysis.sentiment.datasets import default_data_dir

    if data is not None:
        if not data.is_dir():
            _fail(f"--data {data}: no such folder", EXIT_USAGE)
        return data
    found = default_data_dir()
    if found is not None and not found.is_dir():
        _fail(f"$SMCC_DATA {found}: no such folder", EXIT_USAGE)
    if found is None:
        _fail(
            "no data folder: $SMCC_DATA is unset and ../shared/data exists neither beside the "
            "current directory nor beside the project root; pass --data DIR",
            EXIT_USAGE,
        )
    return found


DATA_OPTION = click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the labelled sets (or its sentiment/ subfolder). "
    "Default: $SMCC_DATA, else ../shared/data from the current directory or the project root.",
)


@click.command("sentiment")
@DATA_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def eval_sentiment(data: Path | None, as_json: bool) -> None:
    """Measure each sentiment analyzer on the labelled sets it never trained on.

    Per data set and analyzer: rows, accuracy, macro-F1, and Pearson r for the rated English set.
    A missing data set is skipped with a message.
    """
    from smcc.analysis.sentiment.datasets import DatasetError
    from smcc.analysis.sentiment.evaluate import plan, run_suite
    from smcc.analysis.sentiment.linear import ModelFileError

    folder = _data_dir(data)
    try:
        runs, skipped = plan(folder)
    except DatasetError as exc:
        _fail(str(exc))
    for message in skipped:
        err.print(Text(f"smcc: {message}"))
    if not runs:
        _fail(f"no sentiment data set found in {folder}")
    results: list[EvalResult] = []
    show_progress = not as_json and err.is_terminal
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not show_progress,
            transient=True,
        ) as progress:
            for suite, examples in runs:
                task = progress.add_task(f"{suite.dataset} ({suite.rows})", total=len(examples))
                advance = functools.partial(progress.advance, task)
                results.append(run_suite(suite, examples, advance))
    except ModelFileError as exc:
        _fail(str(exc))
    if as_json:
        payload = {
            "data": str(folder),
            "results": [r.to_json() for r in results],
            "skipped": skipped,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    _print_results(folder, results)


def _print_results(folder: Path, results: list[EvalResult]) -> None:
    # Piped into a file the table keeps its full width; on a narrow terminal the notes on which
    # rows were measured go below the table instead of wrapping every row.
    console = out if out.is_terminal else Console(highlight=False, width=150)
    wide = console.width >= 140
    table = Table(title=f"Sentiment on {folder}", title_justify="left")
    if wide:
        table.add_column("data set")
        table.add_column("analyzer")
    else:
        table.add_column(Text("data set [note] / analyzer"), overflow="fold")
    for name in ("rows", "accuracy", "macro-F1", "Pearson r"):
        table.add_column(name, justify="right", no_wrap=True)
    if wide:
        table.add_column("rows measured")
    for number, r in enumerate(results, 1):
        figures = [
            f"{r.rows:,}",
            f"{r.accuracy:.3f}",
            f"{r.macro_f1:.3f}",
            "" if r.pearson_r is None else f"{r.pearson_r:.3f}",
        ]
        if wide:
            table.add_row(Text(r.dataset), Text(r.analyzer), *figures, Text(r.note))
        else:
            label = Text(f"{r.dataset} [{number}]\n")
            label.append(r.analyzer, style="dim")
            table.add_row(label, *figures)
    console.print(table)
    if not wide:
        for number, r in enumerate(results, 1):
            console.print(Text(f"[{number}] {r.note}"))


@click.command("sentiment")
@DATA_OPTION
@click.option(
    "--lang",
    "languages",
    type=click.Choice(["en", "id", "ru"]),
    multiple=True,
    help="Only this language (repeatable; default: en, id and ru). Dutch has nothing to train.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the model files here instead of into the installed package.",
)
def train_sentiment(data: Path | None, languages: tuple[str, ...], out_dir: Path | None) -> None:
    """Retrain the shipped sentiment models reproducibly and print their CV figures.

    Needs the `train` extra (scikit-learn). The same data gives the same files, byte for byte.
    """
    from smcc.analysis.sentiment.datasets import DatasetError
    from smcc.analysis.sentiment.linear import MODELS_DIR
    from smcc.analysis.sentiment.train import LANGUAGES, TRAINERS, TrainingUnavailable

    folder = _data_dir(data)
    target = out_dir or MODELS_DIR
    for language in languages or LANGUAGES:
        err.print(Text(f"training {language} …"))
        try:
            report = TRAINERS[language](folder, target)
        except (TrainingUnavailable, DatasetError) as exc:
            _fail(str(exc))
        table = Table(title=f"{language}: {report.path} ({report.size / 1e3:,.0f} kB)")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for name, value in report.figures:
            table.add_row(Text(name), f"{value:.4f}")
        out.print(table)
        for note in report.notes:
            out.print(Text(f"{language}: {report.rows:,} training rows; {note}"))
