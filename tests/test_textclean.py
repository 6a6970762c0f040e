"""Untrusted text cannot drive the terminal: escapes, controls and bidi overrides are removed."""

from __future__ import annotations

import pytest

from smcc.textclean import clean_text, one_line, valid_unicode


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("red \x1b[31malert\x1b[0m", "red alert"),  # CSI colour
        ("clear\x1b[2J\x1b[H screen", "clear screen"),  # CSI erase + cursor home
        ("title\x1b]0;owned\x07 set", "title set"),  # OSC ended by BEL
        ("link \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\", "link here"),  # OSC 8, ST
        ("c1 \x9b31mcsi", "c1 csi"),  # 8-bit CSI
        ("dcs \x1bPq#0;2;0;0;0\x1b\\ end", "dcs  end"),  # DCS (sixel) up to ST
        ("bell\x07 and nul\x00", "bell and nul"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),  # kept: they are text
        ("cr\r\nlf", "cr\nlf"),
        ("\u202egnp.exe", "gnp.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("iso\u2066late\u2069d", "isolated"),
        ("e\u0301", "é"),  # NFC
        ("Привет, мир 👋", "Привет, мир 👋"),
        ("  padded  ", "padded"),
        ("half \ud800 pair \udfff", "half \ufffd pair \ufffd"),  # lone surrogates (JSON escapes)
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_one_line_flattens_and_cuts() -> None:
    assert one_line("a\n b\t\tc") == "a b c"
    assert one_line("abcdefghij", width=5) == "abcd…"
    assert one_line("abc", width=5) == "abc"


def test_valid_unicode_replaces_only_lone_surrogates() -> None:
    assert valid_unicode("ascii [bold]\x1b") == "ascii [bold]\x1b"
    assert valid_unicode("a\udc00b 😀 \u200b") == "a\ufffdb 😀 \u200b"
    valid_unicode("x\ud800").encode("utf-8")  # storable
