"""The crontab as a source the cockpit reads and edits safely.

`source` reads/writes the raw text, `scan` turns it into lines matched against the plan's
jobs, `edit` computes and applies the stop/start changes. Policy (when a stop is allowed)
lives in the engine, never here.
"""

from cockpit.cron.errors import CronChanged, CronError, CronRefused

__all__ = ["CronChanged", "CronError", "CronRefused"]
