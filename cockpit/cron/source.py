"""Read and write the crontab named by the plan's `[cron]` section.

Three forms: `user` (a user's crontab, through the `crontab` command), `file` (a crontab
file) and `system` (an /etc/cron.d style file whose lines carry a user field). The raw
text is kept exactly as read: its sha256 is the fingerprint an edit is checked against,
and it is what a backup holds.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crontab import CronTab

from cockpit.cron.errors import CronError
from cockpit.cron.scan import CronLine, fingerprint, parse_text
from cockpit.paths import fsync_dir
from cockpit.plan.model import CronSource

CRONTAB_TIMEOUT_S = 15
TEMP_SUFFIX = ".cockpit-tmp"
# Where crontab(1) keeps users' crontabs (Debian, SUSE, Red Hat), first existing wins.
SPOOL_DIRS = ("/var/spool/cron/crontabs", "/var/spool/cron/tabs", "/var/spool/cron")
RECHECK_S = 60.0  # a user crontab is read in full at least this often, whatever the spool says


@dataclass(frozen=True)
class CronText:
    """The crontab as read: raw text, its fingerprint and the parsed job lines."""

    source: CronSource
    text: str
    fingerprint: str
    lines: tuple[CronLine, ...]
    read_at: float

    @property
    def label(self) -> str:
        return source_label(self.source)

    def crontab(self) -> CronTab:
        """The text as a python-crontab object, for callers that want its API."""
        if self.source.source == "system":
            tab = CronTab(user=False)
            tab.lines = self.text.split("\n")
            return tab
        return CronTab(tab=self.text)


def source_label(source: CronSource) -> str:
    if source.source == "user":
        return f"crontab of {source.user or 'the current user'}"
    kind = "system crontab" if source.source == "system" else "crontab file"
    return f"{kind} {source.path}"


def read_crontab(source: CronSource) -> CronText:
    """Read the crontab now. Raises CronError with one clear line when it cannot."""
    if source.source == "user":
        text = _read_user(source.user)
    elif source.source in ("file", "system"):
        text = _read_file(_file_path(source))
    else:
        raise CronError(f"unknown cron source \"{source.source}\"")
    return CronText(
        source=source,
        text=text,
        fingerprint=fingerprint(text),
        lines=_parsed(text, source.source == "system"),
        read_at=time.time(),
    )


@lru_cache(maxsize=8)
def _parsed(text: str, system: bool) -> tuple[CronLine, ...]:
    """The parsed lines of a text already parsed once. Keyed on the whole text, so an
    unchanged crontab (what a refresh reads nearly every time) costs no python-crontab
    parse, and any changed byte parses afresh; the lines are frozen, safe to share."""
    return parse_text(text, system=system)


class CrontabReader:
    """The live probe's crontab, read every refresh at the price of what changed.

    A crontab file (`file`, `system`) is read in full every time: one read of a small
    file, and the parse is reused while the text is byte for byte the same. A user crontab
    costs a fork and exec of `crontab -l` per read, so it is read again only when the spool
    says something may have changed: crontab(1) writes through a temporary file renamed
    into the spool directory, which moves the directory's mtime, and cron itself reloads
    on that same signal. The user's own spool file is stat'ed too where we may (root).
    Without a spool directory it is read every time, and it is read at least every
    `recheck_s` seconds whatever the spool says. The signal is taken before the read, so
    an edit racing the read is seen by the next refresh. A reused text carries the time
    it was last confirmed (`read_at`): the spool showed no change at that moment.

    The guards that edit the crontab never use this: they read it afresh (read_crontab)."""

    def __init__(self, source: CronSource, clock: Callable[[], float] = time.time, recheck_s: float = RECHECK_S,
                 spool_dirs: tuple[str, ...] = SPOOL_DIRS) -> None:
        self.source = source
        self.clock = clock
        self.recheck_s = recheck_s
        self.spool_dirs = spool_dirs
        self.reads = 0  # full reads (`crontab -l` for a user crontab): tests and benchmarks
        self._last: CronText | None = None
        self._last_full_read = 0.0
        self._signature: tuple[object, ...] | None = None

    def read(self) -> CronText:
        """The crontab now; raises CronError as read_crontab does."""
        if self.source.source != "user":
            self.reads += 1
            return read_crontab(self.source)
        now = self.clock()
        signature = spool_signature(self.source.user, self.spool_dirs)
        last = self._last
        if (last is not None and signature is not None and signature == self._signature
                and now - self._last_full_read < self.recheck_s):
            return dataclasses.replace(last, read_at=now)
        self._last = None  # a failed read must not leave an older text to be reused
        text = read_crontab(self.source)
        self.reads += 1
        self._last, self._signature, self._last_full_read = text, signature, now
        return text


def spool_signature(user: str, spool_dirs: tuple[str, ...] = SPOOL_DIRS) -> tuple[object, ...] | None:
    """What changes when a user crontab changes through crontab(1): the spool directory's
    identity and times, and the user's spool file's where it may be stat'ed. None when
    there is no spool directory (no cheap signal: read every time)."""
    for directory in spool_dirs:
        try:
            st = os.stat(directory)
        except OSError:
            continue
        name = user or getpass.getuser()
        own: tuple[int, int, int, int] | str
        try:
            fst = os.stat(os.path.join(directory, name))
            own = (fst.st_ino, fst.st_size, fst.st_mtime_ns, fst.st_ctime_ns)
        except FileNotFoundError:
            own = "absent"
        except OSError:
            own = "not ours to stat"  # the directory's times still move on every crontab(1) write
        return (directory, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, own)
    return None


def write_crontab(source: CronSource, text: str) -> None:
    """Replace the whole crontab with `text`. Files are replaced atomically (temp file,
    fsync, rename) so cron never sees half a file and a failure leaves the original."""
    if source.source == "user":
        _write_user(source.user, text)
    else:
        _replace_file(_file_path(source), text)


# -- files ------------------------------------------------------------------------------
def _file_path(source: CronSource) -> Path:
    if source.path is None:
        raise CronError(f"cron source \"{source.source}\" needs a path")
    # Resolve symlinks so the atomic rename replaces the real file, not the link.
    return Path(os.path.realpath(source.path))


def _read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CronError(f"crontab file {path} does not exist") from None
    except IsADirectoryError:
        raise CronError(f"crontab file {path} is a directory") from None
    except OSError as exc:
        raise CronError(f"cannot read crontab file {path}: {exc.strerror or exc}") from None
    return data.decode("utf-8", "surrogateescape")


def _replace_file(path: Path, text: str) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise CronError(f"cannot write crontab file {path}: {exc.strerror or exc}") from None
    # The temp name starts with a dot: cron (run-parts naming) ignores it in /etc/cron.d.
    # It carries our pid so a later write can tell a crashed writer's leftover from a
    # concurrent writer's file in progress.
    _sweep_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise CronError(f"cannot write crontab file {path}: {exc.strerror or exc}; original left intact") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CronError(f"cannot write crontab file {path}: {exc.strerror or exc}; original left intact") from None


def _sweep_stale_temps(path: Path) -> None:
    """Remove temp files a writer killed mid-write (kill -9, power loss) left next to the
    crontab; a file whose writer is still alive is left alone. Best effort: a leftover
    is clutter, never a reason to refuse the write."""
    prefix = f".{path.name}."
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for candidate in candidates:
        pid_text = candidate.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            candidate.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the user crontab (through the `crontab` command) -----------------------------------
def _crontab_argv(user: str) -> list[str]:
    binary = shutil.which("crontab")
    if binary is None:
        raise CronError("the `crontab` command is not installed; use [cron] source = \"file\" or \"system\"")
    argv = [binary]
    if user and user != getpass.getuser():
        argv += ["-u", user]
    return argv


def _run_crontab(argv: list[str], what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, capture_output=True, timeout=CRONTAB_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise CronError(f"{what}: `crontab` did not answer within {CRONTAB_TIMEOUT_S}s") from None
    except OSError as exc:
        raise CronError(f"{what}: {exc.strerror or exc}") from None


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "no message"


def _read_user(user: str) -> str:
    what = f"cannot read the crontab of {user or 'the current user'}"
    proc = _run_crontab([*_crontab_argv(user), "-l"], what)
    if proc.returncode != 0:
        if b"no crontab for" in proc.stderr:
            return ""
        raise CronError(f"{what}: {_first_line(proc.stderr)}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def _write_user(user: str, text: str) -> None:
    """Install `text` with `crontab FILE`, as python-crontab's write does, but with the
    exact text: python-crontab would re-render every line, including ones we never touched."""
    what = f"cannot write the crontab of {user or 'the current user'}"
    argv = _crontab_argv(user)
    if text and not text.endswith("\n"):
        text += "\n"  # crontab(1) rejects a last line without a newline
    fd, tmp = tempfile.mkstemp(prefix="cockpit-crontab.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))
        proc = _run_crontab([*argv, tmp], what)
    finally:
        os.unlink(tmp)
    if proc.returncode != 0:
        raise CronError(f"{what}: {_first_line(proc.stderr)}; original left intact")
