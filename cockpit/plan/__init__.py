"""The rollback plan: `phases.toml` loaded and validated into frozen dataclasses."""

from .errors import PlanError
from .loader import default_plan_path, load_plan, parse_plan_text
from .names import IDENTIFIER
from .model import (
    ActivityCheck,
    ChecklistItem,
    ColumnRef,
    CronJob,
    Phase,
    Plan,
    Step,
    Target,
)

__all__ = [
    "IDENTIFIER", "PlanError", "default_plan_path", "load_plan", "parse_plan_text",
    "ActivityCheck", "ChecklistItem", "ColumnRef", "CronJob", "Phase", "Plan", "Step", "Target",
]
