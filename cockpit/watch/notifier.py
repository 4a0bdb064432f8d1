"""Reaching the on-call engineer: apprise sends that can never wedge the watch.

The watch loop only queues a message; one sender thread delivers it. Each attempt runs
in its own daemon thread joined with a deadline, so a webhook that accepts the
connection and never answers costs one abandoned thread (bounded: past `MAX_HUNG` the
sender fails fast), never the watch. Attempts are retried with backoff a bounded number
of times; the result is journalled (`notify_sent` / `notify_failed`, channel named with
its secrets masked); a channel that keeps failing becomes an alert of its own through
`on_failure`, and its next success clears it through `on_recovery`.

Identical alerts are deduplicated upstream (one alert per episode); here a key that
flaps is notified at most once per `repeat_seconds`, and no more than `per_minute`
messages leave per minute (the excess is journalled as rate limited).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.journal import Journal, JournalError

MAX_HUNG = 4


class NotifyConfigError(Exception):
    """The notification URLs cannot be read safely; the watch refuses to start."""


@dataclass(frozen=True)
class NotifySettings:
    timeout: float = 10.0
    retries: int = 3  # attempts per channel
    backoff: float = 2.0  # first wait between attempts, doubled each time
    repeat_seconds: float = 900.0
    per_minute: int = 10

    @classmethod
    def from_env(cls) -> NotifySettings:
        """Test and tuning knobs: COCKPIT_NOTIFY_TIMEOUT, _RETRIES, _BACKOFF, _REPEAT, _PER_MINUTE."""
        def num(name: str, default: float) -> float:
            try:
                return float(os.environ.get(f"COCKPIT_NOTIFY_{name}", default))
            except ValueError:
                return default

        return cls(num("TIMEOUT", 10.0), max(1, int(num("RETRIES", 3))), num("BACKOFF", 2.0),
                   num("REPEAT", 900.0), max(1, int(num("PER_MINUTE", 10))))

# What deduplicates a message: an alert's (kind, phase, subject), or ("resolved", *that).
MessageKey = tuple[str | int | None, ...]


@dataclass(frozen=True)
class Message:
    alert_id: int
    key: MessageKey
    title: str
    body: str


def read_urls(env: str | None, file: Path | None) -> list[str]:
    """Space-separated URLs from the environment, plus those of an owner-only file (one or
    more per line, `#` comments). URLs carry tokens, so a file others can read is refused."""
    urls = (env or "").split()
    if file is not None:
        try:
            info = file.stat()
        except OSError as exc:
            raise NotifyConfigError(f"cannot read the notify URLs file {file}: {exc.strerror}") from None
        if info.st_mode & 0o077:
            raise NotifyConfigError(f"the notify URLs file {file} is readable by others (mode {info.st_mode & 0o777:o}); chmod 600 it")
        if info.st_uid != os.geteuid():
            raise NotifyConfigError(f"the notify URLs file {file} is not owned by this user")
        for line in file.read_text(encoding="utf-8").splitlines():
            urls += line.split("#", 1)[0].split()
    seen: list[str] = []
    for url in urls:
        if url not in seen:
            seen.append(url)
    return seen


def channel_name(url: str) -> str:
    """A channel as it may be journalled and shown: secrets masked, no query string."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://?"
    shown: str = plugin.url(privacy=True)  # type: ignore[no-untyped-call]  # apprise's url() is unannotated
    return shown.split("?", 1)[0]


@dataclass
class _Channel:
    url: str
    name: str
    failing: bool = False


