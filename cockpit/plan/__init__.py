"""The rollback plan: `phases.toml` loaded and validated into frozen dataclasses."""

from .errors import PlanError
from .loader import default_plan_path, load_plan, parse_plan_text
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
from .names import IDENTIFIER

__all__ = [
    "IDENTIFIER",
    "ActivityCheck",
    "ChecklistItem",
    "ColumnRef",
    "CronJob",
    "Phase",
    "Plan",
    "PlanError",
    "Step",
    "Target",
    "default_plan_path",
    "load_plan",
    "parse_plan_text",
]
