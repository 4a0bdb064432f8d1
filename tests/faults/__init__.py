"""Fault suite: real processes, a real server and real files, broken on purpose.

Each module breaks one thing an on-call night can break (the database, the cockpit
process, the crontab, the plan file, a backup, a lock, a second operator, a secret) and
proves the cockpit says so in one line and loses nothing.
"""
