"""The CLI's last line of defence, in real processes: a closed pipe ends quietly (141, no
crash file), hostile input ends in one line (never a traceback or an `internal error`),
phase ids are bounded at the boundary, and nothing the CLI prints carries an escape."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit import cli

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "evil \x1b]0;pwned\x07\x1b[2J\x1b[H [/] [bold]x \x9b31m\x07\x7f end"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "COCKPIT_OPERATOR": "tester"}
    env.pop("MYSQL_PWD", None)
    return env


def _cockpit(tmp_path: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args], capture_output=True, timeout=120, env=_env(tmp_path), cwd=ROOT, **kw
    )


def _no_crash_files(tmp_path: Path) -> None:
    crashes = tmp_path / "state" / "rollback-cockpit" / "crashes"
    assert not crashes.exists() or not any(crashes.iterdir()), list(crashes.iterdir())


def test_output_into_a_closed_pipe_ends_quietly_with_141(tmp_path: Path, sandbox: Path) -> None:
    # more than a pipe buffer of journal, so the writer must meet the closed pipe
    for _ in range(3):
        noted = _cockpit(tmp_path, "note", "x" * 40_000, "--config", str(sandbox))
        assert noted.returncode == 0, noted.stderr
    script = (
        f"set -o pipefail; {sys.executable} -m cockpit journal --config {sandbox} | head -c 10 >/dev/null; "
        'echo "rc=${PIPESTATUS[0]}" >&2'
    )
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, env=_env(tmp_path), cwd=ROOT)
    assert run.stderr.strip() == "rc=141", run.stderr
    _no_crash_files(tmp_path)


def test_help_into_grep_q_is_quiet(tmp_path: Path) -> None:
    script = f"{sys.executable} -m cockpit --help | grep -q usage; echo \"rc=${{PIPESTATUS[0]}} grep=${{PIPESTATUS[1]}}\" >&2"
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, env=_env(tmp_path), cwd=ROOT)
    lines = run.stderr.strip().splitlines()
    assert lines[-1] in ("rc=0 grep=0", "rc=141 grep=0"), run.stderr
    assert len(lines) == 1, run.stderr  # nothing but our echo: no traceback, no "Exception ignored"
    _no_crash_files(tmp_path)


@pytest.mark.parametrize("argv", [["run", "99999999999999999999", "drop"], ["steps", "0"], ["note", "x", "--phase", "-3"],
                                  ["journal", "--phase", "1" * 5000]])
def test_phase_ids_are_bounded_at_the_boundary(tmp_path: Path, sandbox: Path, argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--config", str(sandbox)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "not a phase id" in err and "Traceback" not in err


def test_deeply_nested_plan_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    plan = tmp_path / "deep.toml"
    plan.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    run = _cockpit(tmp_path, "check", "--config", str(plan))
    err = run.stderr.decode()
    assert run.returncode in (1, 2), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    _no_crash_files(tmp_path)


def test_out_of_memory_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # /dev/zero as the plan: an unbounded reader runs out of memory (bounded here by an
    # address-space limit so the test cannot take the machine down); a loader that refuses
    # non-regular files says so first. Either way: one line, no crash file.
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    run = _cockpit(tmp_path, "check", "--config", "/dev/zero", preexec_fn=limit)
    err = run.stderr.decode()
    assert run.returncode in (1, 2), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    _no_crash_files(tmp_path)


def test_escapes_never_reach_stdout_or_stderr(tmp_path: Path, sandbox: Path) -> None:
    noted = _cockpit(tmp_path, "note", HOSTILE, "--phase", "10", "--config", str(sandbox))
    assert noted.returncode == 0, noted.stderr
    journal = _cockpit(tmp_path, "journal", "--config", str(sandbox))
    assert journal.returncode == 0
    assert b"\x1b" not in journal.stdout and b"\x07" not in journal.stdout and b"\xc2\x9b" not in journal.stdout
    assert b"evil" in journal.stdout and b"[/] [bold]x" in journal.stdout and b"end" in journal.stdout
    # the journal keeps the original bytes; only views sanitize
    as_json = _cockpit(tmp_path, "journal", "--json", "--config", str(sandbox))
    assert "\\u001b]0;pwned" in as_json.stdout.decode()
    # argparse echoes what it refuses; a missing plan file is named in fail()'s line
    bad_choice = _cockpit(tmp_path, HOSTILE)
    assert bad_choice.returncode == 2 and b"\x1b" not in bad_choice.stderr and b"evil" in bad_choice.stderr
    missing = _cockpit(tmp_path, "status", "--config", str(tmp_path / HOSTILE))
    assert missing.returncode == 2 and b"\x1b" not in missing.stderr and b"\x07" not in missing.stderr
    assert b"[bold]x" in missing.stderr  # the file name (the part after the last /)


def test_clean_stream_keeps_lines_and_tabs(capsys) -> None:
    stream = cli.CleanStream(sys.stdout)
    stream.write("a\tb\n\x1b[31mred\x1b[0m\n")
    stream.flush()
    assert capsys.readouterr().out == "a\tb\nred\n"
