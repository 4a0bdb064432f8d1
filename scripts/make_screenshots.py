"""Write an SVG of every cockpit screen into screenshots/, from a throwaway sandbox.

Run: .venv/bin/python scripts/make_screenshots.py [--size 80x24] [--out screenshots]
The drill state is real: phase 10's flags are turned off and its cron stopped through the
engine first, so the screens show a rollback in progress rather than an idle board.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.engine import Engine  # noqa: E402
from cockpit.plan import load_plan  # noqa: E402
from cockpit.probes.drift import Alert  # noqa: E402
from cockpit.sandbox import create_sandbox  # noqa: E402
from cockpit.tui.app import CockpitApp  # noqa: E402


async def settle(pilot) -> None:
    app = pilot.app
    await app.ready.wait()
    for _ in range(50):
        await pilot.pause()
        if all(w.is_finished or w.group in ("run", "emergency-run") for w in app.workers):
            break
        await asyncio.sleep(0.05)
    app.clear_notifications()
    await pilot.pause()


async def shoot(config: Path, size: tuple[int, int], out: Path, suffix: str) -> list[Path]:
    written: list[Path] = []
    plan = load_plan(config)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)

    def save(name: str) -> None:
        path = out / f"{name}-{suffix}.svg"
        app.save_screenshot(path.name, str(out))
        written.append(path)

    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        save("board")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down", "down")  # the quarantine: destructive, asks for the phase id
        await settle(pilot)
        save("phase")
        await pilot.press("x")
        await settle(pilot)
        save("confirm-destructive")
        await pilot.press("escape", "escape", "c")
        await settle(pilot)
        save("checklist")
        await pilot.press("escape")
        app.engine.record_alert(Alert("flag_on", 10, "enable_production_dashboard", "phase 10 is rolled back but flag enable_production_dashboard is on again", app.now()))
        app.journal_changed()
        await pilot.press("w", "1")
        await settle(pilot)
        save("watch")
        await pilot.press("escape", "l")
        await settle(pilot)
        await pilot.press(*"dashboard timeouts under load", "enter", *"flags off, cron stopped")
        await settle(pilot)
        save("log")
        await pilot.press("escape", "j")
        await settle(pilot)
        save("journal")
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        save("emergency")
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        save("help")

    ro = CockpitApp(plan, operator="bob", auto_refresh=False, read_only=True)
    async with ro.run_test(size=size) as pilot:
        await settle(pilot)
        ro.save_screenshot(f"board-read-only-{suffix}.svg", str(out))
        written.append(out / f"board-read-only-{suffix}.svg")
    return written


async def prepare(config: Path) -> None:
    """Phase 10 half rolled back, through the real engine."""
    engine = await Engine.open(load_plan(config), operator="alice")
    try:
        for step in ("flags-off", "cron-stop"):
            await engine.execute(10, step)
        engine.tick(10, "before", "backup", True)
        engine.tick(10, "before", "flags", True)
    finally:
        await engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", help="WxH (repeatable; default 80x24 and 120x36)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = args.size or ["80x24", "120x36"]
    for size in sizes:
        width, height = (int(v) for v in size.lower().split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            config = create_sandbox(Path(tmp) / "sandbox").config_path
            asyncio.run(prepare(config))
            try:
                for path in asyncio.run(shoot(config, (width, height), out, size)):
                    print(path)
            finally:
                # the watch screenshot starts a detached watcher (`w`, `1`): it must not
                # outlive the throwaway sandbox for the next 24 hours
                subprocess.run([sys.executable, "-m", "cockpit", "watch", "--stop", "--config", str(config)],
                               cwd=ROOT, capture_output=True, timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
