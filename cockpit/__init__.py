"""rollback-cockpit: roll a production system back safely, phase by phase, and watch it."""

__version__ = "0.1.0"
