"""What every step kind shares: the context it runs in and the three things it must do.

Defined in `engine/stepkind.py` (importable without loading every kind); re-exported
here so each kind module keeps importing it from its own package.
"""

from __future__ import annotations

from ..stepkind import StepContext, StepKind

__all__ = ["StepContext", "StepKind"]
