"""discord.py's rate-limit buckets in a fan-out to thousands of channels: swept in linear time."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

from discord.http import HTTPClient
from sqlalchemy.ext.asyncio import async_sessionmaker

from notifiers.discord.client import BUCKETS_BEFORE_SWEEP, BucketSweep, CodecastClient

ROUTE = "POST /channels/{channel_id}/messages"


def bucket_for(http: HTTPClient, channel: int) -> None:
    # What HTTPClient.request does for a message create in a channel it has not posted in.
    http.get_ratelimit(f"{ROUTE}:{channel}")


async def test_a_fan_out_to_thousands_of_channels_sweeps_a_logarithmic_number_of_times() -> None:
    http = HTTPClient(asyncio.get_running_loop())
    sweep = BucketSweep.install(http)
    examined = 0
    original = sweep._sweep

    def counting_sweep() -> None:
        nonlocal examined
        examined += len(http._buckets)
        original()

    sweep._sweep = counting_sweep
    channels = 20_000
    for channel in range(channels):
        bucket_for(http, channel)
    # Every bucket was used within five minutes: all are kept, as discord.py keeps them.
    assert len(http._buckets) == channels
    assert sweep.sweeps <= math.ceil(math.log2(channels / BUCKETS_BEFORE_SWEEP)) + 1
    # discord.py alone examines every bucket at each new one: ~n²/2, here 200 million.
    assert examined < 2 * channels


async def test_buckets_idle_for_five_minutes_are_still_dropped() -> None:
    loop = asyncio.get_running_loop()
    http = HTTPClient(loop)
    sweep = BucketSweep.install(http)
    for channel in range(1000):
        bucket_for(http, channel)
    for bucket in http._buckets.values():
        bucket._last_request = loop.time() - 301  # idle since before the window
    sweeps, channel = sweep.sweeps, 1000
    while sweep.sweeps == sweeps:
        bucket_for(http, channel)
        channel += 1
        assert channel < 10_000, "the idle buckets were never swept"
    assert sorted(http._buckets) == sorted(f"{ROUTE}:{c}" for c in range(1000, channel))


async def test_the_codecast_client_sweeps_its_buckets_so() -> None:
    client = CodecastClient(sessions=async_sessionmaker(), clock=lambda: datetime.now(UTC))
    assert isinstance(client.http._try_clear_expired_ratelimits, BucketSweep)
    assert client.bucket_sweep is client.http._try_clear_expired_ratelimits
