"""Untrusted text made safe for a terminal (placeholder with B1's signature; B1's module replaces it)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean(text: str, multiline: bool = False) -> str:
    """Strip C0/C1 control characters, ESC, BEL and DEL; keep tab (and newline when multiline)."""
    return (_CONTROL if multiline else _CONTROL_ONE_LINE).sub("", str(text))
