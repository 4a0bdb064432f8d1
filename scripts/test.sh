#!/usr/bin/env bash
# Install what a fresh Debian machine lacks (MariaDB, cron, tmux; the package and its
# test extra in .venv), then run the whole suite. This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v crontab >/dev/null 2>&1 || need+=(cron)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
export PATH="$PATH:/usr/sbin"

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

# The suite starts its own throwaway MariaDB on loopback (one per xdist worker: each worker
# is a separate session with its own server, data directory and port).
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${COCKPIT_TEST_WORKERS:-auto}" "$@"
