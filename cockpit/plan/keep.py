"""Contradictions the plan carries: a code-rollback note says "Keep X table" while the
same phase's rollback SQL drops X.

The rule is explicit so it can be tested and explained to an operator:

  * the note is a `manual` step's title that starts with "Keep" and names a "table",
    "tables", "column" or "columns" (so "Keep dashboard UI files" keeps no table);
  * the words between "Keep" and that noun (lower-cased, split on anything that is not a
    letter or digit, backticks and underscores included) must *all* be words of the
    table's name (split on "_"), a word matching its singular or plural form; for a
    column, words of the column's and its table's names count.

"Keep OEM scan rules table" -> {oem, scan, rules} ⊆ words(oem_scan_rule) -> oem_scan_rule.
"Keep cache tables" -> {cache} -> every table with "cache" in its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NOUNS = {"table": "table", "tables": "table", "column": "column", "columns": "column"}
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _forms(word: str) -> set[str]:
    """A word and its singular/plural forms (rules <-> rule, caches <-> cache, policy <-> policies)."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


def kept_subject(note: str) -> tuple[tuple[str, ...], str] | None:
    """The words a "Keep ..." note names and whether it names tables or columns, or None
    when the note keeps no table or column."""
    words = _words(note.split("(", 1)[0])
    if not words or words[0] != "keep":
        return None
    for index, word in enumerate(words[1:], start=1):
        if word in NOUNS:
            subject = tuple(words[1:index])
            return (subject, NOUNS[word]) if subject else None
    return None


def _covers(subject: Iterable[str], name_words: Iterable[str]) -> bool:
    have = set(name_words)
    return all(_forms(word) & have for word in subject)


def kept_by_notes(notes: Iterable[str], tables: Iterable[str],
                  columns: Iterable[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """(name, note) for each table (or "table.column") that a note says to keep, in the
    order the tables are given. `tables` are the tables a step destroys, `columns` the
    (table, column) pairs it drops."""
    tables = tuple(tables)
    columns = tuple(columns)
    found: list[tuple[str, str]] = []
    for note in notes:
        parsed = kept_subject(note)
        if parsed is None:
            continue
        subject, noun = parsed
        if noun == "table":
            found.extend((t, note) for t in tables if _covers(subject, t.split("_")))
        else:
            found.extend((f"{t}.{c}", note) for t, c in columns
                         if _covers(subject, [*c.split("_"), *t.split("_")]))
    seen: set[str] = set()
    unique = []
    for name, note in found:
        if name not in seen:
            seen.add(name)
            unique.append((name, note))
    return tuple(unique)
