"""Minimal stand-in for B1's cockpit/text.py (same signature); the lead keeps B1's version."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: str, multiline: bool = False) -> str:
    """Strip C0/C1 control characters (ESC, BEL, DEL ...), keeping tab, and newlines when multiline."""
    return (_CONTROL if multiline else _CONTROL_ONE_LINE).sub("", str(text))
