"""The step kinds, one module each; `kind_for(step)` picks the implementation."""

from __future__ import annotations

from cockpit.plan.model import Step

from .backup import BackupStep
from .base import StepContext, StepKind
from .check import CheckStep
from .cron import CronStep
from .flags import FlagsStep
from .manual import ManualStep
from .migration import MigrationStep
from .quarantine import QuarantineStep
from .restore import RestoreStep


def kind_for(step: Step) -> StepKind:
    return {
        "flags_off": lambda: FlagsStep(on=False),
        "flags_on": lambda: FlagsStep(on=True),
        "cron_stop": lambda: CronStep(stop=True),
        "cron_start": lambda: CronStep(stop=False),
        "backup": BackupStep,
        "migration": MigrationStep,
        "quarantine": QuarantineStep,
        "restore": RestoreStep,
        "manual": ManualStep,
        "check": CheckStep,
    }[step.kind]()


__all__ = ["StepContext", "StepKind", "kind_for"]
