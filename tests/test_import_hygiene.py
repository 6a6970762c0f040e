"""The core never imports Textual: it must run headless (ingest, CLI, tests) and stay light."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "smcc.models",
    "smcc.config",
    "smcc.store",
    "smcc.sources",
    "smcc.analysis.analyzer",
    "smcc.pipeline",
    "smcc.cli",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module: str) -> None:
    # A fresh interpreter: in this one, another test may already have imported textual.
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
