"""Keep a developer's real state out of the tests: the console remembers its layout under
$XDG_STATE_HOME, which every test (and every process it starts) gets in its own tmp dir."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