@dataclass
class Notifier:
    urls: list[str]
    journal: Journal | None  # None: built only to validate the URLs (`cockpit watch --detach`)
    settings: NotifySettings = field(default_factory=NotifySettings)
    on_failure: Callable[[str, str], None] = lambda channel, error: None
    on_recovery: Callable[[str], None] = lambda channel: None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        import apprise

        bad = [u.split("://", 1)[0] for u in self.urls if apprise.Apprise.instantiate(u) is None]
        if bad:
            raise NotifyConfigError(f"unsupported or malformed notify URL(s) with scheme {', '.join(bad)}")
        self.channels = [_Channel(u, channel_name(u)) for u in self.urls]
        self._queue: queue.Queue[Message | None] = queue.Queue()
        self._last_sent: dict[MessageKey, float] = {}
        self._repeats: dict[MessageKey, int] = {}
        self._sent_times: deque[float] = deque()
        self._hung: list[threading.Thread] = []
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.failed = 0

    # -- the watch loop's side --------------------------------------------------------
    def start(self) -> None:
        if self.channels and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cockpit-notifier", daemon=True)
            self._thread.start()

    def submit(self, message: Message) -> None:
        """Never blocks."""
        if self.channels:
            self._queue.put(message)

    def stop(self, wait: float = 5.0) -> None:
        """Let queued messages go out for up to `wait` seconds, then leave."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(wait)
            self._thread = None

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # -- the sender thread ------------------------------------------------------------
    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self._deliver(message)
            except Exception as exc:  # noqa: BLE001 - the sender must outlive any single message
                self._journal("notify_failed", message, "*", 0, f"internal error: {exc.__class__.__name__}: {exc}")

    def _deliver(self, message: Message) -> None:
        now = self.clock()
        last = self._last_sent.get(message.key)
        if last is not None and now - last < self.settings.repeat_seconds:
            self._repeats[message.key] = self._repeats.get(message.key, 0) + 1
            return  # the same condition flapping: the first message still stands
        while self._sent_times and now - self._sent_times[0] > 60:
            self._sent_times.popleft()
        if len(self._sent_times) >= self.settings.per_minute:
            self._journal("notify_failed", message, "*", 0,
                          f"rate limited: more than {self.settings.per_minute} messages in a minute; see cockpit alerts")
            return
        self._sent_times.append(now)
        self._last_sent[message.key] = now
        repeats = self._repeats.pop(message.key, 0)
        body = message.body + (f"\n(also {repeats} more time(s) since the last message)" if repeats else "")
        for channel in self.channels:
            self._deliver_to(channel, message, body)

    def _deliver_to(self, channel: _Channel, message: Message, body: str) -> None:
        wait = self.settings.backoff
        error = ""
        for attempt in range(1, self.settings.retries + 1):
            started = time.monotonic()
            error = self._attempt(channel.url, message.title, body)
            if not error:
                self.sent += 1
                self._journal("notify_sent", message, channel.name, attempt, "", time.monotonic() - started)
                if channel.failing:
                    channel.failing = False
                    self.on_recovery(channel.name)
                return
            if attempt < self.settings.retries:
                time.sleep(wait)
                wait *= 2
        self.failed += 1
        self._journal("notify_failed", message, channel.name, self.settings.retries, error)
        if not channel.failing and message.key[:1] != ("notify_failed",):
            channel.failing = True
            self.on_failure(channel.name, error)

    def _attempt(self, url: str, title: str, body: str) -> str:
        """One send bounded by the timeout; returns "" on success or the reason."""
        self._hung = [t for t in self._hung if t.is_alive()]
        if len(self._hung) >= MAX_HUNG:
            return f"{len(self._hung)} earlier sends still hanging; not trying again yet"
        result: dict[str, object] = {}

        def send() -> None:
            import apprise

            try:
                plugin = apprise.Apprise.instantiate(url)
                result["ok"] = bool(plugin is not None and plugin.notify(body=body, title=title))
            except Exception as exc:  # noqa: BLE001 - reported as the attempt's error
                result["error"] = f"{exc.__class__.__name__}: {exc}"

        thread = threading.Thread(target=send, name="cockpit-notify-send", daemon=True)
        thread.start()
        thread.join(self.settings.timeout)
        if thread.is_alive():
            self._hung.append(thread)
            return f"no answer within {self.settings.timeout:g} s"
        if "error" in result:
            return str(result["error"])
        return "" if result.get("ok") else "the service refused or failed the message"

    def _journal(self, kind: str, message: Message, channel: str, attempts: int, error: str, seconds: float = 0.0) -> None:
        data: dict[str, object] = {"alert_id": message.alert_id, "channel": channel, "attempts": attempts}
        if error:
            data["error"] = error[:300]
        else:
            data["seconds"] = round(seconds, 3)
        if self.journal is None:
            return
        try:
            self.journal.append(kind, data=data)
        except JournalError:
            pass  # the journal is the watcher's to report; a send result is not worth dying for
