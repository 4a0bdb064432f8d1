"""The backup's streaming file check: chunked, C-speed scanning must give the verdict a
plain line-by-line reading gives, wherever the chunks are cut; and following a dump
while a real process writes it must check the whole file, or re-check it when the
file changed behind the follower."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.engine.steps.backup import BackupInvalid, DumpCheck, dump_and_check, verify_dump

TABLES = ("a", "b")
_LINE_CREATE = re.compile(rb"^CREATE TABLE (?:IF NOT EXISTS )?[`\"]?([A-Za-z0-9_]+)[`\"]?[\s(]")
PIECES = [b"CREATE TABLE `a` (\n", b"CREATE TABLE b(\n", b"xCREATE TABLE `b` (\n", b"INSERT INTO a VALUES\n", b"(1,2),\n",
          b"  \n", b"\n", b"-- Dump completed on x\n", b"-- Dump completed on x", b"   ", b"-- Dump comp", b"leted\n",
          b" " * 300 + b"z\n", b"CREATE TABLE `a` (" + b"x" * 400 + b"\n", b"\t\r\n"]


def reference(data: bytes) -> object:
    """The rules read line by line, the obvious way."""
    created, last = set(), b""
    for line in data.splitlines(keepends=True):
        match = _LINE_CREATE.match(line)
        if match:
            created.add(match.group(1).decode())
        if line.strip():
            last = line
    if not data or not last:
        return "empty"
    if any(t not in created for t in TABLES):
        return "lacks"
    if not last.startswith(b"-- Dump completed"):
        return "truncated"
    return len(data), hashlib.sha256(data).hexdigest()


def chunked(data: bytes, cuts: list[int]) -> object:
    check, previous = DumpCheck(TABLES), 0
    for cut in [*sorted(cuts), len(data)]:
        check.feed(data[previous:cut])
        previous = cut
    try:
        return check.result(Path("dump.sql"))
    except BackupInvalid as exc:
        return next(word for word in ("empty", "lacks", "truncated") if word in str(exc))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10), st.lists(st.integers(min_value=0, max_value=4000), max_size=5))
def test_chunked_check_gives_the_line_by_line_verdict(pieces: list[bytes], cuts: list[int]) -> None:
    data = b"".join(pieces)
    assert chunked(data, [c % (len(data) + 1) for c in cuts]) == reference(data)


def test_only_a_line_head_is_held_for_a_huge_line() -> None:
    check = DumpCheck(("a",))
    check.feed(b"CREATE TABLE `a` (\nINSERT INTO a VALUES ('")
    for _ in range(50):
        check.feed(b"x" * 65536)
    assert len(check.carry) <= DumpCheck.HEAD
    check.feed(b"');\n-- Dump completed on now\n")
    assert check.result(Path("d"))[0] == check.size


def _writer(tmp_path: Path, script: str) -> list[str]:
    tool = tmp_path / "slow-dump"
    tool.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    tool.chmod(0o755)
    return [str(tool)]


def test_following_a_dump_checks_what_a_slow_real_process_wrote(tmp_path: Path) -> None:
    out = tmp_path / "dump.sql"
    out.write_bytes(b"")
    argv = _writer(tmp_path, f"""f={out}
printf 'CREATE TABLE `a` (\\n' >> "$f"; sleep 0.1
i=0; while [ $i -lt 200 ]; do printf '(1,2),\\n' >> "$f"; i=$((i+1)); done; sleep 0.1
printf 'CREATE TABLE b(\\n' >> "$f"; sleep 0.05
printf -- '-- Dump completed on now\\n' >> "$f"
""")
    code, _, size, digest = asyncio.run(dump_and_check(argv, out, TABLES))
    assert code == 0 and (size, digest) == verify_dump(out, TABLES)


def test_a_file_cut_after_being_followed_is_checked_again(tmp_path: Path) -> None:
    out = tmp_path / "dump.sql"
    out.write_bytes(b"")
    argv = _writer(tmp_path, f"""f={out}
printf 'CREATE TABLE `a` (\\nCREATE TABLE b(\\n' >> "$f"; sleep 0.1
printf -- '-- Dump completed on now\\n' >> "$f"; sleep 0.1
truncate -s 20 "$f"
""")
    try:
        asyncio.run(dump_and_check(argv, out, TABLES))
    except BackupInvalid as exc:
        assert "truncated" in str(exc) or "lacks" in str(exc)
    else:
        raise AssertionError("a dump cut after it was followed was accepted")
