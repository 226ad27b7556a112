"""discord.py's rate-limit buckets in a fan-out to thousands of channels: swept in linear time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import ItemsView
from datetime import UTC, datetime

from discord.http import HTTPClient, Ratelimit
from sqlalchemy.ext.asyncio import async_sessionmaker

from notifiers.discord.client import (
    BUCKET_IDLE_SECONDS,
    BUCKETS_BEFORE_SWEEP,
    BucketSweep,
    CodecastClient,
)

ROUTE = "POST /channels/{channel_id}/messages"


def bucket_for(
    http: HTTPClient, channel: int, *, window: float | None = 5.0, idle: float = 0.0
) -> Ratelimit:
    """What HTTPClient.request does for a message create in a channel, and Discord's answer:
    a window of `window` more seconds in which the bucket's count holds (None: no headers);
    then `idle` seconds without a request."""
    bucket = http.get_ratelimit(f"{ROUTE}:{channel}")
    now = asyncio.get_running_loop().time()
    if window is not None:
        bucket.limit, bucket.remaining, bucket.dirty = 5, 4, True
        bucket.expires = now + window
    bucket._last_request = now - idle
    return bucket


class CountingBuckets(dict[str, Ratelimit]):
    """discord.py's buckets, counting how many a sweep looked at."""

    examined = 0

    def items(self) -> ItemsView[str, Ratelimit]:
        self.examined += len(self)
        return super().items()


async def test_a_fan_out_to_thousands_of_channels_sweeps_a_logarithmic_number_of_times() -> None:
    http = HTTPClient(asyncio.get_running_loop())
    sweep = BucketSweep.install(http)
    http._buckets = buckets = CountingBuckets()
    channels = 20_000
    for channel in range(channels):
        bucket_for(http, channel)
    # Every channel is in its window: all buckets are kept, as discord.py keeps them.
    assert len(http._buckets) == channels
    assert sweep.sweeps <= math.ceil(math.log2(channels / BUCKETS_BEFORE_SWEEP)) + 1
    # discord.py alone examines every bucket at each new one: ~n²/2, here 200 million.
    assert buckets.examined < 2 * channels


async def test_a_sweep_drops_the_buckets_that_hold_no_limit_and_keeps_the_others() -> None:
    loop = asyncio.get_running_loop()
    http = HTTPClient(loop)
    sweep = BucketSweep.install(http)
    kept: set[str] = set()
    idle = BUCKET_IDLE_SECONDS
    for channel in range(BUCKETS_BEFORE_SWEEP - 1):
        kind = channel % 5
        if kind == 0:  # its window is over: the next request starts a new one anyway
            bucket_for(http, channel, window=-1.0, idle=idle)
        elif kind == 1:  # Discord never said (no headers), nothing in flight
            bucket_for(http, channel, window=None, idle=idle)
        elif kind == 2:  # in its window: the count left must be kept
            bucket_for(http, channel, window=30.0, idle=idle)
            kept.add(f"{ROUTE}:{channel}")
        elif kind == 3:  # a message in flight, its window over
            bucket_for(http, channel, window=-1.0, idle=idle).outgoing = 1
            kept.add(f"{ROUTE}:{channel}")
        else:  # used a moment ago (a request may hold it, about to enter)
            bucket_for(http, channel, window=None, idle=1.0)
            kept.add(f"{ROUTE}:{channel}")
    assert sweep.sweeps == 0
    bucket_for(http, 10_000)  # the 256th bucket: a sweep
    kept.add(f"{ROUTE}:10000")
    assert sweep.sweeps == 1
    assert set(http._buckets) == kept


async def test_posting_in_ever_new_channels_keeps_a_bounded_number_of_buckets() -> None:
    # A bot whose channels come and go for hours: each channel's window is over and a
    # minute old when the next ones are posted in; discord.py would keep five minutes.
    http = HTTPClient(asyncio.get_running_loop())
    BucketSweep.install(http)
    most = 0
    for channel in range(50_000):
        bucket_for(http, channel, window=-1.0, idle=BUCKET_IDLE_SECONDS)
        most = max(most, len(http._buckets))
    assert most <= 2 * BUCKETS_BEFORE_SWEEP


async def test_the_codecast_client_sweeps_its_buckets_so() -> None:
    client = CodecastClient(sessions=async_sessionmaker(), clock=lambda: datetime.now(UTC))
    assert isinstance(client.http._try_clear_expired_ratelimits, BucketSweep)
    assert client.bucket_sweep is client.http._try_clear_expired_ratelimits
