"""The embedded sandbox: the plan's tables, flags and cron jobs in a folder (or an empty
MySQL database) so drills, demos and tests run the real rollback code safely."""

from .create import MysqlSpec, SandboxError, SandboxResult, create_sandbox, default_sandbox_dir

__all__ = ["MysqlSpec", "SandboxError", "SandboxResult", "create_sandbox", "default_sandbox_dir"]
