"""`python -m cockpit` is the same as the `cockpit` command."""

from cockpit.cli import main

raise SystemExit(main())
