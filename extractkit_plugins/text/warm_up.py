"""Warm-up samples of the text family: English, UTF-8 Japanese and Shift_JIS text.

Extracted once in the isolation template process, they load libmagic and
charset detection there, so every extraction child starts with them warm.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.hookspecs import RegisterSample

JAPANESE = "文書の抽出を準備しています。\n"


@hookimpl
def warm_up(register_sample: RegisterSample) -> None:
    """Register one English and two Japanese text files (UTF-8 and Shift_JIS)."""
    register_sample("warm.txt", b"warm up\n")
    register_sample("warm-ja.txt", JAPANESE.encode("utf-8"))
    register_sample("warm-sjis.txt", JAPANESE.encode("shift_jis"))
