"""The headless watch: `cockpit watch` runs the TUI's probes and drift rules for 24-48 h
after a rollback, outside any terminal, and reaches a person through `apprise`.

Modules, one job each:
- record:    journal -> the watch period, the watcher's heartbeat, alerts and acks (pure)
- expected:  journal -> which phases are watched and what they should look like (pure)
- pidfile:   one watcher per target (a flock'd pidfile next to the journal)
- sdnotify:  systemd readiness / watchdog pings over NOTIFY_SOCKET
- notifier:  apprise sends with deadlines, retries, dedup and rate limits
- loop:      the watcher itself
- coverage:  hours covered per phase and the gaps (checklist evidence)
- spawn:     starting a detached watcher (CLI --detach and the TUI)
- attach:    the TUI following a running watcher
"""
