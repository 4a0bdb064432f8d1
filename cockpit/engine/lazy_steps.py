"""The step kinds, loaded on first use rather than when the engine is imported.

Importing every step kind pulls in the crontab editor, croniter, the dump and restore
machinery: none of it is needed to open the engine and paint the board, and all of it
delayed the cockpit's first frame. These stand-ins import the real ones on first call.
"""

from __future__ import annotations

from typing import Any


def kind_for(step: Any) -> Any:
    from .steps import kind_for as real

    return real(step)


def StepContext(*args: Any, **kwargs: Any) -> Any:
    from .steps import StepContext as real

    return real(*args, **kwargs)

