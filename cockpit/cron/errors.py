"""Crontab failures as one-line messages the operator can act on."""


class CronError(Exception):
    """The crontab could not be read or written; the message is one clear line and never
    contains a traceback or a credential."""


class CronChanged(CronError):
    """The crontab changed between planning an edit and applying it. Nothing was written,
    so the other edit is kept; the operator re-plans to see it."""


class CronRefused(CronError):
    """The change must not be applied as planned (e.g. a start that would restore nothing
    because someone else commented the job out). Nothing was written."""
