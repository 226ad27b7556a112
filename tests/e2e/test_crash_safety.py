"""Nothing lost, nothing doubled: kill -9 in the middle of a fan-out, then restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.crash_harness import kill_9_run

pytestmark = pytest.mark.slow

SUBSCRIBERS_PER_PLATFORM = 2_500
# Sends in flight plus outcomes not yet written, per platform: DeliveryWorker's documented
# duplicate bound with the default settings (concurrency 16 + flush size 50).
DUPLICATE_BOUND = 16 + 50


async def test_kill_9_in_the_middle_of_a_fan_out_loses_nothing(tmp_path: Path) -> None:
    run = await kill_9_run(tmp_path, SUBSCRIBERS_PER_PLATFORM)
    assert run.queued == 2 * SUBSCRIBERS_PER_PLATFORM
    assert run.delivered_at_kill < run.queued, "the fan-out ended before the kill"
    assert run.states == {"sent": run.queued}, run.states
    assert run.telegram_missing == 0, "a Telegram chat got nothing"
    assert run.discord_missing == 0, "a Discord channel got nothing"
    assert run.telegram_doubles <= DUPLICATE_BOUND, run.telegram_doubles
    # Discord checks the nonce each send carries: a resend after the crash is no new message.
    assert run.discord_doubles == 0, run.discord_doubles
