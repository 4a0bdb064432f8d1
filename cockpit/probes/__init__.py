"""Read-only views of the live system; each returns timestamped readings."""
