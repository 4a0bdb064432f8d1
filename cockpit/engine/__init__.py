"""The step engine: guards, dry-runs, execution, and all state derived from the journal."""

from .confirm import EMERGENCY_TOKEN
from .engine import Engine
from .errors import EngineError, EngineRefused
from .session import Session
from .types import (
    AlertRecord,
    DryRun,
    GuardResult,
    Outcome,
    PhaseProgress,
    StepView,
    TickState,
    WatchState,
    status_label,
)

__all__ = [
    "EMERGENCY_TOKEN", "Engine", "EngineError", "EngineRefused", "Session", "AlertRecord", "DryRun", "GuardResult",
    "Outcome", "PhaseProgress", "StepView", "TickState", "WatchState", "status_label",
]
