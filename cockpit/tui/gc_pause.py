"""Start-up without the garbage collector's full passes over what start-up builds.

Python's cyclic collector runs whenever enough new objects were allocated, and every
few runs it walks every tracked object in the process. Start-up allocates little else:
Textual and the cockpit's modules (classes, functions, dataclass machinery), the
board's widgets and styles. On the development machine one full pass landed in the
middle of the engine's import, behind the first frame: 37 ms of a ~250 ms path to live
data, plus a few 3 ms young-generation passes, all finding next to nothing (what
start-up builds stays alive for the whole session).

So `cockpit tui` pauses the collector while it starts, and once the first frame with
live data is painted (or the engine could not be opened) it moves everything alive
into the permanent generation (`gc.freeze`: later passes skip it, as they would skip
objects that never die anyway) and turns the collector back on. Reference counting
frees everything that is not in a cycle throughout, paused or not. What this keeps for
good is start-up's own cyclic garbage, frozen with the rest: measured on the sandbox,
~5,400 objects, ~0.6 MB, once per process (it does not grow with the session). Nothing
here runs unless `pause()` was called: an app built by a test leaves the collector alone.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the cyclic collector off for start-up (a no-op when it already is off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Start-up is over: freeze what it built and collect again. Idempotent."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
