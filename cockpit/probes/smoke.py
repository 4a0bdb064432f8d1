"""Run the plan's HTTP smoke checks: read-only GETs with hard timeouts, all at once.

httpx is the client (timeouts on connect, read, write and pool; no retries hiding a
flapping endpoint). Redirects are not followed: a login page that starts redirecting to
an error page must not count as up because the error page answers 200. Only the first
64 KiB of a body are read for `contains`, so a huge page cannot stall the check."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from cockpit.plan.smoke import SmokeCheck

BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class SmokeResult:
    """One HTTP smoke check's answer."""

    id: str
    url: str
    phase: int | None
    ok: bool
    status: int | None  # None: no answer (refused, timed out)
    detail: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def _one(client: httpx.AsyncClient, check: SmokeCheck) -> SmokeResult:
    started = time.monotonic()
    try:
        async with client.stream("GET", check.url, timeout=httpx.Timeout(check.timeout_s)) as response:
            body = b""
            if check.contains:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= BODY_LIMIT:
                        break
            status = response.status_code
    except httpx.TimeoutException:
        return SmokeResult(check.id, check.url, check.phase, False, None, f"no answer within {check.timeout_s:g}s",
                           time.monotonic() - started)
    except httpx.HTTPError as exc:
        reason = str(exc) or exc.__class__.__name__
        return SmokeResult(check.id, check.url, check.phase, False, None, f"unreachable: {reason}", time.monotonic() - started)
    elapsed = time.monotonic() - started
    if status != check.status:
        return SmokeResult(check.id, check.url, check.phase, False, status, f"HTTP {status}, expected {check.status}", elapsed)
    if check.contains and check.contains not in body.decode("utf-8", "replace"):
        return SmokeResult(check.id, check.url, check.phase, False, status, f"HTTP {status} but the page lacks \"{check.contains}\"",
                           elapsed)
    return SmokeResult(check.id, check.url, check.phase, True, status,
                       f"HTTP {status}" + (" with the expected text" if check.contains else ""), elapsed)


async def run_smoke(checks: tuple[SmokeCheck, ...]) -> list[SmokeResult]:
    """Every check concurrently; a failing one never stops the others."""
    if not checks:
        return []
    async with httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": "rollback-cockpit smoke check"}) as client:
        return list(await asyncio.gather(*(_one(client, c) for c in checks)))


def summary(results: list[SmokeResult]) -> str:
    failed = [r for r in results if not r.ok]
    if not failed:
        return f"{len(results)}/{len(results)} smoke checks passed"
    return f"{len(results) - len(failed)}/{len(results)} passed; failed: " + "; ".join(f"{r.id} ({r.detail})" for r in failed)
