"""systemd's notify protocol: one datagram per state to $NOTIFY_SOCKET.

`Type=notify` units wait for READY=1 before counting the service as started, and with
`WatchdogSec=` restart it when WATCHDOG=1 pings stop: a wedged watch loop is restarted
instead of silently watching nothing. Outside systemd (no NOTIFY_SOCKET) every call is a
no-op. The raw protocol is a few lines, so no library is needed.
"""

from __future__ import annotations

import os
import socket
import time


class SystemdNotifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        self.address = address
        self._sock: socket.socket | None = None
        self._last_ping = 0.0
        if address:
            try:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)  # a full socket queue must never stall the watch
            except OSError:
                self._sock = None

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def watchdog_interval(self) -> float | None:
        """Half of WatchdogSec (systemd's advice), when this process is the one watched."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 2e6
        except ValueError:
            return None

    def notify(self, *lines: str) -> bool:
        if self._sock is None:
            return False
        try:
            self._sock.sendto("\n".join(lines).encode("utf-8"), self.address)
            return True
        except OSError:
            return False  # systemd gone or socket full: the watch itself must go on

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *((f"STATUS={status}",) if status else ()))

    def ping(self, status: str = "") -> bool:
        """At most once a second (or twice per WatchdogSec): a fast refresh loop must not flood."""
        now = time.monotonic()
        every = min(1.0, self.watchdog_interval() or 1.0)
        if now - self._last_ping < every:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1", *((f"STATUS={status}",) if status else ()))

    def stopping(self, status: str = "") -> bool:
        return self.notify("STOPPING=1", *((f"STATUS={status}",) if status else ()))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
